import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { compile } from '../../compiler/compile.js';
import { readConfig, type SourceFile } from '../../compiler/load/files.js';
import { checkPlan, parsePlan, PlanFormatError } from '../../compiler/plan/load.js';
import { diffPlans } from '../../compiler/plan/diff.js';
import { CompiledDtl } from '../../compiler/dtl/compiled.js';
import { DtlContext } from '../../compiler/dtl/runtime.js';
import { encode } from '../../compiler/values/transit.js';

const entities = [
  { _id: 'node', type: 'metadata' },
  { _id: 'crm', type: 'system:url', base_url: '$ENV(crm-url)', headers: { Authorization: 'Bearer $SECRET(crm-token)' } },
  { _id: 'people', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a', first: 'Ada', last: 'L' }] } },
  {
    _id: 'names',
    type: 'pipe',
    source: { type: 'dataset', dataset: 'people' },
    transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'name', ['concat', '_S.first', ' ', '_S.last']]] } },
    pump: { schedule_interval: '$ENV(interval)' },
  },
];

function single(text: string, path = 'config.json'): SourceFile[] {
  return [{ path, text, format: path.endsWith('.json') ? 'json' : 'yaml', role: 'single' }];
}

const env = { 'crm-url': 'http://crm.example.org/', interval: 45 };

describe('config loading and the execution plan', () => {
  it('compiles a single JSON file holding a list of entities', () => {
    const { plan, diagnostics } = compile(single(JSON.stringify(entities)), { env });
    expect(diagnostics).toEqual([]);
    expect(plan!.pipes.map((p) => p.id)).toEqual(['names', 'people']);
    expect(plan!.graph.order).toEqual(['people', 'names']);
    expect(plan!.graph.upstream.names).toEqual(['people']);
  });

  it('gives the same plan for a folder, a single JSON file and YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
    mkdirSync(join(dir, 'pipes'));
    mkdirSync(join(dir, 'systems'));
    writeFileSync(join(dir, 'node-metadata.conf.json'), JSON.stringify(entities[0]));
    writeFileSync(join(dir, 'systems', 'crm.conf.json'), JSON.stringify(entities[1]));
    writeFileSync(join(dir, 'pipes', 'people.conf.json'), JSON.stringify(entities[2], null, 2));
    writeFileSync(join(dir, 'pipes', 'names.conf.yaml'), toYaml(entities[3]));
    const fromFolder = compile(readConfig(dir), { env });
    const fromJson = compile(single(JSON.stringify(entities)), { env });
    const fromYaml = compile(single(toYaml(entities), 'config.yaml'), { env });
    expect(fromFolder.diagnostics).toEqual([]);
    const strip = (p: typeof fromJson.plan) => p!.pipes.map((x) => [x.id, x.hash]);
    expect(strip(fromFolder.plan)).toEqual(strip(fromJson.plan));
    expect(strip(fromYaml.plan)).toEqual(strip(fromJson.plan));
  });

  it('resolves $ENV with its JSON type, keeps $SECRET as a reference, and reports unknown names', () => {
    const { plan } = compile(single(JSON.stringify(entities)), { env, secrets: ['crm-token'] });
    const names = plan!.pipes.find((p) => p.id === 'names')!;
    expect(names.pump.schedule_interval).toBe(45);
    const crm = plan!.systems[0];
    expect(crm.effective.base_url).toBe('http://crm.example.org/');
    expect((crm.effective.headers as Record<string, string>).Authorization).toBe('Bearer $SECRET(crm-token)');
    expect(plan!.secrets).toEqual(['crm-token']);
    const bad = compile(single(JSON.stringify(entities)), { env: { interval: 1 }, secrets: ['crm-tokn'] });
    expect(bad.diagnostics.map((d) => d.code).sort()).toEqual(['CONFIG_ENV_UNRESOLVED', 'CONFIG_SECRET_UNRESOLVED']);
    expect(bad.diagnostics.find((d) => d.code === 'CONFIG_SECRET_UNRESOLVED')!.message).toContain('did you mean "crm-tokn"?');
  });

  it('applies $conditional_properties and conditional sources', () => {
    const pipe = {
      _id: 'p',
      type: 'pipe',
      source: { type: 'conditional', condition: '$ENV(stage)', alternatives: { dev: { type: 'embedded', entities: [] }, prod: { type: 'dataset', dataset: 'p' } } },
      $conditional_properties: { condition: '$ENV(stage)', alternatives: { dev: { batch_size: 7 } } },
    };
    const { plan, diagnostics } = compile(single(JSON.stringify([pipe])), { env: { stage: 'dev' } });
    expect(diagnostics).toEqual([]);
    expect(plan!.pipes[0].source.type).toBe('embedded');
    expect(plan!.pipes[0].effective.batch_size).toBe(7);
  });

  it('makes the implicit dataset sink explicit and fills defaults', () => {
    const { plan } = compile(single(JSON.stringify(entities)), { env });
    const people = plan!.pipes.find((p) => p.id === 'people')!;
    expect(people.sink.type).toBe('dataset');
    expect(people.sink.config.dataset).toBe('people');
    expect((people.effective.sink as Record<string, unknown>).dataset).toBe('people');
    expect(people.original.sink).toBeUndefined();
    expect(people.writes).toBe('people');
  });

  it('is content-hashed, survives JSON, and runs its DTL without the config text', () => {
    const a = compile(single(JSON.stringify(entities)), { env }).plan!;
    expect(compile(single(JSON.stringify(entities)), { env }).plan!.hash).toBe(a.hash);
    // Reformatting moves source positions (kept for error reports) but changes no pipe.
    const b = compile(single(JSON.stringify(entities, null, 4)), { env }).plan!;
    expect(b.pipes.map((p) => p.hash)).toEqual(a.pipes.map((p) => p.hash));
    const loaded = parsePlan(JSON.stringify(a));
    const names = loaded.pipes.find((p) => p.id === 'names')!;
    const dtl = new CompiledDtl(names.transforms[0].dtl!, { namespaces: names.namespaces });
    expect(dtl.transform({ _id: 'x', first: 'Grace', last: 'Hopper' }, new DtlContext()).map((e) => encode(e))).toEqual([{ _id: 'x', name: 'Grace Hopper' }]);
    expect(() => checkPlan({ ...JSON.parse(JSON.stringify(a)), pipes: [] })).toThrow(PlanFormatError);
  });

  it('diffs two plans by pipe', () => {
    const a = compile(single(JSON.stringify(entities)), { env }).plan!;
    const changed = structuredClone(entities);
    (changed[3] as { transform: { rules: { default: unknown[] } } }).transform.rules.default.push(['add', 'x', 1]);
    const b = compile(single(JSON.stringify([...changed, { _id: 'extra', type: 'pipe', source: { type: 'empty' } }])), { env }).plan!;
    const d = diffPlans(a, b);
    expect(d).toMatchObject({ added: ['extra'], removed: [], changed: ['names'], unchanged: ['people'] });
  });

  it('reports two pipes writing one dataset', () => {
    const two = [entities[2], { ...entities[2], _id: 'people2', sink: { type: 'dataset', dataset: 'people' } }];
    const { diagnostics } = compile(single(JSON.stringify(two)));
    expect(diagnostics.map((d) => d.code)).toContain('PIPE_DATASET_WRITERS');
  });
});
