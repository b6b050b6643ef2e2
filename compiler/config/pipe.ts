/** Compiling one pipe entity: validation, DTL, normalisation into its plan form. */
import { DiagnosticBag } from '../diagnostics.js';
import { DtlAnalyzer } from '../dtl/analyze.js';
import { entry, toPlain, type PNode, type PObject } from '../parse/tree.js';
import type { PlanComponent, PlanPipe } from '../plan/types.js';
import { contentHash } from '../plan/hash.js';
import type { SchemaSet } from '../validate/schemas.js';
import { checkComponent, selectAlternative, type CheckedComponent, type Implied } from './components.js';
import { applyGlobalDefaults, typeOfComponent } from './global-defaults.js';
import { planDependencies } from '../plan/dependencies.js';
import { usesFunction } from '../dtl/ir.js';
import type { RawEntity } from './entities.js';
import { compileTemplateRules, expandInlineTemplate, templateSystemRefs } from './template.js';
import type { DatasetReference } from '../dtl/analyze.js';
import type { DtlProgram } from '../dtl/ir.js';

export interface PipeContext {
  schemas: SchemaSet;
  bag: DiagnosticBag;
  /** Node metadata (effective) for global defaults. */
  metadata: Record<string, unknown>;
}

/**
 * A compiled pipe (absent when the pipe has errors) plus the positions of its references, which
 * are collected even from a broken pipe so that cross-entity checks still report everything.
 */
export interface CompiledPipe {
  id: string;
  plan?: PlanPipe;
  writes: string | null;
  datasetRefs: { dataset: string; mode: 'read' | 'write' | 'hops'; node: { loc: PNode['loc'] } }[];
  /** A `warning` reference names a system only some entities need (a template's rest_system): the pipe runs without it. */
  systemRefs: { system: string; node: PNode; severity?: 'warning' }[];
}

/**
 * A pipe's sink as Sesam reads it: without a `type` it is a dataset sink, and a dataset sink
 * without a `dataset` writes the dataset named like the pipe. Applied to conditional alternatives too.
 */
function impliedSink(pipeId: string): Implied {
  return (node) => {
    const type = entry(node, 'type');
    let out = node;
    if (!type) out = { ...out, entries: [{ key: 'type', keyLoc: node.loc, value: { kind: 'string', loc: node.loc, value: 'dataset' } }, ...out.entries] };
    const isDataset = !type || (type.value.kind === 'string' && type.value.value === 'dataset');
    if (isDataset && !entry(out, 'dataset')) out = { ...out, entries: [...out.entries, { key: 'dataset', keyLoc: node.loc, value: { kind: 'string', loc: node.loc, value: pipeId } }] };
    return out;
  };
}

/**
 * A `chained` transform (an older way to write a list of transforms, still in Sesam's examples)
 * is the transforms it lists, in order; a template transform whose body is written inline is the
 * transform its body describes.
 */
function unchained(nodes: PNode[], bag: DiagnosticBag): PNode[] {
  return nodes.flatMap((n) => {
    if (n.kind !== 'object') return [n];
    // A conditional transform may choose a chained one.
    const chosen = typeOfComponent(n) === 'conditional' ? selectAlternative(n)?.chosen : undefined;
    if (chosen?.kind === 'object' && typeOfComponent(chosen) === 'chained') return unchained([chosen], bag);
    const type = typeOfComponent(n);
    if (type === 'template') {
      const body = expandInlineTemplate(n, bag);
      return body ? unchained([body], bag) : [n];
    }
    if (type !== 'chained') return [n];
    const list = entry(n, 'transforms')?.value;
    return list?.kind === 'array' ? unchained(list.items, bag) : list ? unchained([list], bag) : [];
  });
}

/**
 * The dataset a dataset sink that failed its checks would write: other pipes still see it
 * produced. A conditional sink whose condition cannot be decided yet writes what its first
 * dataset alternative writes.
 */
function datasetSinkTarget(sink: PNode, implied: Implied): string | null {
  if (sink.kind !== 'object') return null;
  if (typeOfComponent(sink) === 'conditional') {
    const selection = selectAlternative(sink);
    const candidates = selection?.chosen ? [selection.chosen] : (selection?.alternatives.entries.map((a) => a.value) ?? []);
    for (const alternative of candidates) {
      const target = alternative.kind === 'object' ? datasetSinkTarget(implied(alternative), implied) : null;
      if (target) return target;
    }
    return null;
  }
  const type = entry(sink, 'type')?.value;
  const dataset = entry(sink, 'dataset')?.value;
  return type?.kind === 'string' && type.value === 'dataset' && dataset?.kind === 'string' && !dataset.unresolved ? dataset.value : null;
}

export function compilePipe(raw: RawEntity, resolvedNode: PObject, ctx: PipeContext): CompiledPipe {
  const { schemas, bag } = ctx;
  const resolved = applyGlobalDefaults('pipe', resolvedNode, 'pipe', schemas, ctx.metadata) as PObject;
  const plain = toPlain(resolved) as Record<string, unknown>;
  const base = schemas.validate('pipe', plain, resolved, bag, `pipe "${raw.id}"`);
  let ok = base.ok;
  const effective = base.value as Record<string, unknown>;

  const sourceEntry = entry(resolved, 'source')?.value;
  const sourceNode = sourceEntry && applyGlobalDefaults('source', sourceEntry, `source/${typeOfComponent(sourceEntry)}`, schemas, ctx.metadata);
  const source = sourceNode ? checkComponent('source', sourceNode, schemas, bag, `source of pipe "${raw.id}"`) : undefined;
  if (!source || source.unsupported) ok = false;

  const transformEntry = entry(resolved, 'transform');
  const transformNodes = transformEntry ? unchained(transformEntry.value.kind === 'array' ? transformEntry.value.items : [transformEntry.value], bag) : [];
  const transforms: { checked: CheckedComponent; dtl?: ReturnType<DtlAnalyzer['analyzeRules']>; ruleSets?: Record<string, DtlProgram> }[] = [];
  const hopsRefs: CompiledPipe['datasetRefs'] = [];
  const hops: PlanPipe['hops'] = [];
  const noteHops = (refs: DatasetReference[]) => {
    for (const r of refs) {
      hopsRefs.push({ dataset: r.dataset, mode: 'hops', node: { loc: r.loc } });
      if (!hops.some((h) => h.dataset === r.dataset && h.via === r.via)) hops.push({ dataset: r.dataset, track_dependencies: r.trackDependencies, via: r.via });
    }
  };
  transformNodes.forEach((tn, i) => {
    const what = transformNodes.length > 1 ? `transform ${i + 1} of pipe "${raw.id}"` : `transform of pipe "${raw.id}"`;
    const checked = checkComponent('transform', tn, schemas, bag, what);
    if (!checked) {
      ok = false;
      return;
    }
    if (checked.unsupported) ok = false;
    let dtl: ReturnType<DtlAnalyzer['analyzeRules']>;
    if (checked.type === 'dtl') {
      const rules = entry(checked.node as PObject, 'rules')?.value;
      if (rules) {
        const before = bag.items.length;
        dtl = new DtlAnalyzer(bag).analyzeRules(rules);
        if (bag.items.slice(before).some((d) => d.severity === 'error') || !dtl) ok = false;
        noteHops(dtl?.datasetRefs ?? []);
      }
    }
    let ruleSets: Record<string, DtlProgram> | undefined;
    if (checked.type === 'template') {
      const compiled = compileTemplateRules(checked.node as PObject, bag);
      if (!compiled.ok) ok = false;
      noteHops(compiled.datasetRefs);
      if (Object.keys(compiled.ruleSets).length) ruleSets = compiled.ruleSets;
    }
    transforms.push({ checked, dtl, ruleSets });
  });

  const sinkEntry = entry(resolved, 'sink')?.value;
  const implied = impliedSink(raw.id);
  const sinkNode = sinkEntry ?? { kind: 'object' as const, loc: resolved.loc, entries: [] };
  const sinkWithDefaults = sinkNode.kind === 'object' ? applyGlobalDefaults('sink', implied(sinkNode), `sink/${typeOfComponent(implied(sinkNode))}`, schemas, ctx.metadata) : sinkNode;
  const sink = checkComponent('sink', sinkWithDefaults, schemas, bag, sinkEntry ? `sink of pipe "${raw.id}"` : `implicit sink of pipe "${raw.id}"`, implied);
  if (!sink || sink.unsupported) ok = false;

  const pumpNode = applyGlobalDefaults('pump', entry(resolved, 'pump')?.value ?? { kind: 'object' as const, loc: resolved.loc, entries: [] }, 'pump', schemas, ctx.metadata);
  const pump = schemas.validate('pump', toPlain(pumpNode), pumpNode, bag, `pump of pipe "${raw.id}"`);
  if (!pump.ok) ok = false;
  const pumpConfig = pump.value as Record<string, unknown>;
  if (pumpConfig.schedule_interval === undefined && pumpConfig.cron_expression === undefined) {
    // The documented default: 30 s for dataset-to-dataset pipes, 900 s for everything else.
    pumpConfig.schedule_interval = source?.type === 'dataset' && sink?.type === 'dataset' ? 30 : 900;
  }
  // Sinks that send one request per entity document a smaller default batch (the REST sink: 1).
  const sinkBatchDefault = sink ? schemas.schema(`sink/${sink.type}`)?.['x-pipe-batch-size-default'] : undefined;
  if (effective.batch_size === undefined) effective.batch_size = typeof sinkBatchDefault === 'number' ? sinkBatchDefault : 100;
  // The offset is saved every 100 batches, or after every batch when a batch is a single entity.
  if (effective.checkpoint_interval === undefined) effective.checkpoint_interval = effective.batch_size === 1 ? 1 : 100;
  const systemRefs: CompiledPipe['systemRefs'] = [source, ...transforms.map((t) => t.checked), sink].flatMap((c) => c?.systems ?? []);
  for (const t of transforms) if (t.checked.type === 'template') systemRefs.push(...templateSystemRefs(t.checked.node as PObject));
  const datasetRefs: CompiledPipe['datasetRefs'] = [...(source?.datasets ?? []).map((d) => ({ dataset: d.dataset, mode: d.mode, node: d.node })), ...hopsRefs];
  const writes = sink ? (sink.datasets.find((d) => d.mode === 'write')?.dataset ?? null) : datasetSinkTarget(sinkWithDefaults, implied);
  if (!ok || !source || !sink) return { id: raw.id, writes, datasetRefs, systemRefs };

  const nsEnabled = (effective.namespaced_identifiers ?? ctx.metadata.namespaced_identifiers ?? false) === true;
  const nsConfig = (effective.namespaces ?? {}) as { identity?: string; property?: string };
  const namespaces = nsEnabled ? { identity: nsConfig.identity ?? raw.id, property: nsConfig.property ?? raw.id } : null;
  const sourceSchema = schemas.schema(`source/${source.type}`);
  const sinkSchema = schemas.schema(`sink/${sink.type}`);
  const addNamespaces = (effective.add_namespaces as boolean | undefined) ?? (nsEnabled && sourceSchema?.['x-namespaces-default'] === true);
  const removeNamespaces = (effective.remove_namespaces as boolean | undefined) ?? (nsEnabled && sinkSchema?.['x-namespaces-default'] === true);

  // What the namespace settings come to, as Sesam documents their defaults.
  effective.namespaced_identifiers = nsEnabled;
  effective.namespaces = { ...nsConfig, identity: nsConfig.identity ?? raw.id, property: nsConfig.property ?? raw.id };
  effective.add_namespaces = addNamespaces;
  effective.remove_namespaces = removeNamespaces;
  // A dataset sink tracks $children when a transform creates children, unless told otherwise.
  if (sink.type === 'dataset' && sink.config.track_children === undefined) sink.config.track_children = transforms.some((t) => t.dtl !== undefined && usesFunction(t.dtl.program, 'create-child'));
  effective.source = source.config;
  if (transformEntry) effective.transform = transformEntry.value.kind === 'array' || transforms.length !== 1 ? transforms.map((t) => t.checked.config) : transforms[0].checked.config;
  effective.sink = sink.config;
  effective.pump = pump.value;

  const component = (c: CheckedComponent, dtl?: ReturnType<DtlAnalyzer['analyzeRules']>, ruleSets?: Record<string, DtlProgram>): PlanComponent => ({
    type: c.type,
    config: c.config,
    ...(dtl ? { dtl: dtl.program } : {}),
    ...(ruleSets ? { rule_sets: ruleSets } : {}),
  });
  const reads = source.datasets.filter((d) => d.mode === 'read').map((d) => d.dataset);
  const plan: PlanPipe = {
    id: raw.id,
    source_file: raw.file,
    location: raw.node.loc,
    original: toPlain(raw.node) as Record<string, unknown>,
    effective,
    hash: contentHash(effective),
    source: component(source),
    transforms: transforms.map((t) => component(t.checked, t.dtl, t.ruleSets)),
    sink: component(sink),
    pump: pump.value as Record<string, unknown>,
    namespaces,
    add_namespaces: addNamespaces,
    remove_namespaces: removeNamespaces,
    reads,
    writes,
    hops,
    systems: [...new Set(systemRefs.map((s) => s.system))],
    // Only the dataset source can look entities up by id, which dependency tracking needs.
    dependencies: planDependencies(source.type === 'dataset' ? reads[0] ?? null : null, transforms.flatMap((t) => (t.dtl ? [t.dtl.program] : [])), namespaces),
  };
  return { id: raw.id, plan, writes, datasetRefs, systemRefs };
}
