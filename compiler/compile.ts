/**
 * The compiler's entry point: config source files in, an execution plan or diagnostics out.
 * Pure: no network, no store; every problem in the config is reported in one run.
 */
import { DiagnosticBag, hasErrors, sortDiagnostics, suggestion, type Diagnostic } from './diagnostics.js';
import type { SourceFile } from './load/files.js';
import { collectEntities, type RawEntity } from './config/entities.js';
import { resolveReferences, secretReferences, type EnvValues } from './config/env.js';
import { compilePipe, type CompiledPipe } from './config/pipe.js';
import { checkComponent } from './config/components.js';
import { applyGlobalDefaults } from './config/global-defaults.js';
import { isUnresolved, toPlain, type PObject } from './parse/tree.js';
import { SchemaSet } from './validate/schemas.js';
import { buildGraph } from './plan/graph.js';
import { contentHash } from './plan/hash.js';
import { PLAN_FORMAT, type ExecutionPlan, type PlanSystem } from './plan/types.js';
import { validateCron } from './plan/cron.js';
import { COMPILER_VERSION } from './version.js';

export interface CompileOptions {
  env?: EnvValues;
  /** Names of the secrets that exist; when given, unknown `$SECRET(...)` names are warnings. */
  secrets?: Iterable<string>;
  schemas?: SchemaSet;
}

export interface CompileResult {
  plan?: ExecutionPlan;
  diagnostics: Diagnostic[];
}

/** Datasets that the service itself produces (execution logs and the like) are always readable. */
function isSystemDataset(id: string): boolean {
  return id.startsWith('system:');
}

export function compile(files: SourceFile[], options: CompileOptions = {}): CompileResult {
  const bag = new DiagnosticBag();
  const schemas = options.schemas ?? SchemaSet.load();
  const sources = { env: options.env ?? {}, secrets: options.secrets ? new Set(options.secrets) : undefined };
  const entities = collectEntities(files, bag);

  const seen = new Map<string, RawEntity>();
  const unique: RawEntity[] = [];
  for (const e of entities) {
    const first = seen.get(e.id);
    if (first) {
      bag.error('PIPE_DUPLICATE_ID', e.idLoc, `duplicate _id "${e.id}": also defined at ${first.file}:${first.idLoc.line}:${first.idLoc.column}`);
      continue;
    }
    seen.set(e.id, e);
    unique.push(e);
  }

  // Node metadata first: its global defaults apply to the pipes.
  const metaRaw = unique.find((e) => e.kind === 'metadata');
  let metadataEffective: Record<string, unknown> = { _id: 'node', type: 'metadata' };
  if (metaRaw) {
    const resolved = resolveReferences(metaRaw.node, sources, bag) as PObject;
    const r = schemas.validate('node-metadata', toPlain(resolved), resolved, bag, 'node metadata');
    if (r.ok) metadataEffective = r.value as Record<string, unknown>;
  } else {
    metadataEffective = schemas.validate('node-metadata', metadataEffective, { kind: 'object', loc: { file: '', line: 1, column: 1 }, entries: [] }, new DiagnosticBag(), 'node metadata').value as Record<string, unknown>;
  }

  const systems: PlanSystem[] = [];
  for (const raw of unique.filter((e) => e.kind === 'system')) {
    const resolved = applyGlobalDefaults('system', resolveReferences(raw.node, sources, bag), `system/${raw.type.replace(/^system:/, '')}`, schemas, metadataEffective);
    const checked = checkComponent('system', resolved, schemas, bag, `system "${raw.id}"`);
    if (!checked) continue;
    systems.push({
      id: raw.id,
      type: raw.type,
      source_file: raw.file,
      location: raw.node.loc,
      original: toPlain(raw.node) as Record<string, unknown>,
      effective: checked.config,
      hash: contentHash(checked.config),
    });
  }

  const compiled: CompiledPipe[] = [];
  for (const raw of unique.filter((e) => e.kind === 'pipe')) {
    const resolved = resolveReferences(raw.node, sources, bag) as PObject;
    const c = compilePipe(raw, resolved, { schemas, bag, metadata: metadataEffective });
    compiled.push(c);
    for (const key of ['cron_expression', 'rescan_cron_expression']) {
      const expr = c.plan?.pump[key];
      if (typeof expr === 'string') {
        const err = validateCron(expr);
        const pumpNode = (resolved.entries.find((e) => e.key === 'pump')?.value ?? resolved) as PObject;
        const node = pumpNode.kind === 'object' ? pumpNode.entries.find((e) => e.key === key)?.value : undefined;
        if (err && !isUnresolved(node)) bag.error('PUMP_CRON', node?.loc ?? pumpNode.loc, `invalid ${key} "${expr}": ${err}`);
      }
    }
  }

  // Cross-entity checks: who writes what, references to systems and datasets.
  const writers = new Map<string, string>();
  for (const c of compiled) {
    const d = c.writes;
    if (!d) continue;
    const other = writers.get(d);
    if (other) {
      const loc = c.plan?.location ?? seen.get(c.id)!.idLoc;
      bag.error('PIPE_DATASET_WRITERS', loc, `pipe "${c.id}" writes dataset "${d}", which pipe "${other}" already writes`);
    } else writers.set(d, c.id);
  }
  const allSystemIds = new Set(unique.filter((e) => e.kind === 'system').map((e) => e.id));
  for (const c of compiled) {
    for (const r of c.systemRefs) {
      if (!allSystemIds.has(r.system)) bag.add('PIPE_UNKNOWN_SYSTEM', r.node.loc, `pipe "${c.id}" refers to system "${r.system}", which is not defined${suggestion(r.system, allSystemIds)}`, r.severity ?? 'error');
    }
    for (const r of c.datasetRefs) {
      if (r.mode === 'write' || isSystemDataset(r.dataset) || writers.has(r.dataset)) continue;
      const what = r.mode === 'hops' ? 'joins (hops) to' : 'reads';
      // A warning: datasets can also be filled through the API or by another service sharing the store.
      bag.warning('PIPE_UNKNOWN_DATASET', r.node.loc, `pipe "${c.id}" ${what} dataset "${r.dataset}", which no pipe produces${suggestion(r.dataset, writers.keys())}`);
    }
  }

  const diagnostics = sortDiagnostics(bag.items);
  if (hasErrors(diagnostics)) return { diagnostics };

  const pipes = compiled.map((c) => c.plan!).sort((a, b) => a.id.localeCompare(b.id));
  const secrets = [...secretReferences([pipes.map((p) => p.effective), systems.map((s) => s.effective), metadataEffective])].sort();
  const body: Omit<ExecutionPlan, 'hash'> = {
    format: PLAN_FORMAT,
    compiler_version: COMPILER_VERSION,
    metadata: { original: metaRaw ? (toPlain(metaRaw.node) as Record<string, unknown>) : null, effective: metadataEffective },
    pipes,
    systems: systems.sort((a, b) => a.id.localeCompare(b.id)),
    graph: buildGraph(pipes),
    secrets,
  };
  return { plan: { ...body, hash: contentHash(body) } as ExecutionPlan, diagnostics };
}
