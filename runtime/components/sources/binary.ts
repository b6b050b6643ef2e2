/**
 * The binary source: reads a dataset of another node. The reference documents its settings but not
 * its wire protocol ("binary and subject to change"), so this source reads the remote dataset through
 * the JSON pull protocol instead (`url` is the remote dataset's entities endpoint, as for the json
 * source), with the documented `page_size` and `subset`; continuation follows the remote `_updated`.
 */
import schema from '../../../schemas/sources/binary.schema.json' with { type: 'json' };
import type { SourceSpec } from '../types.js';
import { jsonSource } from './json.js';

export const binarySource: SourceSpec = {
  kind: 'source',
  type: 'binary',
  doc: 'Reads a dataset of another Sluice or Sesam-compatible node (`url`: its entities endpoint, through a URL system), in pages of `page_size` and optionally only a `subset`, continuing from the last `_updated` seen. The undocumented binary wire format is replaced by the JSON pull protocol.',
  schema,
  create(component, ctx) {
    const c = component.config;
    if (c.supports_signalling === true) ctx.logger.warn({ pipe: ctx.pipe.id }, 'the binary source does not support signalling; the pipe runs on its schedule');
    const config: Record<string, unknown> = { type: 'json', system: c.system, url: c.url, supports_since: true, is_chronological: true, is_since_comparable: true };
    if (c.page_size !== undefined) config.page_size = c.page_size;
    if (c.subset !== undefined) config.subset = c.subset;
    return jsonSource.create({ ...component, type: 'json', config }, ctx);
  },
};
