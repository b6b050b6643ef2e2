/**
 * The operations of Sesam's published API description (hub/swagger_public.yaml of the Sesam
 * documentation: 92 operations, OPTIONS requests not counted), each with a valid request and
 * requests with invalid input, or the reason it does not apply to a self-hosted Sluice node.
 */

export interface Call {
  method: string;
  /** Under the node's base URL, e.g. `/api/pipes`. */
  path: string;
  body?: unknown;
  /** A raw body with its content type (forms, zips). */
  raw?: { type: string; data: string | Uint8Array };
  headers?: Record<string, string>;
}

export interface ProbeContext {
  call(c: Call): Promise<{ status: number; type: string; text: string }>;
  /** Runs a pipe to completion. */
  run(pipe: string): Promise<void>;
}

export interface Operation {
  /** As in the published description: `GET /pipes/{pipe_id}`. */
  op: string;
  /** Why the operation does not apply to a Sluice node (then it has no requests). */
  leftOut?: string;
  /** State the valid request needs (not counted). */
  setup?: (ctx: ProbeContext) => Promise<void>;
  valid?: Call;
  invalid?: Call[];
}

const form = (fields: Record<string, string>) => ({ type: 'application/x-www-form-urlencoded', data: new URLSearchParams(fields).toString() });
const json = (text: string) => ({ type: 'application/json', data: text });
const SDSHARE = 'SDShare feeds and RDF: Sluice has no RDF registry and no SDShare sources or sinks to feed or receive them';
const LINKS = "shareable links are signed by Sesam's portal; a self-hosted node gives out bearer tokens instead (`sluice token`)";

const pipe = (id: string, extra: Record<string, unknown> = {}) => ({ _id: id, type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'x', n: 1 }] }, ...extra });
const model = { _id: 'probe-model', name: 'Probe', entity_types: [{ $id: 'probe-thing', type: 'object', properties: { n: { type: 'integer' } } }] };

export const OPERATIONS: Operation[] = [
  { op: 'GET /models', valid: { method: 'GET', path: '/api/models?effective=true' }, invalid: [{ method: 'GET', path: '/api/models?verbose=maybe' }] },
  { op: 'POST /models', valid: { method: 'POST', path: '/api/models', body: [model] }, invalid: [{ method: 'POST', path: '/api/models', body: [{ name: 'no id' }] }, { method: 'POST', path: '/api/models', raw: json('[{') }] },
  { op: 'GET /models/{model_id}', valid: { method: 'GET', path: '/api/models/probe-model?effective=true' }, invalid: [{ method: 'GET', path: '/api/models/no-such-model' }] },
  {
    op: 'DELETE /models/{model_id}',
    setup: async (ctx) => void (await ctx.call({ method: 'POST', path: '/api/models', body: [{ ...model, _id: 'probe-gone' }] })),
    valid: { method: 'DELETE', path: '/api/models/probe-gone' },
    invalid: [{ method: 'DELETE', path: '/api/models/no-such-model' }],
  },
  { op: 'GET /models/{model_id}/{entity_type_id}', valid: { method: 'GET', path: '/api/models/probe-model/probe-thing' }, invalid: [{ method: 'GET', path: '/api/models/probe-model/no-such-type' }] },
  { op: 'GET /pipes', valid: { method: 'GET', path: '/api/pipes' }, invalid: [{ method: 'GET', path: '/api/pipes?fields=bogus' }] },
  {
    op: 'POST /pipes',
    valid: { method: 'POST', path: '/api/pipes', body: [pipe('probe-new')] },
    invalid: [{ method: 'POST', path: '/api/pipes', body: [pipe('people')] }, { method: 'POST', path: '/api/pipes', body: [{ _id: 'bad', type: 'pipe', source: { type: 'datset' } }] }, { method: 'POST', path: '/api/pipes', raw: json('{"_id":') }],
  },
  { op: 'GET /pipes/{pipe_id}', valid: { method: 'GET', path: '/api/pipes/people' }, invalid: [{ method: 'GET', path: '/api/pipes/no-such-pipe' }] },
  {
    op: 'DELETE /pipes/{pipe_id}',
    setup: async (ctx) => void (await ctx.call({ method: 'POST', path: '/api/pipes', body: [pipe('probe-delete')] })),
    valid: { method: 'DELETE', path: '/api/pipes/probe-delete' },
    invalid: [{ method: 'DELETE', path: '/api/pipes/no-such-pipe' }],
  },
  { op: 'GET /pipes/{pipe_id}/config', valid: { method: 'GET', path: '/api/pipes/people/config' }, invalid: [{ method: 'GET', path: '/api/pipes/no-such-pipe/config' }] },
  {
    op: 'PUT /pipes/{pipe_id}/config',
    valid: { method: 'PUT', path: '/api/pipes/probe-new/config', body: pipe('probe-new', { description: 'replaced' }) },
    invalid: [{ method: 'PUT', path: '/api/pipes/probe-new/config', body: pipe('other-id') }, { method: 'PUT', path: '/api/pipes/probe-new/config', body: { ...pipe('probe-new'), batch_size: 'many' } }, { method: 'PUT', path: '/api/pipes/probe-new/config', raw: json('not json') }],
  },
  { op: 'GET /pipes/{pipe_id}/entities', valid: { method: 'GET', path: '/api/pipes/names/entities?stage=sink&limit=2' }, invalid: [{ method: 'GET', path: '/api/pipes/names/entities?stage=middle' }, { method: 'GET', path: '/api/pipes/no-such-pipe/entities' }] },
  { op: 'GET /pipes/{pipe_id}/log', valid: { method: 'GET', path: '/api/pipes/people/log?limit=5' }, invalid: [{ method: 'GET', path: '/api/pipes/people/log?limit=-1' }, { method: 'GET', path: '/api/pipes/no-such-pipe/log' }] },
  { op: 'GET /pipes/{pipe_id}/generate-schema-definition', valid: { method: 'GET', path: '/api/pipes/names/generate-schema-definition?sample_size=10' }, invalid: [{ method: 'GET', path: '/api/pipes/names/generate-schema-definition?sample_size=0' }, { method: 'GET', path: '/api/pipes/no-such-pipe/generate-schema-definition' }] },
  { op: 'GET /pipes/{pipe_id}/pump', valid: { method: 'GET', path: '/api/pipes/people/pump' }, invalid: [{ method: 'GET', path: '/api/pipes/no-such-pipe/pump' }] },
  {
    op: 'POST /pipes/{pipe_id}/pump',
    valid: { method: 'POST', path: '/api/pipes/people/pump', raw: form({ operation: 'disable', comment: 'probe' }) },
    invalid: [{ method: 'POST', path: '/api/pipes/people/pump', raw: form({ operation: 'explode' }) }, { method: 'POST', path: '/api/pipes/people/pump', raw: form({}) }, { method: 'POST', path: '/api/pipes/no-such-pipe/pump', raw: form({ operation: 'start' }) }],
  },
  {
    op: 'POST /pipes/{pipe_id}/webhook',
    setup: async (ctx) => {
      const r = await ctx.call({ method: 'GET', path: '/api/pipes/names/webhook' });
      webhookToken = (JSON.parse(r.text) as { token: string }).token;
    },
    get valid() {
      return { method: 'POST', path: '/api/pipes/names/webhook', body: { token: webhookToken } };
    },
    invalid: [{ method: 'POST', path: '/api/pipes/names/webhook', body: { token: 'wrong' } }, { method: 'POST', path: '/api/pipes/names/webhook', body: { no: 'token' } }],
  },
  { op: 'GET /pipes/{pipe_id}/entity-types/source', valid: { method: 'GET', path: '/api/pipes/names/entity-types/source' }, invalid: [{ method: 'GET', path: '/api/pipes/no-such-pipe/entity-types/source' }] },
  { op: 'GET /pipes/{pipe_id}/entity-types/sink', valid: { method: 'GET', path: '/api/pipes/names/entity-types/sink' }, invalid: [{ method: 'GET', path: '/api/pipes/no-such-pipe/entity-types/sink' }] },
  { op: 'GET /datasets', valid: { method: 'GET', path: '/api/datasets' }, invalid: [{ method: 'GET', path: '/api/datasets?verbose=maybe' }] },
  { op: 'GET /datasets/{dataset_id}', valid: { method: 'GET', path: '/api/datasets/people' }, invalid: [{ method: 'GET', path: '/api/datasets/no-such-dataset' }] },
  {
    op: 'DELETE /datasets/{dataset_id}',
    setup: async (ctx) => void (await ctx.call({ method: 'POST', path: '/api/datasets/probe-scratch/entities', body: [{ _id: 'a' }] })),
    valid: { method: 'DELETE', path: '/api/datasets/probe-scratch' },
    invalid: [{ method: 'DELETE', path: '/api/datasets/no-such-dataset' }],
  },
  {
    op: 'POST /datasets/{dataset_id}',
    setup: async (ctx) => {
      // Trip the circuit breaker of "guarded": two changed entities against a limit of one.
      await ctx.call({ method: 'PUT', path: '/api/pipes/guarded-source/config', body: { _id: 'guarded-source', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a', v: 2 }, { _id: 'b', v: 2 }] } } });
      await ctx.run('guarded-source');
      await ctx.run('guarded');
    },
    valid: { method: 'POST', path: '/api/datasets/guarded', raw: form({ operation: 'commit-circuit-breaker' }) },
    invalid: [{ method: 'POST', path: '/api/datasets/guarded', raw: form({ operation: 'explode' }) }, { method: 'POST', path: '/api/datasets/guarded', raw: form({ operation: 'rollback-circuit-breaker' }) }, { method: 'POST', path: '/api/datasets/no-such-dataset', raw: form({ operation: 'commit-circuit-breaker' }) }],
  },
  { op: 'GET /datasets/{dataset_id}/entities', valid: { method: 'GET', path: '/api/datasets/people/entities?since=0&limit=10&history=false' }, invalid: [{ method: 'GET', path: '/api/datasets/people/entities?limit=ten' }, { method: 'GET', path: '/api/datasets/no-such-dataset/entities' }, { method: 'GET', path: `/api/datasets/people/entities?subset=${encodeURIComponent('["eq", "_S.nothing", 1]')}` }] },
  {
    op: 'POST /datasets/{dataset_id}/entities',
    valid: { method: 'POST', path: '/api/datasets/probe-posted/entities', body: [{ _id: 'p1', v: 1 }] },
    invalid: [{ method: 'POST', path: '/api/datasets/probe-posted/entities', body: [{ _id: 'p2' }, { v: 'no id' }] }, { method: 'POST', path: '/api/datasets/probe-posted/entities', raw: json('[{"_id": "p3",') }, { method: 'POST', path: '/api/datasets/probe-posted/entities?force=sometimes', body: [{ _id: 'p4' }] }],
  },
  { op: 'GET /datasets/{dataset_id}/entities/{rest_of_path}', valid: { method: 'GET', path: '/api/datasets/people/entities/a' }, invalid: [{ method: 'GET', path: '/api/datasets/people/entities/no-such-entity' }] },
  { op: 'GET /datasets/{dataset_id}/entity', valid: { method: 'GET', path: '/api/datasets/people/entity?entity_id=a' }, invalid: [{ method: 'GET', path: '/api/datasets/people/entity' }, { method: 'GET', path: '/api/datasets/people/entity?entity_id=a&offset=abc' }] },
  { op: 'GET /datasets/{dataset_id}/sdshare-collection', leftOut: SDSHARE },
  { op: 'GET /datasets/{dataset_id}/sdshare-fragments', leftOut: SDSHARE },
  { op: 'GET /datasets/{dataset_id}/sdshare-fragments/{rest_of_path}', leftOut: SDSHARE },
  { op: 'GET /datasets/{dataset_id}/indexes', valid: { method: 'GET', path: '/api/datasets/things/indexes' }, invalid: [{ method: 'GET', path: '/api/datasets/no-such-dataset/indexes' }] },
  { op: 'DELETE /datasets/{dataset_id}/indexes/{index_int_id}', valid: { method: 'DELETE', path: '/api/datasets/things/indexes/1' }, invalid: [{ method: 'DELETE', path: '/api/datasets/things/indexes/99' }, { method: 'DELETE', path: '/api/datasets/things/indexes/first' }] },
  { op: 'GET /datasets/{dataset_id}/generate-schema-definition', valid: { method: 'GET', path: '/api/datasets/people/generate-schema-definition?keys_only=true' }, invalid: [{ method: 'GET', path: '/api/datasets/no-such-dataset/generate-schema-definition' }] },
  { op: 'GET /config', valid: { method: 'GET', path: '/api/config' } },
  {
    op: 'PUT /config',
    setup: async (ctx) => {
      defaultGroup = (await ctx.call({ method: 'GET', path: '/api/config' })).text;
    },
    get valid() {
      return { method: 'PUT', path: '/api/config', raw: json(defaultGroup) };
    },
    invalid: [{ method: 'PUT', path: '/api/config', body: [{ _id: 'bad', type: 'pipe', source: { type: 'datset' } }] }, { method: 'PUT', path: '/api/config', raw: json('[{"_id": ') }, { method: 'PUT', path: '/api/config', raw: { type: 'application/zip', data: new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3]) } }],
  },
  { op: 'GET /config/{config-group}', valid: { method: 'GET', path: '/api/config/sales' } },
  {
    op: 'PUT /config/{config-group}',
    valid: { method: 'PUT', path: '/api/config/sales', body: [pipe('sales-orders')] },
    invalid: [{ method: 'PUT', path: '/api/config/sales', body: [pipe('people')] }, { method: 'PUT', path: '/api/config/sales', body: [{ _id: 'node', type: 'metadata' }] }, { method: 'PUT', path: '/api/config/sales', raw: json('{') }],
  },
  { op: 'GET /config-all', valid: { method: 'GET', path: '/api/config-all' } },
  {
    op: 'PUT /config-all',
    setup: async (ctx) => {
      allGroups = (await ctx.call({ method: 'GET', path: '/api/config-all' })).text;
    },
    get valid() {
      return { method: 'PUT', path: '/api/config-all', raw: json(allGroups) };
    },
    invalid: [{ method: 'PUT', path: '/api/config-all', body: [pipe('dup'), pipe('dup')] }, { method: 'PUT', path: '/api/config-all', raw: json('') }],
  },
  { op: 'GET /config-history/entity', valid: { method: 'GET', path: '/api/config-history/entity?entity_id=people&limit=5' }, invalid: [{ method: 'GET', path: '/api/config-history/entity' }, { method: 'GET', path: '/api/config-history/entity?entity_id=people&since=x' }] },
  { op: 'GET /', valid: { method: 'GET', path: '/api/' }, invalid: [{ method: 'GET', path: '/api/?aggregated=maybe' }] },
  { op: 'POST /', valid: { method: 'POST', path: '/api/', raw: form({ operation: 'load_config' }) }, invalid: [{ method: 'POST', path: '/api/', raw: form({ operation: 'explode' }) }] },
  { op: 'GET /env', valid: { method: 'GET', path: '/api/env' } },
  { op: 'POST /env', valid: { method: 'POST', path: '/api/env', body: { region: 'north' } }, invalid: [{ method: 'POST', path: '/api/env', body: ['not', 'an', 'object'] }, { method: 'POST', path: '/api/env', raw: json('{"a":') }] },
  { op: 'PUT /env', valid: { method: 'PUT', path: '/api/env', body: { region: 'north', probe: true } }, invalid: [{ method: 'PUT', path: '/api/env', body: 'a string' }] },
  { op: 'PATCH /env', valid: { method: 'PATCH', path: '/api/env', body: { extra: 1 } }, invalid: [{ method: 'PATCH', path: '/api/env', body: { '': 1 } }] },
  { op: 'DELETE /env/{env_var}', valid: { method: 'DELETE', path: '/api/env/extra' }, invalid: [{ method: 'DELETE', path: '/api/env/no-such-variable' }] },
  { op: 'GET /secrets', valid: { method: 'GET', path: '/api/secrets' } },
  { op: 'PUT /secrets', valid: { method: 'PUT', path: '/api/secrets', body: { token: 'probe-secret-value' } }, invalid: [{ method: 'PUT', path: '/api/secrets', body: { token: 42 } }] },
  { op: 'POST /secrets', valid: { method: 'POST', path: '/api/secrets', body: { other: 'probe-other-value' } }, invalid: [{ method: 'POST', path: '/api/secrets', body: [1, 2] }] },
  { op: 'DELETE /secrets/{secret_key}', valid: { method: 'DELETE', path: '/api/secrets/other' }, invalid: [{ method: 'DELETE', path: '/api/secrets/no-such-secret' }] },
  { op: 'GET /health', valid: { method: 'GET', path: '/api/health' } },
  { op: 'GET /ping', valid: { method: 'GET', path: '/api/ping' } },
  { op: 'GET /license', valid: { method: 'GET', path: '/api/license' } },
  { op: 'PUT /license', leftOut: 'Sluice is open source (Apache-2.0): there is no license key to upload; GET /license says so' },
  { op: 'GET /namespaces', valid: { method: 'GET', path: '/api/namespaces' } },
  { op: 'GET /metadata', valid: { method: 'GET', path: '/api/metadata' } },
  {
    op: 'PUT /metadata',
    valid: { method: 'PUT', path: '/api/metadata', body: { _id: 'node', type: 'metadata', namespaces: { default: { probe: 'http://example.org/probe/' } } } },
    invalid: [{ method: 'PUT', path: '/api/metadata', body: { _id: 'other' } }, { method: 'PUT', path: '/api/metadata', body: { global_defaults: { use_signalling_internally: 'yes' } } }, { method: 'PUT', path: '/api/metadata', raw: json('{') }],
  },
  { op: 'DELETE /metadata', valid: { method: 'DELETE', path: '/api/metadata' } },
  { op: 'GET /publishers/{pipe_id}/sdshare-collection', leftOut: SDSHARE },
  { op: 'GET /publishers/{pipe_id}/sdshare-fragments', leftOut: SDSHARE },
  { op: 'GET /publishers/{pipe_id}/entities', valid: { method: 'GET', path: '/api/publishers/people-json/entities?limit=2' }, invalid: [{ method: 'GET', path: '/api/publishers/people/entities' }, { method: 'GET', path: '/api/publishers/people-json/entities?limit=-2' }] },
  { op: 'GET /publishers/{pipe_id}/entities/{filename}', valid: { method: 'GET', path: '/api/publishers/people-json/entities/people.json' }, invalid: [{ method: 'GET', path: '/api/publishers/no-such-pipe/entities/people.json' }] },
  { op: 'GET /publishers/{pipe_id}/csv', valid: { method: 'GET', path: '/api/publishers/people-csv/csv' }, invalid: [{ method: 'GET', path: '/api/publishers/people-json/csv' }] },
  { op: 'GET /publishers/{pipe_id}/csv/{filename}', valid: { method: 'GET', path: '/api/publishers/people-csv/csv/people.csv' }, invalid: [{ method: 'GET', path: '/api/publishers/people-csv/csv/people.csv?limit=x' }] },
  { op: 'GET /publishers/{pipe_id}/excel', valid: { method: 'GET', path: '/api/publishers/people-csv/excel' }, invalid: [{ method: 'GET', path: '/api/publishers/people-xml/excel' }] },
  { op: 'GET /publishers/{pipe_id}/excel/{filename}', valid: { method: 'GET', path: '/api/publishers/people-csv/excel/people.xlsx' }, invalid: [{ method: 'GET', path: '/api/publishers/no-such-pipe/excel/people.xlsx' }] },
  { op: 'GET /publishers/{pipe_id}/xml', valid: { method: 'GET', path: '/api/publishers/people-xml/xml' }, invalid: [{ method: 'GET', path: '/api/publishers/people-csv/xml' }] },
  { op: 'GET /publishers/{pipe_id}/xml/{filename}', valid: { method: 'GET', path: '/api/publishers/people-xml/xml/people.xml' }, invalid: [{ method: 'GET', path: '/api/publishers/people-xml/xml/people.xml?limit=-5' }] },
  { op: 'GET /publishers/{pipe_id}/shareable-links', leftOut: LINKS },
  { op: 'POST /publishers/{pipe_id}/shareable-links', leftOut: LINKS },
  { op: 'DELETE /publishers/{pipe_id}/shareable-links/{shareable_link_id}', leftOut: LINKS },
  { op: 'POST /receivers/{pipe_id}/sdshare-push-receiver', leftOut: SDSHARE },
  {
    op: 'POST /receivers/{pipe_id}/entities',
    valid: { method: 'POST', path: '/api/receivers/inbox/entities', body: [{ _id: 'r1', v: 1 }] },
    invalid: [{ method: 'POST', path: '/api/receivers/inbox/entities', body: [{ _id: 'r2' }, { _id: 7 }] }, { method: 'POST', path: '/api/receivers/people/entities', body: [{ _id: 'r3' }] }, { method: 'POST', path: '/api/receivers/inbox/entities', raw: json('[{"_id":"r4"') }],
  },
  { op: 'GET /systems', valid: { method: 'GET', path: '/api/systems' }, invalid: [{ method: 'GET', path: '/api/systems?verbose=maybe' }] },
  {
    op: 'POST /systems',
    valid: { method: 'POST', path: '/api/systems', body: [{ _id: 'probe-system', type: 'system:url', url_pattern: 'http://127.0.0.1:9/%s' }] },
    invalid: [{ method: 'POST', path: '/api/systems', body: [{ _id: 'echo', type: 'system:url', url_pattern: 'http://127.0.0.1:9/%s' }] }, { method: 'POST', path: '/api/systems', body: [{ _id: 'bad-system', type: 'system:nope' }] }],
  },
  { op: 'GET /systems/{system_id}', valid: { method: 'GET', path: '/api/systems/echo' }, invalid: [{ method: 'GET', path: '/api/systems/no-such-system' }] },
  { op: 'DELETE /systems/{system_id}', valid: { method: 'DELETE', path: '/api/systems/probe-system' }, invalid: [{ method: 'DELETE', path: '/api/systems/no-such-system' }] },
  { op: 'GET /systems/{system_id}/logs', valid: { method: 'GET', path: '/api/systems/echo/logs' }, invalid: [{ method: 'GET', path: '/api/systems/echo/logs?since=yesterday' }, { method: 'GET', path: '/api/systems/no-such-system/logs' }] },
  { op: 'GET /systems/{system_id}/status', valid: { method: 'GET', path: '/api/systems/echo/status' }, invalid: [{ method: 'GET', path: '/api/systems/no-such-system/status' }] },
  { op: 'POST /systems/{system_id}/reload', valid: { method: 'POST', path: '/api/systems/echo/reload' }, invalid: [{ method: 'POST', path: '/api/systems/no-such-system/reload' }] },
  { op: 'GET /systems/{system_id}/proxy/{rest_of_path}', valid: { method: 'GET', path: '/api/systems/echo/proxy/items?page=1' }, invalid: [{ method: 'GET', path: '/api/systems/echo/proxy/http://elsewhere.example/' }, { method: 'GET', path: '/api/systems/no-such-system/proxy/items' }] },
  { op: 'POST /systems/{system_id}/proxy/{rest_of_path}', valid: { method: 'POST', path: '/api/systems/echo/proxy/items', body: { a: 1 } }, invalid: [{ method: 'POST', path: '/api/systems/no-such-system/proxy/items', body: {} }] },
  { op: 'PUT /systems/{system_id}/proxy/{rest_of_path}', valid: { method: 'PUT', path: '/api/systems/echo/proxy/items/1', body: { a: 2 } }, invalid: [{ method: 'PUT', path: '/api/systems/no-such-system/proxy/items/1', body: {} }] },
  { op: 'PATCH /systems/{system_id}/proxy/{rest_of_path}', valid: { method: 'PATCH', path: '/api/systems/echo/proxy/items/1', body: { a: 3 } }, invalid: [{ method: 'PATCH', path: '/api/systems/no-such-system/proxy/items/1', body: {} }] },
  { op: 'DELETE /systems/{system_id}/proxy/{rest_of_path}', valid: { method: 'DELETE', path: '/api/systems/echo/proxy/items/1' }, invalid: [{ method: 'DELETE', path: '/api/systems/no-such-system/proxy/items/1' }] },
  { op: 'GET /systems/{system_id}/config', valid: { method: 'GET', path: '/api/systems/echo/config' }, invalid: [{ method: 'GET', path: '/api/systems/no-such-system/config' }] },
  {
    op: 'PUT /systems/{system_id}/config',
    setup: async (ctx) => {
      echoConfig = JSON.parse((await ctx.call({ method: 'GET', path: '/api/systems/echo/config' })).text) as Record<string, unknown>;
    },
    get valid() {
      return { method: 'PUT', path: '/api/systems/echo/config', body: { ...echoConfig, description: 'the probe echo server' } };
    },
    invalid: [{ method: 'PUT', path: '/api/systems/echo/config', body: { _id: 'echo', type: 'system:url', url_pattern: 42 } }, { method: 'PUT', path: '/api/systems/echo/config', body: { _id: 'echo', type: 'pipe' } }],
  },
  { op: 'GET /systems/{system_id}/secrets', valid: { method: 'GET', path: '/api/systems/echo/secrets' }, invalid: [{ method: 'GET', path: '/api/systems/no-such-system/secrets' }] },
  { op: 'PUT /systems/{system_id}/secrets', valid: { method: 'PUT', path: '/api/systems/echo/secrets', body: { key: 'probe-system-secret' } }, invalid: [{ method: 'PUT', path: '/api/systems/echo/secrets', body: { key: 1 } }, { method: 'PUT', path: '/api/systems/no-such-system/secrets', body: { key: 'x' } }] },
  { op: 'POST /systems/{system_id}/secrets', valid: { method: 'POST', path: '/api/systems/echo/secrets', body: { more: 'probe-more' } }, invalid: [{ method: 'POST', path: '/api/systems/echo/secrets', raw: json('{"more": ') }] },
  { op: 'DELETE /systems/{system_id}/secrets/{secret_key}', valid: { method: 'DELETE', path: '/api/systems/echo/secrets/more' }, invalid: [{ method: 'DELETE', path: '/api/systems/echo/secrets/no-such-secret' }] },
];

// Values the setups read for the valid requests that follow them.
let webhookToken = '';
let defaultGroup = '[]';
let allGroups = '[]';
let echoConfig: Record<string, unknown> = {};

