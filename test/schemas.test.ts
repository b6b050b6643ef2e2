import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import type { Options, ValidateFunction } from 'ajv';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaObj = { [key: string]: any };

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA_DIR = join(ROOT, 'schemas');
const DOCS_ROOT = '/work/ref/docs';

function listSchemaFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSchemaFiles(full));
    else if (entry.name.endsWith('.schema.json')) out.push(full);
  }
  return out.sort();
}

const files = listSchemaFiles(SCHEMA_DIR);
const schemas = new Map<string, SchemaObj>(
  files.map((f) => [relative(SCHEMA_DIR, f).replace(/\\/g, '/'), JSON.parse(readFileSync(f, 'utf8')) as SchemaObj]),
);

function schema(rel: string): SchemaObj {
  const s = schemas.get(rel);
  if (!s) throw new Error(`missing schema ${rel}`);
  return structuredClone(s);
}

/** Component kinds: folder -> [$id kind prefix, common schema file]. */
const KINDS: Record<string, { prefix: string; common: string }> = {
  sources: { prefix: 'source', common: 'sources/_common.schema.json' },
  sinks: { prefix: 'sink', common: 'sinks/_common.schema.json' },
  transforms: { prefix: 'transform', common: 'transforms/_common.schema.json' },
  systems: { prefix: 'system', common: 'system.schema.json' },
};

function makeAjv(extra: Options = {}): Ajv {
  const ajv = new Ajv({ strict: true, useDefaults: true, allErrors: true, ...extra });
  ajv.addKeyword({ keyword: 'x-dataset-ref', schemaType: 'string', metaSchema: { enum: ['read', 'write'] } });
  ajv.addKeyword({ keyword: 'x-dataset-ref-format', schemaType: 'string', metaSchema: { enum: ['id-alias'] } });
  ajv.addKeyword({ keyword: 'x-system-ref', schemaType: 'boolean', metaSchema: { const: true } });
  ajv.addKeyword({ keyword: 'x-doc', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-namespaces-default', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-pipe-batch-size-default', schemaType: 'number' });
  return ajv;
}

/** Mirrors what the compiler does: the kind's common properties merged in, the component's own definitions win. */
function merged(rel: string): SchemaObj {
  const folder = rel.split('/')[0];
  const kind = KINDS[folder];
  const comp = schema(rel);
  if (!kind || rel === kind.common) return comp;
  const common = schema(kind.common);
  return {
    ...comp,
    properties: { ...common.properties, ...comp.properties },
    required: [...new Set([...(common.required ?? []), ...(comp.required ?? [])])],
  };
}

const validators = new Map<string, ValidateFunction>();
function validator(rel: string): ValidateFunction {
  let v = validators.get(rel);
  if (!v) {
    v = makeAjv().compile(merged(rel));
    validators.set(rel, v);
  }
  return v;
}

function check(rel: string, data: Json): { ok: boolean; data: any; errors: string[] } {
  const v = validator(rel);
  const copy = structuredClone(data);
  const ok = v(copy) as boolean;
  return { ok, data: copy, errors: (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`) };
}

function expectValid(rel: string, data: Json): any {
  const r = check(rel, data);
  expect(r.errors, `${rel}: ${JSON.stringify(data)}`).toEqual([]);
  expect(r.ok).toBe(true);
  return r.data;
}

function expectInvalid(rel: string, data: Json, pattern?: RegExp): void {
  const r = check(rel, data);
  expect(r.ok, `${rel} should reject ${JSON.stringify(data)}`).toBe(false);
  if (pattern) expect(r.errors.join('\n')).toMatch(pattern);
}

/** Visits every subschema, with a JSON-pointer-ish path. */
function walk(node: any, path: string, visit: (s: SchemaObj, path: string) => void): void {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return;
  visit(node, path);
  for (const key of ['properties', 'definitions', 'dependencies']) {
    if (node[key] && typeof node[key] === 'object') {
      for (const [k, v] of Object.entries(node[key])) {
        if (!Array.isArray(v)) walk(v, `${path}/${key}/${k}`, visit);
      }
    }
  }
  for (const key of ['additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames']) {
    walk(node[key], `${path}/${key}`, visit);
  }
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    if (Array.isArray(node[key])) node[key].forEach((s: any, i: number) => walk(s, `${path}/${key}/${i}`, visit));
  }
  if (Array.isArray(node.items)) node.items.forEach((s: any, i: number) => walk(s, `${path}/items/${i}`, visit));
  else walk(node.items, `${path}/items`, visit);
}

const EXPECTED_FILES = [
  'node-metadata.schema.json',
  'pipe.schema.json',
  'pump.schema.json',
  'system.schema.json',
  'sinks/_common.schema.json',
  'sinks/conditional.schema.json',
  'sinks/csv_endpoint.schema.json',
  'sinks/dataset.schema.json',
  'sinks/http_endpoint.schema.json',
  'sinks/json.schema.json',
  'sinks/null.schema.json',
  'sources/_common.schema.json',
  'sources/conditional.schema.json',
  'sources/csv.schema.json',
  'sources/dataset.schema.json',
  'sources/embedded.schema.json',
  'sources/empty.schema.json',
  'sources/http_endpoint.schema.json',
  'sources/json.schema.json',
  'sources/merge.schema.json',
  'sources/merge_datasets.schema.json',
  'sources/union_datasets.schema.json',
  'systems/url.schema.json',
  'transforms/_common.schema.json',
  'transforms/conditional.schema.json',
  'transforms/dtl.schema.json',
  'transforms/emit_children.schema.json',
  'transforms/http.schema.json',
];

function expectedId(rel: string): string {
  const top: Record<string, string> = {
    'pipe.schema.json': 'sluice:pipe',
    'pump.schema.json': 'sluice:pump',
    'system.schema.json': 'sluice:system',
    'node-metadata.schema.json': 'sluice:node-metadata',
  };
  if (top[rel]) return top[rel];
  const [folder, file] = rel.split('/');
  return `sluice:${KINDS[folder].prefix}/${file.replace('.schema.json', '')}`;
}

describe('schema files', () => {
  it('includes every expected schema file', () => {
    for (const f of EXPECTED_FILES) expect(schemas.has(f), f).toBe(true);
  });

  for (const [rel, s] of schemas) {
    describe(rel, () => {
      it('follows the file conventions', () => {
        expect(s.$schema).toBe('http://json-schema.org/draft-07/schema#');
        expect(s.$id).toBe(expectedId(rel));
        expect(s.type).toBe('object');
        expect(s.additionalProperties).toBe(false);
        expect(typeof s.properties).toBe('object');
        expect(Array.isArray(s.required)).toBe(true);
        expect(typeof s['x-doc']).toBe('string');
        expect(s['x-doc']).toMatch(/^hub\/.*\.rst$/);
        if (existsSync(DOCS_ROOT)) expect(existsSync(join(DOCS_ROOT, s['x-doc'])), s['x-doc']).toBe(true);
      });

      it('compiles in strict mode on its own', () => {
        expect(() => makeAjv().compile(schema(rel))).not.toThrow();
      });

      it('compiles in strict mode after merging the common properties', () => {
        expect(() => makeAjv().compile(merged(rel))).not.toThrow();
      });

      it('describes every property', () => {
        const missing: string[] = [];
        walk(s, '#', (node, path) => {
          for (const [name, prop] of Object.entries<any>(node.properties ?? {})) {
            if (typeof prop?.description !== 'string' || prop.description.trim() === '') missing.push(`${path}/properties/${name}`);
          }
        });
        expect(missing).toEqual([]);
      });

      it('has defaults that satisfy their own property schema', () => {
        const ajv = makeAjv({ useDefaults: false });
        const bad: string[] = [];
        walk(s, '#', (node, path) => {
          for (const [name, prop] of Object.entries<any>(node.properties ?? {})) {
            if (!prop || !('default' in prop)) continue;
            const { default: def, ...rest } = prop;
            const sub = { ...rest };
            delete sub['x-doc'];
            if (!ajv.validate(sub, def)) bad.push(`${path}/properties/${name}: ${ajv.errorsText()}`);
          }
        });
        expect(bad).toEqual([]);
      });

      it('uses the annotation keywords with the right values', () => {
        walk(s, '#', (node, path) => {
          if ('x-dataset-ref-format' in node) expect(node['x-dataset-ref'], path).toBeDefined();
          if ('x-system-ref' in node) expect(node.type, path).toBe('string');
        });
      });

      const folder = rel.split('/')[0];
      if (KINDS[folder] && rel !== KINDS[folder].common) {
        it('pins its type to the file name', () => {
          const name = rel.split('/')[1].replace('.schema.json', '');
          const expected = folder === 'systems' ? `system:${name}` : name;
          expect(s.properties.type.const).toBe(expected);
          expect(s.required).toContain('type');
        });
      }
    });
  }
});

describe('pipe', () => {
  const rel = 'pipe.schema.json';

  it('accepts a minimal pipe and fills documented defaults', () => {
    const out = expectValid(rel, { _id: 'p1', type: 'pipe', source: { type: 'dataset', dataset: 'a' } });
    expect(out.disable_set_last_seen).toBe(false);
    expect(out.enable_background_rescan).toBe(false);
    expect(out.rescan_when_config_changes).toBe(false);
    expect(out.infer_pipe_entity_types).toBe(true);
    expect(out.reprocessing_policy).toBe('continue');
    expect(out.exclude_completeness).toEqual([]);
    // no invented defaults
    expect(out).not.toHaveProperty('batch_size');
    expect(out).not.toHaveProperty('checkpoint_interval');
    expect(out).not.toHaveProperty('sink');
    expect(out).not.toHaveProperty('namespaced_identifiers');
  });

  it('fills nested defaults when the containing object is present', () => {
    const out = expectValid(rel, {
      _id: 'p1',
      type: 'pipe',
      source: { type: 'dataset', dataset: 'a' },
      compaction: { keep_versions: 3 },
      dependency_tracking: {},
      metadata: { tags: ['x'], custom: { any: 1 } },
    });
    expect(out.compaction).toEqual({
      keep_versions: 3,
      automatic: true,
      sink: true,
      time_threshold_hours: null,
      time_threshold_hours_pump: 720,
      growth_threshold: 1,
      compaction_interval: 0,
      ttl_deletes_hours: null,
      ttl_deletes_timeout_seconds: 60,
      retract: false,
      retract_timeout_seconds: 60,
    });
    expect(out.dependency_tracking).toEqual({
      dependency_warning_threshold: 10000,
      dependency_error_threshold: 50000,
      dependency_warning_threshold_total_bytes: 33554432,
      dependency_error_threshold_total_bytes: 134217728,
      enable_hops_thresholds: false,
    });
    expect(out.metadata.durable).toBe(false);
  });

  it('accepts the documented pipe-level properties', () => {
    expectValid(rel, {
      _id: 'hubspot-company-collect',
      type: 'pipe',
      name: 'HubSpot companies',
      description: ['line 1', 'line 2'],
      comment: 'c',
      source: { type: 'rest', system: 'hubspot' },
      transform: [{ type: 'dtl', rules: { default: [] } }, { type: 'emit_children' }],
      sink: { type: 'dataset', dataset: 'x' },
      pump: { schedule_interval: 30 },
      permissions: [
        ['allow', ['group:Developer'], ['read_config', 'read_data', 'write_data']],
        ['DENY', ['someone'], ['read_config']],
      ],
      batch_size: 1,
      checkpoint_interval: 1,
      add_namespaces: false,
      remove_namespaces: true,
      namespaced_identifiers: false,
      namespaces: { identity: 'foo', property: 'bar' },
      reprocessing_policy: 'automatic',
      include_completeness: ['a'],
      metadata: { durable: true, global: true, '$config-group': 'g' },
    });
    expectValid(rel, { _id: 'p', type: 'pipe', source: { type: 'empty' }, transform: { type: 'dtl', rules: { default: [] } } });
  });

  it('rejects invalid pipes', () => {
    expectInvalid(rel, { _id: 'a/b', type: 'pipe', source: { type: 'empty' } }, /pattern/);
    expectInvalid(rel, { _id: 'a', type: 'system:url', source: { type: 'empty' } }, /constant/);
    expectInvalid(rel, { _id: 'a', type: 'pipe' }, /source/);
    expectInvalid(rel, { _id: 'a', type: 'pipe', source: {} }, /type/);
    expectInvalid(rel, { _id: 'a', type: 'pipe', source: { type: 'empty' }, batch_size: 0 }, />= 1/);
    expectInvalid(rel, { _id: 'a', type: 'pipe', source: { type: 'empty' }, transform: [{ rules: {} }] });
    expectInvalid(rel, { _id: 'a', type: 'pipe', source: { type: 'empty' }, reprocessing_policy: 'reset' });
    expectInvalid(rel, { _id: 'a', type: 'pipe', source: { type: 'empty' }, compaction: { keep_version: 2 } }, /additional/);
    expectInvalid(rel, { _id: 'a', type: 'pipe', source: { type: 'empty' }, compaction: { time_threshold_hours_pump: 24 } });
    expectInvalid(rel, { _id: 'a', type: 'pipe', source: { type: 'empty' }, permissions: [['maybe', [], []]] });
    expectInvalid(rel, { _id: 'a', type: 'pipe', source: { type: 'empty' }, sourse: {} }, /additional/);
  });
});

describe('pump', () => {
  const rel = 'pump.schema.json';

  it('fills documented defaults', () => {
    const out = expectValid(rel, { cron_expression: '0 0 * * *' });
    expect(out).toEqual({
      cron_expression: '0 0 * * *',
      run_at_startup: false,
      run_at_startup_if_not_populated: false,
      track_dead_letters: false,
      max_read_retries: 0,
      read_retry_delay: 0,
      write_retry_delay: 0,
      max_retries_per_entity: 5,
      max_consecutive_write_errors: 1,
      max_write_errors_in_retry_dataset: 0,
      batch_retries: 3,
      fallback_to_single_entities_on_batch_fail: true,
      mode: 'scheduled',
      log_events_noop_runs: false,
      log_events_noop_runs_changes_only: true,
      notification_granularity: 999999999999999,
    });
    expect(out).not.toHaveProperty('schedule_interval');
  });

  it('accepts the documented examples', () => {
    expectValid(rel, { schedule_interval: 30, rescan_cron_expression: '0 * * * *' });
    expectValid(rel, {
      cron_expression: '0 0 * * *',
      max_retries_per_entity: 5,
      max_consecutive_write_errors: 10,
      max_write_errors_in_retry_dataset: 100,
      dead_letter_dataset: 'mypipe-dead-letters',
    });
    expectValid(rel, { partial_rescan_run_count: 2, partial_rescan_delta: 3600, mode: 'manual', comment: ['a', 'b'] });
  });

  it('rejects invalid pumps', () => {
    expectInvalid(rel, { mode: 'sometimes' });
    expectInvalid(rel, { rescan_run_count: 0 });
    expectInvalid(rel, { partial_rescan_run_count: 2 }, /partial_rescan_delta/);
    expectInvalid(rel, { schedule_interval: '30' });
    expectInvalid(rel, { max_retries_per_entiy: 5 }, /additional/);
  });
});

describe('system and node metadata', () => {
  it('accepts a URL system and fills defaults', () => {
    const out = expectValid('systems/url.schema.json', {
      _id: 'our-http-server',
      type: 'system:url',
      name: 'Our HTTP Server',
      base_url: 'http://our.domain.com/files',
      authentication: 'ntlm',
      username: '$ENV(username-variable)',
      password: '$SECRET(password-variable)',
      retry_strategy: { '429': { write_retry_delay: 30, max_retries_per_entity: 100 }, default: { read_retry_delay: 0 } },
      oauth2: { client_id: 'id', client_secret: '$SECRET(s)', token_url: 'https://x/token', scope: ['a'] },
      metadata: { anything: [1, 2] },
    });
    expect(out.worker_threads).toBe(10);
    expect(out.verify_ssl).toBe(false);
    expect(out.connect_timeout).toBe(60);
    expect(out.read_timeout).toBe(1800);
    expect(out.ignore_invalid_content_length_response_header).toBe(false);
    expect(out.pipelining).toBe(1);
    expect(out).not.toHaveProperty('max_connections');
    expect(out.oauth2.refresh_window).toBe(30);
    expect(out).not.toHaveProperty('username_default');
  });

  it('rejects invalid URL systems', () => {
    const url = 'systems/url.schema.json';
    expectInvalid(url, { _id: 's', type: 'system:url' }, /url_pattern/);
    expectInvalid(url, { _id: 's', type: 'system:url', url_pattern: 'http://a/%s', base_url: 'http://a/' }, /url_pattern/);
    expectInvalid(url, { _id: 's', type: 'system:url', url_pattern: 'http://a/%s', username: 'u' }, /password/);
    expectInvalid(url, { _id: 's', type: 'system:url', url_pattern: 'http://a/%s', authentication: 'oauth' });
    expectInvalid(url, { _id: 'a/b', type: 'system:url', url_pattern: 'http://a/%s' });
    expectInvalid(url, { _id: 's', type: 'system:url', url_pattern: 'x', retry_strategy: { '500': { retries: 1 } } });
    expectInvalid(url, { _id: 's', type: 'system:url', url_pattern: 'x', tripletex: { ttl: 1 } }, /consumer_token/);
    expectInvalid(url, { _id: 's', type: 'system:url', url_pattern: 'x', pipelining: 0 }, /pipelining/);
    expectInvalid(url, { _id: 's', type: 'system:url', url_pattern: 'x', max_connections: 'many' }, /max_connections/);
  });

  it('accepts either url_pattern or base_url', () => {
    expectValid('systems/url.schema.json', { _id: 's', type: 'system:url', url_pattern: 'http://a/%s' });
    expectValid('systems/url.schema.json', { _id: 's', type: 'system:url', base_url: 'http://a/' });
  });

  it('validates the common system properties', () => {
    expectValid('system.schema.json', { _id: 'a', type: 'system:whatever', worker_threads: 2 });
    expectInvalid('system.schema.json', { _id: 'a', type: 'url' }, /pattern/);
  });

  it('accepts the documented service metadata and fills defaults', () => {
    const out = expectValid('node-metadata.schema.json', {
      _id: 'node',
      type: 'metadata',
      namespaces: { default: { example: 'http://example.org/' } },
      global_defaults: { use_signalling_internally: true, default_compaction_type: 'sink', trace: { log_request_body_maxsize: 10 } },
      dependency_tracking: { enable_hops_thresholds: true },
      task_manager: { disable_pump_scheduler: true },
    });
    expect(out.namespaced_identifiers).toBe(false);
    expect(out.global_defaults.max_merged).toBe(50000);
    expect(out.global_defaults.reprocessing_policy).toBe('continue');
    expect(out.global_defaults.verify_ssl).toBe(false);
    expect(out.global_defaults).not.toHaveProperty('if_source_empty');
    expect(out.global_defaults.trace).toEqual({
      log_request_body_maxsize: 10,
      log_request_headers: true,
      log_response_headers: true,
      log_response_body_maxsize: 100,
      log_secret_redacted_bytes: 600,
    });
    expect(out.dependency_tracking.dependency_error_threshold).toBe(50000);
    const plain = expectValid('node-metadata.schema.json', { _id: 'node', type: 'metadata', global_defaults: {} });
    expect(plain.global_defaults.trace).toBe(false);
  });

  it('rejects invalid service metadata', () => {
    const rel = 'node-metadata.schema.json';
    expectInvalid(rel, { _id: 'other', type: 'metadata' });
    expectInvalid(rel, { _id: 'node', type: 'metadata', global_defaults: { default_compaction_type: 'never' } });
    expectInvalid(rel, { _id: 'node', type: 'metadata', global_defaults: { trace: 'yes' } });
    expectInvalid(rel, { _id: 'node', type: 'metadata', global_defaults: { trace: { log_everything: true } } }, /additional/);
    expectInvalid(rel, { _id: 'node', type: 'metadata', global_defaults: { if_source_empty: 'ignore' } });
    expectInvalid(rel, { _id: 'node', type: 'metadata', namespaces: { default: { a: 1 } } });
  });
});

describe('sources', () => {
  it('dataset source', () => {
    const rel = 'sources/dataset.schema.json';
    const out = expectValid(rel, { type: 'dataset', dataset: 'northwind:customers', comment: 'x', name: 'n' });
    expect(out).toMatchObject({
      include_previous_versions: false,
      include_replaced: true,
      supports_signalling: false,
      require_populated_input: false,
      completeness: false,
      if_source_empty: 'accept',
      supports_since: true,
      is_since_comparable: true,
      is_chronological: true,
    });
    expectValid(rel, { type: 'dataset', dataset: 'a', completeness: ['b', 'c'], initial_completeness: ['d'] });
    expectValid(rel, { type: 'dataset', dataset: 'a', completeness: { expression: ['datetime-plus', 'day', -7, ['now']] } });
    expectValid(rel, { type: 'dataset', dataset: 'a', subset: ['eq', '_S.category', 'tank'] });
    expectInvalid(rel, { type: 'dataset' }, /dataset/);
    expectInvalid(rel, { type: 'dataset', dataset: 'a', completeness: 'yes' });
    expectInvalid(rel, { type: 'dataset', dataset: 'a', subset: ['neq', '_S.a', 1] });
    expectInvalid(rel, { type: 'dataset', dataset: 'a', if_source_empty: 'ignore' });
    expectInvalid(rel, { type: 'dataset', dataset: 'a', supports_since: false });
    expectInvalid(rel, { type: 'dataset', dataset: 'a', include_previous_version: true }, /additional/);
    expectInvalid(rel, { type: 'embedded', dataset: 'a' });
  });

  it('embedded and empty sources', () => {
    const out = expectValid('sources/embedded.schema.json', { type: 'embedded', entities: [{ _id: 'a' }], supports_since: true });
    expect(out.supports_since).toBe(true);
    expect(out.is_since_comparable).toBe(true);
    expect(out.is_chronological).toBe(false);
    expectInvalid('sources/embedded.schema.json', { type: 'embedded' });
    expectInvalid('sources/embedded.schema.json', { type: 'embedded', entities: [1] });
    expect(expectValid('sources/empty.schema.json', { type: 'empty' })).toEqual({
      type: 'empty',
      supports_since: false,
      is_since_comparable: true,
      is_chronological: true,
    });
    expectInvalid('sources/empty.schema.json', { type: 'empty', entities: [] }, /additional/);
  });

  it('union and merge datasets sources', () => {
    const u = expectValid('sources/union_datasets.schema.json', { type: 'union_datasets', datasets: ['men', 'women'] });
    expect(u.prefix_ids).toBe(true);
    expect(u.ignore_non_existent_datasets).toBe(true);
    expectInvalid('sources/union_datasets.schema.json', { type: 'union_datasets', datasets: [1] });
    const m = expectValid('sources/merge_datasets.schema.json', { type: 'merge_datasets', datasets: ['a', 'b'] });
    expect(m.strategy).toBe('latest');
    expectInvalid('sources/merge_datasets.schema.json', { type: 'merge_datasets', datasets: ['a'], strategy: 'first' });
  });

  it('merge source', () => {
    const rel = 'sources/merge.schema.json';
    const out = expectValid(rel, {
      type: 'merge',
      version: 2,
      datasets: ['A a', 'B b', 'C c'],
      equality: [['eq', 'a.f1', 'b.f1'], ['eq', 'b.f2', ['lower', 'c.f3']]],
      equality_sets: [['a.x', 'b.x']],
      identity: 'first',
    });
    expect(out.strategy).toBe('default');
    expect(out.max_merged).toBe(50000);
    expect(expectValid(rel, { type: 'merge', datasets: ['A a'] }).version).toBe(1);
    expectInvalid(rel, { type: 'merge', datasets: ['A'] }, /pattern/);
    expectInvalid(rel, { type: 'merge', datasets: [] });
    expectInvalid(rel, { type: 'merge', datasets: ['A a'], version: 3 });
    expectInvalid(rel, { type: 'merge', datasets: ['A a'], equality: [['neq', 'a.x', 'b.x']] });
    expectInvalid(rel, { type: 'merge', datasets: ['A a'], equality_sets: [[]] });
  });

  it('http_endpoint source with trace as boolean or object', () => {
    const rel = 'sources/http_endpoint.schema.json';
    const out = expectValid(rel, { type: 'http_endpoint' });
    expect(out).toMatchObject({ auto_populate_dataset: true, do_float_as_decimal: true, do_float_as_int: true, trace: false });
    const traced = expectValid(rel, { type: 'http_endpoint', trace: { log_request_headers: false } });
    expect(traced.trace).toEqual({
      log_request_headers: false,
      log_secret_redacted_bytes: 600,
      log_request_body_maxsize: 100,
      log_response_headers: true,
      log_response_body_maxsize: 100,
    });
    expect(expectValid(rel, { type: 'http_endpoint', trace: true }).trace).toBe(true);
    expectInvalid(rel, { type: 'http_endpoint', trace: 'on' });
    expectInvalid(rel, { type: 'http_endpoint', trace: { log_secret_redacted_bytes: -2 } });
  });

  it('json and csv sources', () => {
    const j = expectValid('sources/json.schema.json', { type: 'json', system: 's', url: '/get', headers: { a: 'b' }, supports_since: true, is_since_comparable: true });
    expect(j.is_chronological).toBe(false);
    expectInvalid('sources/json.schema.json', { type: 'json', url: '/get' }, /system/);
    expectInvalid('sources/json.schema.json', { type: 'json', system: 's', url: '/get', page_size: 0 });
    expectInvalid('sources/json.schema.json', { type: 'json', system: 's', url: '/get', headers: { a: 1 } });
    const c = expectValid('sources/csv.schema.json', { type: 'csv', system: 's', url: 'a.csv', primary_key: ['a', 'b'], encoding: 'iso-8859-1' });
    expect(c).toMatchObject({ has_header: true, auto_dialect: true, decode_error_strategy: 'strict', delimiter: ',', encoding: 'iso-8859-1' });
    expectInvalid('sources/csv.schema.json', { type: 'csv', system: 's', url: 'a.csv' }, /primary_key/);
    expectInvalid('sources/csv.schema.json', { type: 'csv', system: 's', url: 'a.csv', primary_key: 'a', dialect: 'tsv' });
  });

  it('conditional source', () => {
    const rel = 'sources/conditional.schema.json';
    expectValid(rel, { type: 'conditional', condition: '$ENV(env)', alternatives: { dev: { type: 'embedded', entities: [] }, prod: { type: 'sql' } } });
    expectInvalid(rel, { type: 'conditional', condition: 'x' }, /alternatives/);
    expectInvalid(rel, { type: 'conditional', condition: 'x', alternatives: { dev: { entities: [] } } });
  });
});

describe('sinks', () => {
  it('dataset sink', () => {
    const rel = 'sinks/dataset.schema.json';
    const out = expectValid(rel, { type: 'dataset', dataset: 'Northwind:Customer' });
    expect(out).toMatchObject({
      set_initial_offset: 'if-source-populated',
      indexes: [],
      enable_optimistic_locking: false,
      circuit_breaker_threshold_factor: null,
      circuit_breaker_threshold_count: null,
      deletion_tracking: true,
      mark_deletion_tracked: false,
      bitset_commit_interval: 1000000,
      prevent_multiple_versions: false,
      max_entity_bytes_size: 104857600,
    });
    expect(out).not.toHaveProperty('track_children');
    expect(out).not.toHaveProperty('suppress_filtered');
    expectValid(rel, { type: 'dataset' });
    expectValid(rel, { type: 'dataset', indexes: '$ids', prevent_multiple_versions: 'ignore', circuit_breaker_threshold_factor: 0.5 });
    expectValid(rel, { type: 'dataset', indexes: [['lower', '_S.a']], circuit_breaker_threshold_count: 100 });
    expectInvalid(rel, { type: 'dataset', dataset: 'system:pump_execution:x' });
    expectInvalid(rel, { type: 'dataset', dataset: 'a/b' });
    expectInvalid(rel, { type: 'dataset', set_initial_offset: 'sometimes' });
    expectInvalid(rel, { type: 'dataset', prevent_multiple_versions: 'fail' });
    expectInvalid(rel, { type: 'dataset', circuit_breaker_threshold_count: 1.5 });
  });

  it('null, http_endpoint, json and conditional sinks', () => {
    expect(expectValid('sinks/null.schema.json', { type: 'null' })).toEqual({ type: 'null' });
    expectInvalid('sinks/null.schema.json', { type: 'null', dataset: 'x' }, /additional/);
    expect(expectValid('sinks/http_endpoint.schema.json', { type: 'http_endpoint', filename: 'a.json' }).content_disposition).toBe('attachment');
    expectInvalid('sinks/http_endpoint.schema.json', { type: 'http_endpoint', content_disposition: 'download' });
    expect(expectValid('sinks/json.schema.json', { type: 'json', system: 's', url: 'http://x/entities' }).batch_size).toBe(100);
    expectInvalid('sinks/json.schema.json', { type: 'json', system: 's' }, /url/);
    expectValid('sinks/conditional.schema.json', { type: 'conditional', condition: 'a', alternatives: { a: { type: 'null' } } });
    expectInvalid('sinks/conditional.schema.json', { type: 'conditional', alternatives: {} }, /condition/);
  });

  it('csv_endpoint sink', () => {
    const rel = 'sinks/csv_endpoint.schema.json';
    const out = expectValid(rel, { type: 'csv_endpoint', columns: ['_id', 'foo'] });
    expect(out).toMatchObject({
      quoting: 'minimal',
      delimiter: ',',
      doublequote: true,
      include_header: true,
      escapechar: null,
      lineterminator: '\r\n',
      quotechar: '"',
      byte_order_mark: false,
      encoding: 'utf-8',
      encode_error_strategy: 'backslashreplace',
      'skip-deleted-entities': true,
      content_disposition: 'attachment',
    });
    expectValid(rel, { type: 'csv_endpoint', columns: ['a'], escapechar: '\\', quoting: 'non-numeric' });
    expectInvalid(rel, { type: 'csv_endpoint' }, /columns/);
    expectInvalid(rel, { type: 'csv_endpoint', columns: ['a'], quotechar: "''" });
    expectInvalid(rel, { type: 'csv_endpoint', columns: ['a'], quoting: 'some' });
  });
});

describe('transforms', () => {
  it('dtl transform', () => {
    const rel = 'transforms/dtl.schema.json';
    const out = expectValid(rel, {
      type: 'dtl',
      rules: { default: [['copy', '*']], order: [['add', 'x', 1]] },
      trigger_on: { value: 'some-value*' },
    });
    expect(out.id_required).toBe(true);
    expect(out.side_effects).toBe(false);
    expect(out.trigger_on).toEqual({ key: '_trigger', value: 'some-value*' });
    expectInvalid(rel, { type: 'dtl', rules: { order: [] } }, /default/);
    expectInvalid(rel, { type: 'dtl', rules: { default: {} } });
    expectInvalid(rel, { type: 'dtl', rules: { default: [], other: 'x' } });
    expectInvalid(rel, { type: 'dtl' }, /rules/);
    expectInvalid(rel, { type: 'dtl', rules: { default: [] }, trigger_on: { key: 'a' } }, /value/);
  });

  it('emit_children, http and conditional transforms', () => {
    expect(expectValid('transforms/emit_children.schema.json', { type: 'emit_children' })).toEqual({ type: 'emit_children', side_effects: false });
    expectInvalid('transforms/emit_children.schema.json', { type: 'emit_children', rules: {} }, /additional/);
    const h = expectValid('transforms/http.schema.json', { type: 'http', system: 's', url: 'http://x/t', headers: { a: 'b' } });
    expect(h.side_effects).toBe(true);
    expect(h.batch_size).toBe(100);
    expectInvalid('transforms/http.schema.json', { type: 'http', url: 'x' }, /system/);
    expectValid('transforms/conditional.schema.json', { type: 'conditional', condition: 'a', alternatives: { a: { type: 'dtl', rules: { default: [] } } } });
    expectInvalid('transforms/conditional.schema.json', { type: 'conditional', condition: 'a', alternatives: { a: 1 } });
  });
});

describe('annotations', () => {
  function collect(keyword: string): string[] {
    const out: string[] = [];
    for (const [rel, s] of schemas) walk(s, rel + '#', (node, path) => {
      if (keyword in node) out.push(`${path}=${JSON.stringify(node[keyword])}`);
    });
    return out.sort();
  }

  it('marks dataset references', () => {
    expect(collect('x-dataset-ref')).toEqual([
      'pump.schema.json#/properties/dead_letter_dataset="write"',
      'sinks/dataset.schema.json#/properties/dataset="write"',
      'sources/dataset.schema.json#/properties/completeness="read"',
      'sources/dataset.schema.json#/properties/dataset="read"',
      'sources/dataset.schema.json#/properties/initial_completeness="read"',
      'sources/merge.schema.json#/properties/datasets="read"',
      'sources/merge.schema.json#/properties/initial_datasets="read"',
      'sources/merge_datasets.schema.json#/properties/datasets="read"',
      'sources/merge_datasets.schema.json#/properties/initial_datasets="read"',
      'sources/union_datasets.schema.json#/properties/datasets="read"',
      'sources/union_datasets.schema.json#/properties/initial_datasets="read"',
    ]);
    expect(collect('x-dataset-ref-format')).toEqual(['sources/merge.schema.json#/properties/datasets="id-alias"']);
  });

  it('marks system references', () => {
    expect(collect('x-system-ref')).toEqual([
      'sinks/elasticsearch.schema.json#/properties/system=true',
      'sinks/json.schema.json#/properties/system=true',
      'sinks/mail.schema.json#/properties/system=true',
      'sinks/rest.schema.json#/properties/system=true',
      'sinks/sql.schema.json#/properties/system=true',
      'sources/binary.schema.json#/properties/system=true',
      'sources/csv.schema.json#/properties/system=true',
      'sources/embedded.schema.json#/properties/system=true',
      'sources/http_endpoint.schema.json#/properties/system=true',
      'sources/json.schema.json#/properties/system=true',
      'sources/ldap.schema.json#/properties/system=true',
      'sources/rest.schema.json#/properties/system=true',
      'sources/sql.schema.json#/properties/system=true',
      'transforms/http.schema.json#/properties/system=true',
      'transforms/json_schema.schema.json#/properties/system=true',
      'transforms/rest.schema.json#/properties/system=true',
    ]);
  });

  it('rejects unknown annotation values', () => {
    const ajv = makeAjv();
    expect(() => ajv.compile({ type: 'object', properties: { d: { type: 'string', 'x-dataset-ref': 'delete' } } })).toThrow();
  });
});
