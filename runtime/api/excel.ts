/**
 * The Excel publisher: `GET /api/publishers/{pipe}/excel[/{filename}]` serves the output of a pipe
 * whose sink is csv_endpoint as an .xlsx workbook, with the same columns, header and values as
 * the CSV publisher (`since`, `limit` and the URL parameters bound to `_B` work the same).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { DtlRuntimeError } from '../../compiler/dtl/runtime.js';
import { csvOptionsFrom, fieldText, type CsvOptions } from '../components/sinks/csv-format.js';
import { bindingsFromUrl, publishedEntities, publisher, publisherHeaders, PublishError } from '../service/publishing.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { XLSX_TYPE, xlsxWorkbook, type Cell } from '../service/xlsx.js';
import { ApiError } from './errors.js';
import { intParam, param, querySchema, stringParam } from './util.js';

function apiError(err: unknown): unknown {
  if (err instanceof PublishError) return new ApiError(err.status, err.code, err.message);
  if (err instanceof DtlRuntimeError) return new ApiError(422, 'TRANSFORM_FAILED', `a transform failed: ${err.toString()}`);
  return err;
}

const params = (withFilename: boolean) => ({
  type: 'object',
  properties: { id: { type: 'string', description: 'The pipe id' }, ...(withFilename ? { filename: { type: 'string', description: 'The filename for the Content-Disposition header' } } : {}) },
  required: ['id', ...(withFilename ? ['filename'] : [])],
});

export const excelPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  const excel = async (request: FastifyRequest, reply: FastifyReply) => {
    const q = request.query as { since?: string; limit?: number };
    let body: Buffer;
    let headers: Record<string, string>;
    try {
      const p = publisher(rt, param(request), 'csv_endpoint');
      let options: CsvOptions;
      try {
        options = csvOptionsFrom(p.pipe.sink.config);
      } catch (err) {
        throw new ApiError(409, 'PIPE_NOT_RUNNABLE', `the csv_endpoint sink of pipe "${p.pipe.id}": ${(err as Error).message}`);
      }
      const entities = publishedEntities(rt, p, { since: q.since, limit: q.limit, bindings: bindingsFromUrl(request.url) });
      async function* rows(): AsyncGenerator<Cell[]> {
        if (options.includeHeader) yield options.columns.map((c) => ({ text: c, numeric: false }));
        for await (const e of entities) {
          if (options.skipDeleted && e._deleted === true) continue;
          yield options.columns.map((c) => fieldText(Object.prototype.hasOwnProperty.call(e, c) ? e[c] : null));
        }
      }
      body = await xlsxWorkbook(rows(), p.pipe.id);
      headers = await publisherHeaders(rt, p);
    } catch (err) {
      throw apiError(err);
    }
    const filename = (request.params as { filename?: string }).filename;
    if (filename) reply.header('Content-Disposition', `attachment; filename="${filename.replace(/[^\x20-\x7e]|["\\]/g, '_')}"`);
    return reply.headers(headers).type(XLSX_TYPE).send(body);
  };
  const schema = (withFilename: boolean) => ({
    schema: {
      summary: withFilename ? 'The published entities as an Excel workbook, with a filename for Content-Disposition' : 'The published entities of a pipe with a csv_endpoint sink, as an Excel (.xlsx) workbook; the URL parameters are bound to _B',
      tags: ['publishers'],
      params: params(withFilename),
      querystring: querySchema({ since: stringParam('Continue after this token (JSON pull)'), limit: intParam('At most this many entities (default: all)') }),
    },
  });
  app.get('/publishers/:id/excel', schema(false), excel);
  app.get('/publishers/:id/excel/:filename', schema(true), excel);
  app.options('/publishers/:id/excel', { schema: { summary: "Answers Office applications' OPTIONS probe of the Excel publisher", tags: ['publishers'], params: params(false) } }, async (_request, reply) => reply.type('text/plain; charset=utf-8').send(''));
};
