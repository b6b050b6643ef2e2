import schema from '../../../schemas/sources/csv.schema.json' with { type: 'json' };
import type { Entity } from '../../../compiler/values/types.js';
import type { SourceSpec } from '../types.js';
import { urlClientFor } from '../systems/url.js';
import { CsvError, CsvParser, DecodeError, DIALECTS, makeDecoder, sniffDialect, type CsvDialect, type CsvRecord } from './csv-parse.js';

/** Text gathered before guessing the dialect (`auto_dialect`). */
const SNIFF_CHARS = 64 * 1024;

/** Separator between the values of a compound primary key in `_id`. */
export const COMPOUND_KEY_SEPARATOR = '-';

export const csvSource: SourceSpec = {
  kind: 'source',
  type: 'csv',
  doc: 'Reads a CSV file over HTTP through a URL system and turns each row into an entity whose `_id` is the primary key column(s); the dialect comes from a preset, is guessed from the data, or is given by `delimiter`, and the text is decoded with `encoding`.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the csv source`;
    const client = urlClientFor(ctx, c.system, 'the csv source');
    const url = c.url as string;
    const hasHeader = c.has_header !== false;
    const fieldNames = Array.isArray(c.field_names) ? (c.field_names as string[]) : null;
    if (!hasHeader && !fieldNames) throw new Error(`${what} has has_header set to false, so it needs "field_names"`);
    const primaryKey = typeof c.primary_key === 'string' ? [c.primary_key] : Array.isArray(c.primary_key) ? (c.primary_key as string[]) : [];
    if (!primaryKey.length) throw new Error(`${what} needs "primary_key" (the column, or columns, that give each row its _id)`);
    const whitelist = Array.isArray(c.whitelist) ? new Set(c.whitelist as string[]) : null;
    const blacklist = new Set(Array.isArray(c.blacklist) ? (c.blacklist as string[]) : []);
    const keepEmpty = c.preserve_empty_strings === true;
    const escapeNul = c.escape_null_bytes === true;
    const encoding = typeof c.encoding === 'string' ? c.encoding : 'utf-8';
    const strict = c.decode_error_strategy !== 'replace';
    const failIfEmpty = c.if_source_empty === 'fail';
    // Probe the encoding now so that a misspelt one is a config problem, not a failed run.
    try {
      makeDecoder(encoding, strict);
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}`);
    }

    // A delimiter written in the config wins over the preset and over guessing.
    const written = ctx.pipe.original.source as Record<string, unknown> | undefined;
    const explicitDelimiter = written && written.type === 'csv' ? (typeof written.delimiter === 'string' ? written.delimiter : undefined) : c.delimiter !== ',' ? (c.delimiter as string) : undefined;
    if (explicitDelimiter === '') throw new Error(`${what}: "delimiter" must not be empty`);
    const preset = typeof c.dialect === 'string' ? DIALECTS[c.dialect as keyof typeof DIALECTS] : undefined;
    if (typeof c.dialect === 'string' && !preset) throw new Error(`${what}: unknown dialect "${c.dialect}" (use excel, excel_tab or unix_dialect)`);
    const fixed: CsvDialect | null = preset
      ? { ...preset, ...(explicitDelimiter ? { delimiter: explicitDelimiter } : {}) }
      : c.auto_dialect === false
        ? { ...DIALECTS.excel, delimiter: explicitDelimiter ?? ((c.delimiter as string | undefined) || ',') }
        : null;

    return {
      supportsSince: false,
      datasets: [],
      async *read({ batchSize, run }) {
        const res = await client.request({ url, headers: { accept: 'text/csv, text/plain, */*' }, signal: run.signal, what, retry: client.readRetryPolicy(ctx.pipe) });
        const where = `${what}: ${res.url}`;
        const decoder = makeDecoder(encoding, strict);
        let warned = false;
        let parser: CsvParser | null = fixed ? new CsvParser(fixed) : null;
        let pending = '';
        let columns: string[] | null = hasHeader ? null : fieldNames;
        let skipHeader = hasHeader;
        let batch: Entity[] = [];
        let total = 0;

        const toEntity = (r: CsvRecord, cols: string[]): Entity => {
          const e: Entity = {};
          const f = r.fields;
          const n = Math.min(cols.length, f.length);
          for (let i = 0; i < n; i++) {
            const name = cols[i];
            const v = f[i];
            if (v === '' && !keepEmpty) continue;
            if (whitelist && !whitelist.has(name)) continue;
            if (blacklist.has(name)) continue;
            e[name] = v;
          }
          const parts: string[] = [];
          for (const k of primaryKey) {
            const v = f[cols.indexOf(k)];
            if (v === undefined || v === '') throw new Error(`${where}: the row on line ${r.line} has no value in the primary key column "${k}"`);
            parts.push(v);
          }
          e._id = parts.join(COMPOUND_KEY_SEPARATOR);
          return e;
        };

        /** Turns records into entities; the header row sets the columns. */
        const take = (records: CsvRecord[]): void => {
          for (const r of records) {
            if (skipHeader) {
              skipHeader = false;
              if (!fieldNames) columns = r.fields.map((h) => h);
              const missing = primaryKey.filter((k) => !(fieldNames ?? columns!).includes(k));
              if (missing.length) throw new Error(`${where}: the primary key column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not among the columns (${(fieldNames ?? columns!).map((m) => `"${m}"`).join(', ')})`);
              if (fieldNames) columns = fieldNames;
              continue;
            }
            batch.push(toEntity(r, columns!));
          }
        };

        if (columns) {
          const missing = primaryKey.filter((k) => !columns!.includes(k));
          if (missing.length) throw new Error(`${what}: the primary key column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in field_names`);
        }

        const feed = (text: string, last: boolean): void => {
          if (escapeNul && text.includes('\u0000')) text = text.replace(/\u0000/g, '\\0');
          if (!parser) {
            pending += text;
            if (pending.length < SNIFF_CHARS && !last) return;
            parser = new CsvParser(sniffDialect(pending, explicitDelimiter));
            text = pending;
            pending = '';
          }
          take(parser.push(text));
          if (last) take(parser.end());
        };

        try {
          for await (const chunk of res.chunks()) {
            feed(decoder.decode(chunk), false);
            if (decoder.replaced && !warned) {
              warned = true;
              ctx.logger.warn({ pipe: ctx.pipe.id, url: res.url, encoding }, 'characters that are not valid in the encoding were replaced (decode_error_strategy "replace")');
            }
            while (batch.length >= batchSize) {
              const out = batch.slice(0, batchSize);
              batch = batch.slice(batchSize);
              total += out.length;
              yield { entities: out, since: null };
              if (run.signal.aborted) return;
            }
          }
          feed(decoder.end(), true);
        } catch (err) {
          if (err instanceof CsvError) throw new Error(`${where}: ${err.message}`);
          if (err instanceof DecodeError) throw new Error(`${where}: ${err.message}; fix the data or the "encoding", or set decode_error_strategy to "replace"`);
          throw err;
        }
        for (let i = 0; i < batch.length; i += batchSize) {
          const out = batch.slice(i, i + batchSize);
          total += out.length;
          yield { entities: out, since: null };
        }
        if (total === 0 && failIfEmpty) throw new Error(`${what}: ${res.url} has no rows and if_source_empty is "fail"`);
      },
    };
  },
};
