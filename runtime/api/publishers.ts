/**
 * Publishers: the output of pipes whose sink is an endpoint, computed on request and streamed.
 *
 * - `GET /api/publishers/{pipe}/entities[/{filename}]` (sink http_endpoint): a JSON array, JSON
 *   pull protocol (`since`, `limit`) with the X-Dataset-* headers.
 * - `GET /api/publishers/{pipe}/csv[/{filename}]` (sink csv_endpoint) and
 *   `GET /api/publishers/{pipe}/xml[/{filename}]` (sink xml_endpoint).
 *
 * Every URL parameter is bound to `_B` for the pipe's DTL transforms. The first entity is computed
 * before the response starts, so that a failing transform or a bad parameter still gets a proper
 * error status; a failure later cuts the response off (and is logged).
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { DtlRuntimeError } from '../../compiler/dtl/runtime.js';
import { stringifyValue } from '../../compiler/values/json.js';
import type { Entity } from '../../compiler/values/types.js';
import { charsetOf, CsvWriter, csvOptionsFrom, streamEncoder } from '../components/sinks/csv-format.js';
import { XmlWriter, xmlOptionsFrom } from '../components/sinks/xml-format.js';
import { bindingsFromUrl, publishedEntities, publisher, publisherHeaders, PublishError, type EndpointSinkType, type Publisher } from '../service/publishing.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { ApiError } from './errors.js';
import { intParam, param, querySchema, stringParam } from './util.js';

interface PublishQuery {
  since?: string;
  limit?: number;
  subset?: string;
}

const CHUNK = 64 * 1024;

const publishQuery = querySchema({
  since: stringParam('Continue after this token: the `_updated` of the last entity received (JSON pull)'),
  limit: intParam('At most this many entities (default: all)'),
  subset: stringParam('Subsets are not supported (404)'),
});

const params = (withFilename: boolean) => ({
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The pipe id; percent-encoded or raw.' },
    ...(withFilename ? { filename: { type: 'string', description: 'The filename for the Content-Disposition header' } } : {}),
  },
  required: ['id', ...(withFilename ? ['filename'] : [])],
});

function apiError(err: unknown): unknown {
  if (err instanceof PublishError) return new ApiError(err.status, err.code, err.message);
  if (err instanceof DtlRuntimeError) return new ApiError(422, 'TRANSFORM_FAILED', `a transform failed: ${err.toString()}`);
  return err;
}

/** `attachment; filename="x.csv"` (with an RFC 5987 form for non-ASCII names), or null without a filename. */
function contentDisposition(filename: string | undefined, disposition: unknown): string | null {
  if (!filename) return null;
  const kind = disposition === 'inline' ? 'inline' : 'attachment';
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return ascii === filename ? `${kind}; filename="${filename}"` : `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Starts the entity stream and waits for its first entity (or its end, or its error). */
async function primed(source: AsyncGenerator<Entity>): Promise<AsyncGenerator<Entity>> {
  const first = await source.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* source;
  })();
}

/** Text pieces gathered into chunks of about CHUNK characters, then encoded. */
function textStream(pieces: AsyncIterable<string>, encode: (s: string) => Buffer): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    let buf = '';
    for await (const piece of pieces) {
      buf += piece;
      if (buf.length >= CHUNK) {
        yield encode(buf);
        buf = '';
      }
    }
    yield encode(buf);
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: CHUNK });
}

export const publishersPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  /** The pipe behind the URL (404 unless its sink is `sinkType`). */
  function lookup(request: FastifyRequest, sinkType: EndpointSinkType): Publisher {
    try {
      const p = publisher(rt, param(request), sinkType);
      const q = request.query as PublishQuery;
      if (q.subset !== undefined) throw new PublishError(404, 'NOT_FOUND', `pipe "${p.pipe.id}" has no subset ${q.subset} (subsets are not supported)`);
      return p;
    } catch (err) {
      throw apiError(err);
    }
  }

  /** Starts the published entities and waits for the first one: errors so far are 4xx. */
  async function start(request: FastifyRequest, reply: FastifyReply, p: Publisher): Promise<AsyncGenerator<Entity>> {
    const q = request.query as PublishQuery;
    const controller = new AbortController();
    reply.raw.on('close', () => controller.abort());
    try {
      const source = publishedEntities(rt, p, {
        since: q.since,
        limit: q.limit,
        bindings: bindingsFromUrl(request.url),
        signal: controller.signal,
        onFailure: (f) => request.log.warn({ pipe: p.pipe.id, entity: f.entity?._id, err: f.error.message }, 'a transform refused an entity; it is left out of the published output'),
      });
      return await primed(source);
    } catch (err) {
      throw apiError(err);
    }
  }

  /** Sink settings that fail are config errors of the pipe (409). */
  function sinkSetting<T>(p: Publisher, make: () => T): T {
    try {
      return make();
    } catch (err) {
      throw new ApiError(409, 'PIPE_NOT_RUNNABLE', `the ${p.pipe.sink.type} sink of pipe "${p.pipe.id}": ${(err as Error).message}`);
    }
  }

  function filenameOf(request: FastifyRequest, p: Publisher): string | undefined {
    const fromPath = (request.params as { filename?: string }).filename;
    return fromPath || (p.pipe.sink.config.filename as string | undefined) || undefined;
  }

  function sendStream(request: FastifyRequest, reply: FastifyReply, stream: Readable): FastifyReply {
    stream.on('error', (err) => request.log.error({ err, pipe: param(request) }, 'publisher stream failed; the response was cut off'));
    return reply.send(stream);
  }

  // ------------------------------------------------------------------------------ JSON

  const json = async (request: FastifyRequest, reply: FastifyReply) => {
    const p = lookup(request, 'http_endpoint');
    const entities = await start(request, reply, p);
    reply.headers(await publisherHeaders(rt, p));
    const disposition = contentDisposition(filenameOf(request, p), p.pipe.sink.config.content_disposition);
    if (disposition) reply.header('Content-Disposition', disposition);
    reply.type('application/json; charset=utf-8');
    async function* pieces(): AsyncGenerator<string> {
      yield '[';
      let first = true;
      for await (const e of entities) {
        yield (first ? '' : ',') + stringifyValue(e);
        first = false;
      }
      yield ']';
    }
    return sendStream(request, reply, textStream(pieces(), (s) => Buffer.from(s, 'utf8')));
  };
  const jsonSchema = (withFilename: boolean) => ({
    schema: {
      summary: withFilename ? 'The published entities (JSON pull), with a filename for Content-Disposition' : "The published entities of a pipe with an http_endpoint sink, as a JSON array (JSON pull protocol); the URL parameters are bound to _B",
      tags: ['publishers'],
      params: params(withFilename),
      querystring: publishQuery,
    },
  });
  app.get('/publishers/:id/entities', jsonSchema(false), json);
  app.get('/publishers/:id/entities/:filename', jsonSchema(true), json);

  // ------------------------------------------------------------------------------ CSV

  const csv = async (request: FastifyRequest, reply: FastifyReply) => {
    const p = lookup(request, 'csv_endpoint');
    const writer = sinkSetting(p, () => new CsvWriter(csvOptionsFrom(p.pipe.sink.config)));
    const entities = await start(request, reply, p);
    const o = writer.options;
    reply.headers(await publisherHeaders(rt, p));
    const disposition = contentDisposition(filenameOf(request, p), p.pipe.sink.config.content_disposition);
    if (disposition) reply.header('Content-Disposition', disposition);
    reply.type(`text/csv; charset=${charsetOf(o.encoding)}`);
    async function* pieces(): AsyncGenerator<string> {
      yield writer.header();
      for await (const e of entities) yield writer.entity(e);
    }
    return sendStream(request, reply, textStream(pieces(), streamEncoder(o.encoding, o.encodeErrors, o.byteOrderMark)));
  };
  const csvSchema = (withFilename: boolean) => ({
    schema: {
      summary: withFilename ? 'The published entities as CSV, with a filename for Content-Disposition' : 'The published entities of a pipe with a csv_endpoint sink, as CSV; the URL parameters are bound to _B',
      tags: ['publishers'],
      params: params(withFilename),
      querystring: publishQuery,
    },
  });
  app.get('/publishers/:id/csv', csvSchema(false), csv);
  app.get('/publishers/:id/csv/:filename', csvSchema(true), csv);

  // ------------------------------------------------------------------------------ XML

  const xml = async (request: FastifyRequest, reply: FastifyReply) => {
    const p = lookup(request, 'xml_endpoint');
    const writer = sinkSetting(p, () => new XmlWriter(xmlOptionsFrom(p.pipe.sink.config)));
    const entities = await start(request, reply, p);
    // The first entity's element is rendered before the response starts: a badly shaped entity is a 422.
    const first = await entities.next();
    let firstText = '';
    try {
      if (!first.done) firstText = writer.entity(first.value);
    } catch (err) {
      await entities.return(undefined);
      throw new ApiError(422, 'INVALID_ENTITY_SHAPE', `pipe "${p.pipe.id}": ${(err as Error).message}`);
    }
    reply.headers(await publisherHeaders(rt, p));
    const disposition = contentDisposition(filenameOf(request, p), p.pipe.sink.config.content_disposition);
    if (disposition) reply.header('Content-Disposition', disposition);
    reply.type('application/xml; charset=utf-8');
    async function* pieces(): AsyncGenerator<string> {
      yield writer.head() + firstText;
      if (first.done) return yield writer.tail();
      for await (const e of entities) yield writer.entity(e);
      yield writer.tail();
    }
    return sendStream(request, reply, textStream(pieces(), streamEncoder('utf-8', 'backslashreplace', writer.options.byteOrderMark)));
  };
  const xmlSchema = (withFilename: boolean) => ({
    schema: {
      summary: withFilename ? 'The published entities as XML, with a filename for Content-Disposition' : 'The published entities of a pipe with an xml_endpoint sink, as XML; the URL parameters are bound to _B',
      tags: ['publishers'],
      params: params(withFilename),
      querystring: publishQuery,
    },
  });
  app.get('/publishers/:id/xml', xmlSchema(false), xml);
  app.get('/publishers/:id/xml/:filename', xmlSchema(true), xml);

  // Office applications probe the folder of a file with OPTIONS before opening it.
  for (const kind of ['csv', 'xml']) {
    app.options(`/publishers/:id/${kind}`, { schema: { summary: `Answers Office applications' OPTIONS probe of the ${kind.toUpperCase()} publisher`, tags: ['publishers'], params: params(false) } }, async (_request, reply) => reply.type('text/plain; charset=utf-8').send(''));
  }
};
