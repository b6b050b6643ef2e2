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
