/**
 * What real Sesam configurations rely on: byte order marks, the implied dataset sink, and
 * documented component types Sluice does not have yet.
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import { readConfig, type SourceFile } from '../../compiler/load/files.js';
import { findSchemasDir, SchemaSet } from '../../compiler/validate/schemas.js';
import { sluice } from '../support/cli.js';

const BOM = '\ufeff';

function pipeFile(entity: Record<string, unknown>, text = JSON.stringify(entity, null, 2)): SourceFile {
  return { path: `pipes/${String(entity._id)}.conf.json`, text, format: 'json', role: 'pipe' };
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-real-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const codes = (ds: { code: string; severity: string }[]) => ds.map((d) => `${d.severity} ${d.code}`);

describe('byte order marks', () => {
  const orders = { _id: 'orders', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'o1', currency: '$ENV(currency)' }] } };

  it('are skipped at the start of config files, in JSON and in YAML', () => {
    const yaml = { path: 'pipes/report.conf.yaml', text: `${BOM}_id: report\ntype: pipe\nsource:\n  type: dataset\n  dataset: orders\n`, format: 'yaml', role: 'pipe' } as SourceFile;
    const { plan, diagnostics } = compile([pipeFile(orders, BOM + JSON.stringify(orders)), yaml], { env: { currency: 'NOK' } });
    expect(diagnostics).toEqual([]);
    expect(plan!.pipes.map((p) => p.id)).toEqual(['orders', 'report']);
  });

  it('keep positions on the first line as an editor shows them', () => {
    const { diagnostics } = compile([pipeFile(orders, `${BOM}{"_id": "orders", "type": "pipe", "source": {"type": "embedded", "entities": [}}`)]);
    expect(diagnostics).toMatchObject([{ file: 'pipes/orders.conf.json', line: 1, column: 79, code: 'CONFIG_SYNTAX' }]);
  });

  it('in test-env.json do not stop sluice validate, and $ENV values come from that file', () => {
    const dir = project({ 'test-env.json': `${BOM}{"currency": "NOK"}\n`, 'pipes/orders.conf.json': BOM + JSON.stringify(orders) });
    const text = sluice(['validate', dir]);
    expect(text.stderr).toBe('');
    expect(text.stdout.trim()).toBe('ok: 1 pipes, 0 systems');
    expect(text.status).toBe(0);
    const json = sluice(['validate', dir, '--format', 'json']);
    expect([json.status, JSON.parse(json.stdout)]).toEqual([0, []]);
  });

  it('an env file that is not JSON is reported at its line and column, in text and JSON output', () => {
    const dir = project({ 'test-env.json': `${BOM}{\n  "currency": "NOK",\n  "rate": \n}\n`, 'pipes/orders.conf.json': JSON.stringify(orders) });
    const text = sluice(['validate', dir]);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/^test-env\.json:4:1 error CONFIG_SYNTAX invalid JSON: unexpected '}'/m);
    const json = sluice(['validate', dir, '--format', 'json']);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toContainEqual(expect.objectContaining({ file: 'test-env.json', line: 4, column: 1, code: 'CONFIG_SYNTAX' }));
    const compiled = sluice(['compile', dir, '--format', 'json']);
    expect(compiled.status).toBe(1);
    expect(JSON.parse(compiled.stdout)).toContainEqual(expect.objectContaining({ file: 'test-env.json', line: 4 }));
  });

  it('a secrets file and a missing config path are reported as located diagnostics in JSON output', () => {
    const dir = project({ 'pipes/orders.conf.json': JSON.stringify({ ...orders, source: { type: 'embedded', entities: [] } }), 'secrets.json': '["token",]' });
    const secrets = sluice(['validate', dir, '--secrets-file', join(dir, 'secrets.json'), '--format', 'json']);
    expect(JSON.parse(secrets.stdout)).toContainEqual(expect.objectContaining({ file: join(dir, 'secrets.json'), line: 1, column: 10, code: 'CONFIG_SYNTAX' }));
    const missing = sluice(['validate', join(dir, 'nothing-here'), '--format', 'json']);
    expect(missing.status).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual([expect.objectContaining({ code: 'CONFIG_IO', line: 1, column: 1 })]);
  });

  it('are read from a folder the way the files are on disk', () => {
    const dir = project({ 'node-metadata.conf.json': `${BOM}{"_id": "node", "type": "metadata"}`, 'pipes/orders.conf.json': BOM + JSON.stringify(orders) });
    expect(readConfig(dir).every((f) => !f.text.startsWith(BOM))).toBe(true);
  });
});

describe('the sink Sesam implies', () => {
  const input = { _id: 'crm-person', type: 'pipe', source: { type: 'embedded', entities: [{ _id: '1' }] } };

  it('a sink without "type" is a dataset sink that writes the pipe id', () => {
    const typeless = { ...input, sink: { set_initial_offset: 'onload' } };
    const reader = { _id: 'person', type: 'pipe', source: { type: 'dataset', dataset: 'crm-person' } };
    const { plan, diagnostics } = compile([pipeFile(typeless), pipeFile(reader)]);
    expect(diagnostics).toEqual([]);
    const pipe = plan!.pipes.find((p) => p.id === 'crm-person')!;
    expect(pipe.sink).toMatchObject({ type: 'dataset', config: { type: 'dataset', dataset: 'crm-person', set_initial_offset: 'onload' } });
    expect(pipe.writes).toBe('crm-person');
    expect(plan!.graph.upstream.person).toEqual(['crm-person']);
  });

  it('a dataset sink without "dataset" writes the pipe id', () => {
    const { plan, diagnostics } = compile([pipeFile({ ...input, sink: { type: 'dataset' } })]);
    expect(diagnostics).toEqual([]);
    expect(plan!.pipes[0].sink.config.dataset).toBe('crm-person');
    expect(plan!.pipes[0].writes).toBe('crm-person');
  });

  it('a dataset sink chosen by a conditional sink writes the pipe id too', () => {
    const conditional = { ...input, sink: { type: 'conditional', condition: 'prod', alternatives: { prod: { type: 'dataset', deletion_tracking: false }, test: { type: 'null' } } } };
    const { plan, diagnostics } = compile([pipeFile(conditional)]);
    expect(diagnostics).toEqual([]);
    expect(plan!.pipes[0].sink.config).toMatchObject({ type: 'dataset', dataset: 'crm-person', deletion_tracking: false });
  });

  it('a dataset produced by a pipe whose sink has an error is still produced for the other pipes', () => {
    const broken = { ...input, sink: { deletion_tracking: 'yes' } };
    const reader = { _id: 'person', type: 'pipe', source: { type: 'dataset', dataset: 'crm-person' } };
    const { diagnostics } = compile([pipeFile(broken), pipeFile(reader)]);
    expect(codes(diagnostics)).toEqual(['error CONFIG_SCHEMA']);
  });
});

describe('documented components Sluice does not have yet', () => {
  const system = { _id: 'erp', type: 'system:url', base_url: 'http://erp.example.org/' };
  const systemFile: SourceFile = { path: 'systems/erp.conf.json', text: JSON.stringify(system), format: 'json', role: 'system' };
  const kafkaPipe = {
    _id: 'erp-order',
    type: 'pipe',
    source: { type: 'kafka', system: 'erp', topic: 'orders', name: 7 },
    transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'total', ['summ', '_S.lines']]] } },
    sink: { type: 'dataset', dataset: 'erp-order' },
  };

  it('are COMPONENT_UNSUPPORTED, not unknown, and the rest of the pipe is still checked', () => {
    const { plan, diagnostics } = compile([systemFile, pipeFile(kafkaPipe)]);
    expect(plan).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['COMPONENT_UNSUPPORTED', 'Sluice does not support source type "kafka" yet (source of pipe "erp-order")'],
      ['CONFIG_SCHEMA', '"name" must be string, not integer'],
      ['DTL_UNKNOWN_FUNCTION', 'unknown function "summ" (did you mean "sum"?)'],
    ]);
  });

  it('keep their system and dataset references: unknown systems are errors, produced datasets need no warning', () => {
    const noSystem = compile([pipeFile(kafkaPipe)]).diagnostics;
    expect(noSystem.find((d) => d.code === 'PIPE_UNKNOWN_SYSTEM')?.message).toBe('pipe "erp-order" refers to system "erp", which is not defined');
    const replica = { _id: 'replica', type: 'pipe', source: { type: 'sdshare', system: 'erp', datasets: ['erp-order e'] }, sink: { type: 'replicated_dataset', dataset: 'copy' } };
    const reader = { _id: 'reader', type: 'pipe', source: { type: 'dataset', dataset: 'copy' } };
    const reads = { _id: 'reads', type: 'pipe', source: { type: 'union_datasets', datasets: ['erp-order', 'nowhere'] } };
    const { diagnostics } = compile([systemFile, pipeFile(kafkaPipe), pipeFile(replica), pipeFile(reader), pipeFile(reads)]);
    const warnings = diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message);
    expect(warnings).toEqual(['pipe "reads" reads dataset "nowhere", which no pipe produces']);
    expect(diagnostics.filter((d) => d.code === 'COMPONENT_UNSUPPORTED').map((d) => d.message)).toEqual([
      'Sluice does not support source type "kafka" yet (source of pipe "erp-order")',
      'Sluice does not support source type "sdshare" yet (source of pipe "replica")',
      'Sluice does not support sink type "replicated_dataset" yet (sink of pipe "replica")',
    ]);
  });

  it('systems and transforms of documented types get the same code', () => {
    const ldap = { path: 'systems/dir.conf.json', text: JSON.stringify({ _id: 'dir', type: 'system:twilio', account: 'x' }), format: 'json', role: 'system' } as SourceFile;
    const templated = { _id: 't', type: 'pipe', source: { type: 'embedded', entities: [] }, transform: [{ type: 'rdf' }, { type: 'dtl', rules: { default: [['copy', '*']] } }] };
    const { diagnostics } = compile([ldap, pipeFile(templated)]);
    expect(diagnostics.map((d) => d.message)).toEqual(['Sluice does not support transform type "rdf" yet (transform 1 of pipe "t")', 'Sluice does not support system type "system:twilio" yet (system "dir")']);
  });

  it('a misspelt type is still unknown, with a suggestion', () => {
    const { diagnostics } = compile([pipeFile({ ...kafkaPipe, source: { type: 'sqll', system: 'erp' } }), systemFile]);
    expect(diagnostics[0]).toMatchObject({ code: 'CONFIG_UNKNOWN_TYPE' });
    expect(diagnostics[0].message).toMatch(/^unknown source type "sqll" \(did you mean "sql"\?\); supported: /);
  });

  it('become supported as soon as their schema file exists, without editing the list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-schemas-'));
    cpSync(findSchemasDir(), dir, { recursive: true });
    writeFileSync(
      join(dir, 'sources', 'sdshare.schema.json'),
      JSON.stringify({ type: 'object', properties: { type: { const: 'sdshare', description: 'x' }, system: { type: 'string', 'x-system-ref': true } }, required: ['type', 'system'], additionalProperties: false }),
    );
    const pipe = { _id: 'feed', type: 'pipe', source: { type: 'sdshare', system: 'erp' } };
    const before = compile([systemFile, pipeFile(pipe)]);
    expect(before.diagnostics.map((d) => d.code)).toEqual(['COMPONENT_UNSUPPORTED']);
    const after = compile([systemFile, pipeFile(pipe)], { schemas: SchemaSet.load(dir) });
    expect(after.diagnostics).toEqual([]);
    expect(after.plan!.pipes[0].systems).toEqual(['erp']);
  });
});

describe('what real configurations write', () => {
  const embedded = { type: 'embedded', entities: [{ _id: '1' }] };

  it('a transit decimal where a number is expected is that number', () => {
    const pipe = { _id: 'push', type: 'pipe', source: embedded, pump: { write_retry_delay: '~f0.5', max_retries_per_entity: '~f3' } };
    const { plan, diagnostics } = compile([pipeFile(pipe)]);
    expect(diagnostics).toEqual([]);
    expect(plan!.pipes[0].pump).toMatchObject({ write_retry_delay: 0.5, max_retries_per_entity: 3 });
    const fraction = compile([pipeFile({ ...pipe, pump: { max_retries_per_entity: '~f2.5' } })]).diagnostics;
    expect(fraction.map((d) => d.message)).toEqual(['"max_retries_per_entity" must be integer, not string']);
  });

  it('an unset $ENV(...) in a condition is reported once, not also as an alternative that does not match', () => {
    const pipe = { _id: 'conditional', type: 'pipe', source: { type: 'conditional', condition: '$ENV(node-env)', alternatives: { prod: embedded, test: embedded } } };
    expect(codes(compile([pipeFile(pipe)]).diagnostics)).toEqual(['error CONFIG_ENV_UNRESOLVED']);
  });

  it('an http_endpoint source may name the system whose secrets its validation expression reads', () => {
    const pipe = { _id: 'webhook', type: 'pipe', source: { type: 'http_endpoint', system: 'erp' } };
    const system = { path: 'systems/erp.conf.json', text: JSON.stringify({ _id: 'erp', type: 'system:url', base_url: 'http://erp.example.org/' }), format: 'json', role: 'system' } as SourceFile;
    expect(compile([pipeFile(pipe), system]).diagnostics).toEqual([]);
    expect(codes(compile([pipeFile(pipe)]).diagnostics)).toEqual(['error PIPE_UNKNOWN_SYSTEM']);
  });

  it('a "chained" transform is the list of transforms it holds', () => {
    const chained = {
      _id: 'chained',
      type: 'pipe',
      source: embedded,
      transform: { type: 'chained', transforms: [{ type: 'dtl', rules: { default: [['copy', '*'], ['add', 'a', 1]] } }, { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'b', ['plus', '_S.a', 1]]] } }] },
    };
    const { plan, diagnostics } = compile([pipeFile(chained)]);
    expect(diagnostics).toEqual([]);
    expect(plan!.pipes[0].transforms.map((t) => t.type)).toEqual(['dtl', 'dtl']);
    expect((plan!.pipes[0].effective.transform as unknown[]).length).toBe(2);
  });

  it('a DTL rule may be one transform instead of a list of them, and hops may join inside "or"', () => {
    const rules = {
      default: [['add', 'place', ['apply-hops', 'place', { datasets: ['postcodes p'], where: [['or', ['eq', '_S.postcode', 'p.code'], ['eq', '_S.zip', 'p.code']]] }]]],
      place: ['add', 'city', '_S.name'],
    };
    const pipe = { _id: 'places', type: 'pipe', source: embedded, transform: { type: 'dtl', rules } };
    const postcodes = { _id: 'postcodes', type: 'pipe', source: { type: 'embedded', entities: [] } };
    expect(compile([pipeFile(pipe), pipeFile(postcodes)]).diagnostics).toEqual([]);
    const unjoined = { ...pipe, transform: { type: 'dtl', rules: { default: [['add', 'x', ['hops', { datasets: ['postcodes p'], where: [['eq', 'p.code', '0150']] }]]] } } };
    expect(compile([pipeFile(unjoined), pipeFile(postcodes)]).diagnostics.map((d) => d.message)).toEqual(['dataset alias "p" is not joined to the source entity by an "eq" in "where"']);
  });
});

describe('values that wait for an unset $ENV(...)', () => {
  const embedded = { type: 'embedded', entities: [{ _id: '1' }] };
  const systemFile = (entity: Record<string, unknown>): SourceFile => ({ path: `systems/${String(entity._id)}.conf.json`, text: JSON.stringify(entity, null, 2), format: 'json', role: 'system' });
  const onlyUnresolved = (ds: { code: string; severity: string; message: string }[]) => ds.map((d) => `${d.code} ${d.message}`);

  it('are reported once, where the reference is written, and not again by the checks of the value', () => {
    const jira = { _id: 'jira', type: 'system:postgresql', host: 'jira.example.org', database: 'jira', username: 'reader', password: 'x', port: '$ENV(jira-port)' };
    const search = { _id: 'search', type: 'system:elasticsearch', hosts: '$ENV(search-hosts)' };
    const ldap = { _id: 'directory', type: 'system:ldap', host: 'ldap.example.org', port: '$ENV(ldap-port)', use_ssl: '$ENV(ldap-ssl)' };
    const nightly = { _id: 'nightly', type: 'pipe', source: embedded, pump: { cron_expression: '$ENV(nightly-cron)' } };
    const mixed = { _id: 'mixed', type: 'pipe', source: embedded, pump: { cron_expression: '0 $ENV(hour) * * *' } };
    const { diagnostics } = compile([systemFile(jira), systemFile(search), systemFile(ldap), pipeFile(nightly), pipeFile(mixed)]);
    expect(onlyUnresolved(diagnostics)).toEqual([
      'CONFIG_ENV_UNRESOLVED environment variable "hour" is not set',
      'CONFIG_ENV_UNRESOLVED environment variable "nightly-cron" is not set',
      'CONFIG_ENV_UNRESOLVED environment variable "ldap-port" is not set',
      'CONFIG_ENV_UNRESOLVED environment variable "ldap-ssl" is not set',
      'CONFIG_ENV_UNRESOLVED environment variable "jira-port" is not set',
      'CONFIG_ENV_UNRESOLVED environment variable "search-hosts" is not set',
    ]);
  });

  it('name no system or dataset yet, and a component type that waits for one is not unknown', () => {
    const reader = { _id: 'reader', type: 'pipe', source: { type: 'dataset', dataset: '$ENV(input-dataset)' }, sink: { type: 'rest', system: '$ENV(target-system)', operation: 'post' } };
    const typed = { _id: 'typed', type: 'pipe', source: { type: '$ENV(source-type)' } };
    const { diagnostics } = compile([pipeFile(reader), pipeFile(typed)]);
    expect(codes(diagnostics)).toEqual(['error CONFIG_ENV_UNRESOLVED', 'error CONFIG_ENV_UNRESOLVED', 'error CONFIG_ENV_UNRESOLVED']);
  });

  it('a $conditional_properties block with an unset condition leaves what its alternatives set undecided, not missing', () => {
    const api = { _id: 'api', type: 'system:url', $conditional_properties: { condition: '$ENV(environment)', alternatives: { prod: { base_url: 'https://api.example.org/' }, test: { base_url: 'https://test.example.org/' } } } };
    expect(onlyUnresolved(compile([systemFile(api)]).diagnostics)).toEqual(['CONFIG_ENV_UNRESOLVED environment variable "environment" is not set']);
    const other = { ...api, $conditional_properties: { condition: 'prod', alternatives: { prod: { verify_ssl: false } } } };
    expect(onlyUnresolved(compile([systemFile(other)]).diagnostics)).toEqual(['CONFIG_SCHEMA system "api" is missing required property "url_pattern"']);
  });

  it('a conditional sink whose condition waits still produces its dataset for the pipes that read it', () => {
    const writer = { _id: 'crm-person', type: 'pipe', source: embedded, sink: { type: 'conditional', condition: '$ENV(node-env)', alternatives: { prod: { type: 'dataset' }, test: { type: 'dataset' } } } };
    const reader = { _id: 'person', type: 'pipe', source: { type: 'dataset', dataset: 'crm-person' } };
    expect(codes(compile([pipeFile(writer), pipeFile(reader)]).diagnostics)).toEqual(['error CONFIG_ENV_UNRESOLVED']);
  });

  it('in alternatives the condition does not choose are no problem of this config', () => {
    const crm = { _id: 'crm-person', type: 'pipe', source: { type: 'conditional', condition: '$ENV(node-env)', alternatives: { prod: { type: 'json', system: 'crm', url: '$ENV(crm-person-url)' }, test: embedded } } };
    const crmSystem = { _id: 'crm', type: 'system:url', base_url: 'https://crm.example.org/', $conditional_properties: { condition: '$ENV(node-env)', alternatives: { prod: { headers: { Authorization: '$SECRET(crm-token)' }, base_url: '$ENV(crm-url)' }, test: {} } } };
    const test = compile([pipeFile(crm), systemFile(crmSystem)], { env: { 'node-env': 'test' }, secrets: [] });
    expect(test.diagnostics).toEqual([]);
    expect(test.plan!.pipes[0].source.type).toBe('embedded');
    const prod = compile([pipeFile(crm), systemFile(crmSystem)], { env: { 'node-env': 'prod' }, secrets: [] });
    expect(onlyUnresolved(prod.diagnostics)).toEqual([
      'CONFIG_ENV_UNRESOLVED environment variable "crm-person-url" is not set',
      'CONFIG_SECRET_UNRESOLVED secret "crm-token" is not set: what uses it fails until it is set',
      'CONFIG_ENV_UNRESOLVED environment variable "crm-url" is not set',
    ]);
  });

  it('a secret that is not set is a warning, and the plan keeps the reference', () => {
    const crmSystem = { _id: 'crm', type: 'system:url', base_url: 'https://crm.example.org/', headers: { Authorization: 'Bearer $SECRET(crm-token)' } };
    const node = compile([systemFile(crmSystem)], { secrets: ['crm-tokn'] });
    expect(codes(node.diagnostics)).toEqual(['warning CONFIG_SECRET_UNRESOLVED']);
    expect(node.plan!.systems[0].effective.headers).toEqual({ Authorization: 'Bearer $SECRET(crm-token)' });
  });

  it('once set, take the JSON type of the variable where the reference is the whole value, and text inside a longer string', () => {
    const search = { _id: 'search', type: 'system:elasticsearch', hosts: '$ENV(search-hosts)' };
    const ldap = { _id: 'directory', type: 'system:ldap', host: 'ldap.example.org', port: '$ENV(ldap-port)', use_ssl: '$ENV(ldap-ssl)' };
    const api = { _id: 'api', type: 'system:url', base_url: 'http://$ENV(api-host):$ENV(api-port)/v$ENV(api-versions)' };
    const nightly = { _id: 'nightly', type: 'pipe', source: embedded, pump: { cron_expression: '$ENV(nightly-cron)' } };
    const env = { 'search-hosts': ['es1:9200', 'es2:9200'], 'ldap-port': 636, 'ldap-ssl': true, 'api-host': 'api.example.org', 'api-port': 8443, 'api-versions': [2], 'nightly-cron': '0/15 0-4 * * *' };
    const { plan, diagnostics } = compile([systemFile(search), systemFile(ldap), systemFile(api), pipeFile(nightly)], { env });
    expect(diagnostics).toEqual([]);
    const system = (id: string) => plan!.systems.find((s) => s.id === id)!.effective;
    expect(system('search').hosts).toEqual(['es1:9200', 'es2:9200']);
    expect([system('directory').port, system('directory').use_ssl]).toEqual([636, true]);
    expect(system('api').base_url).toBe('http://api.example.org:8443/v[2]');
    expect(plan!.pipes[0].pump.cron_expression).toBe('0/15 0-4 * * *');
    const wrongType = compile([systemFile(search)], { env: { 'search-hosts': 'es1:9200' } }).diagnostics;
    expect(onlyUnresolved(wrongType)).toEqual(['CONFIG_SCHEMA "hosts" must be array, not string']);
  });
});

describe('sql sink schema definitions as Sesam generates them', () => {
  const system: SourceFile = { path: 'systems/warehouse.conf.json', text: JSON.stringify({ _id: 'warehouse', type: 'system:mysql', host: 'db.example.org', database: 'dw', username: 'loader', password: 'x' }), format: 'json', role: 'system' };
  const sink = (columns: Record<string, unknown>[]) => ({ _id: 'salary-endpoint', type: 'pipe', source: { type: 'embedded', entities: [] }, sink: { type: 'sql', system: 'warehouse', table: 'Salary', schema_definition: columns } });

  it('take ranges as values of the column type: transit datetimes and decimals, numbers, and integers past 2^53', () => {
    const columns = [
      { type: 'integer', name: 'EmployeeId', primary_key: true, allow_null: false, min_value: 1001, max_value: 4711 },
      { type: 'datetime', name: 'ValidFrom', min_value: '~t1987-11-01T00:00:00Z', max_value: '~t2120-05-26T11:34:47Z' },
      { type: 'decimal', name: 'Amount', min_value: '~f0.00', max_value: '~f101778.00', precision: 12, scale: 2 },
      { type: 'float', name: 'Rate', min_value: '~f0.5', max_value: 1000000000 },
      { type: 'integer', name: 'Serial', min_value: 0, max_value: 0 },
    ];
    const text = JSON.stringify(sink(columns)).replace('"min_value":0,"max_value":0', '"min_value":-9223372036854775808,"max_value":9223372036854775807');
    const { plan, diagnostics } = compile([system, pipeFile(sink(columns), text)]);
    expect(diagnostics).toEqual([]);
    const definition = plan!.pipes[0].sink.config.schema_definition as Record<string, unknown>[];
    expect(definition[1]).toMatchObject({ min_value: '~t1987-11-01T00:00:00Z', max_value: '~t2120-05-26T11:34:47Z' });
    expect(definition[4]).toMatchObject({ min_value: -9223372036854775808n, max_value: 9223372036854775807n });
  });

  it('may name column types of the database the pipe was written for, and a bound that is no transit value is only text', () => {
    const columns = [
      { type: 'integer', name: 'AvdelingsNr', primary_key: true, min_value: 0, max_value: 9999 },
      { type: 'datetime2', name: 'Opprettet', min_value: '~t1970-12-18T23:00:00Z', max_value: '~3999-01-27T23:00:00Z' },
      { type: 'bit', name: 'Slettet', min_value: 0, max_value: 1 },
    ];
    expect(compile([system, pipeFile(sink(columns))]).diagnostics).toEqual([]);
    const broken = compile([system, pipeFile(sink([{ type: 'string', name: 'Navn', max_size: 'long', min_value: { at: 1 } }]))]).diagnostics;
    expect(broken.map((d) => d.message)).toEqual(['"schema_definition.0.max_size" must be integer, not string', '"schema_definition.0.min_value" must be number or string, not object']);
  });
});

describe('a conditional transform that chooses a "chained" one', () => {
  it('is the transforms the chosen chain lists', () => {
    const dtl = (name: string) => ({ type: 'dtl', rules: { default: [['copy', '*'], ['add', name, true]] } });
    const pipe = { _id: 'sites', type: 'pipe', source: { type: 'embedded', entities: [{ _id: '1' }] }, transform: { type: 'conditional', condition: 'prod', alternatives: { prod: { type: 'chained', transforms: [dtl('a'), dtl('b')] }, test: dtl('c') } } };
    const { plan, diagnostics } = compile([pipeFile(pipe)]);
    expect(diagnostics).toEqual([]);
    expect(plan!.pipes[0].transforms.map((t) => Object.keys(((t.config.rules as { default: unknown[][] }).default[1] as string[]).slice(1, 2)).length)).toEqual([1, 1]);
    expect(plan!.pipes[0].transforms.map((t) => (t.config.rules as { default: unknown[][] }).default[1][1])).toEqual(['a', 'b']);
    const test = compile([pipeFile({ ...pipe, transform: { ...pipe.transform, condition: 'test' } })]);
    expect(test.plan!.pipes[0].transforms.map((t) => (t.config.rules as { default: unknown[][] }).default[1][1])).toEqual(['c']);
  });
});

describe('node metadata as Sesam\'s client uploads it', () => {
  it('takes the settings the client writes into it without warnings', () => {
    const metadata = { _id: 'node', type: 'metadata', task_manager: { disable_user_pipes: true }, global_defaults: { eager_load_microservices: false, enable_cpp_extensions: false } };
    const file: SourceFile = { path: 'node-metadata.conf.json', text: JSON.stringify(metadata), format: 'json', role: 'node-metadata' };
    expect(compile([file]).diagnostics).toEqual([]);
  });
});
