/**
 * The JSON views the service API returns for pipes, pumps, systems and datasets, computed from the
 * runtime. The HTTP layer only picks a view and serialises it; everything Sesam's clients read
 * (`config.original`, `config.effective`, `runtime.state`, `runtime.is-valid-config`, ...) is
 * decided here.
 */
import { DiagnosticBag, formatLocation, type Diagnostic } from '../../compiler/diagnostics.js';
import type { SourceFile } from '../../compiler/load/files.js';
import { parseSourceFile } from '../../compiler/config/entities.js';
import { toPlain, type PNode } from '../../compiler/parse/tree.js';
import type { PlanPipe } from '../../compiler/plan/types.js';
import { describeFailedEntities } from '../executor/run.js';
import { executionDatasetId } from '../pump/execution-log.js';
import { PUMP_OPERATIONS, type Pump } from '../pump/pump.js';
import type { DatasetInfo } from '../store/contract.js';
import type { SluiceRuntime } from './runtime.js';

type Json = Record<string, unknown>;

/** One entry of `runtime.config-errors` and of `config-errors` in a validation response. */
export interface ConfigErrorView {
  level: 'error' | 'warning' | 'info';
  /** `file:line:col CODE message` */
  msg: string;
  /** JSONPath of the offending element inside its config entity, e.g. `$['source']['type']`. */
  elements: string;
  file: string;
  line: number;
  column: number;
  code: string;
}

export interface PipeView {
  _id: string;
  config: { original: Json; effective: Json };
  runtime: Json;
  graph: { upstream: string[]; downstream: string[] };
  storage: Json;
}

export interface PumpView {
  _id: string;
  pipe: string;
  config: { effective: Json };
  runtime: Json;
}

export interface SystemView {
  _id: string;
  config: { original: Json; effective: Json };
  runtime: Json;
}

export interface DatasetView {
  _id: string;
  runtime: Json;
  storage: Json;
}

// ------------------------------------------------------------------------------- time helpers

export function isoFromMillis(ms: number | null | undefined): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function isoFromMicros(us: number | null | undefined): string | null {
  return typeof us === 'number' && Number.isFinite(us) ? isoFromMillis(Math.floor(us / 1000)) : null;
}

// ------------------------------------------------------------------------------- config errors

function quotePathSegment(s: string | number): string {
  return typeof s === 'number' ? `[${s}]` : `['${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

/** The path from `node` to the element that starts at `line:column` (children before parents), or null. */
function pathAt(node: PNode, line: number, column: number, path: (string | number)[]): (string | number)[] | null {
  if (node.kind === 'object') {
    for (const e of node.entries) {
      if (e.keyLoc.line === line && e.keyLoc.column === column) return [...path, e.key];
      const r = pathAt(e.value, line, column, [...path, e.key]);
      if (r) return r;
    }
  } else if (node.kind === 'array') {
    for (let i = 0; i < node.items.length; i++) {
      const r = pathAt(node.items[i], line, column, [...path, i]);
      if (r) return r;
    }
  }
  return node.loc.line === line && node.loc.column === column ? path : null;
}

function before(a: { line: number; column: number }, b: { line: number; column: number }): boolean {
  return a.line < b.line || (a.line === b.line && a.column <= b.column);
}

/**
 * Locates diagnostics inside config files: which entity each one belongs to and the JSONPath of
 * the element it points at. Files are parsed once per locator.
 */
export class DiagnosticLocator {
  private readonly byPath = new Map<string, SourceFile>();
  private readonly parsed = new Map<string, { entities: { node: PNode; plain: Json }[] }>();

  constructor(files: SourceFile[]) {
    for (const f of files) this.byPath.set(f.path, f);
  }

  private entitiesOf(path: string): { node: PNode; plain: Json }[] {
    let p = this.parsed.get(path);
    if (!p) {
      const f = this.byPath.get(path);
      const entities: { node: PNode; plain: Json }[] = [];
      if (f) {
        const root = parseSourceFile(f, new DiagnosticBag());
        if (root) for (const node of root.kind === 'array' ? root.items : [root]) entities.push({ node, plain: (node.kind === 'object' ? toPlain(node) : null) as Json });
      }
      p = { entities };
      this.parsed.set(path, p);
    }
    return p.entities;
  }

  /** The entity a diagnostic is about (index within its file and its plain value), if any. */
  locate(d: Diagnostic): { index: number; entity: Json | null; elements: string } {
    const entities = this.entitiesOf(d.file);
    let best = -1;
    for (let i = 0; i < entities.length; i++) {
      const path = pathAt(entities[i].node, d.line, d.column, []);
      if (path) return { index: i, entity: entities[i].plain, elements: '$' + path.map(quotePathSegment).join('') };
      if (before(entities[i].node.loc, d)) best = i;
    }
    return best >= 0 ? { index: best, entity: entities[best].plain, elements: '$' } : { index: -1, entity: null, elements: '$' };
  }
}

export function configErrorView(d: Diagnostic, elements = '$'): ConfigErrorView {
  return { level: d.severity, msg: `${formatLocation(d)} ${d.code} ${d.message}`, elements, file: d.file, line: d.line, column: d.column, code: d.code };
}

/** `runtime.config-errors` of a component: its diagnostics with JSONPaths into the running config files. */
export function configErrorViews(diagnostics: Diagnostic[], locator: DiagnosticLocator): ConfigErrorView[] {
  return diagnostics.map((d) => configErrorView(d, locator.locate(d).elements));
}

export interface ValidationErrorItem {
  'posted-config': Json | null;
  'config-errors': ConfigErrorView[];
}

/**
 * Groups diagnostics by the config entity they are about, in the shape of Sesam's
 * `validation_errors`. `present` maps a diagnostic to the position shown to the user (uploads of
 * a JSON array are split into one file per entity; positions are reported in the posted text).
 */
export function validationErrors(diagnostics: Diagnostic[], files: SourceFile[], present: (d: Diagnostic) => Diagnostic = (d) => d): ValidationErrorItem[] {
  const locator = new DiagnosticLocator(files);
  const groups = new Map<string, ValidationErrorItem>();
  for (const d of diagnostics) {
    const where = locator.locate(d);
    const key = where.index < 0 ? `${d.file}\u0000-` : `${d.file}\u0000${where.index}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { 'posted-config': where.entity, 'config-errors': [] }));
    g['config-errors'].push(configErrorView(present(d), where.elements));
  }
  return [...groups.values()];
}

// ------------------------------------------------------------------------------- pipes and pumps

function pipeIsInternal(id: string): boolean {
  return id.startsWith('system:');
}

function lastSeenText(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

async function queuesOf(rt: SluiceRuntime, pipe: PlanPipe, pump: Pump | undefined): Promise<Json> {
  let source: number | null = null;
  const reads = pump?.inst.source.datasets ?? pipe.reads;
  if (reads.length === 1) {
    const info = await rt.store.datasetInfo(reads[0]);
    const seen = pump?.lastSeen ?? null;
    if (!info) source = 0;
    else if (seen === null) source = info.entityCount + info.deletedCount;
    else if (typeof seen === 'number' || /^\d+$/.test(String(seen))) source = Math.max(0, info.lastOffset - Number(seen));
  }
  // Several input datasets share one composite continuation token: the backlog is not known.
  const dependencies: Record<string, number> = {};
  const tracked = pipe.hops.filter((h) => h.track_dependencies);
  if (tracked.length) {
    const state = await rt.store.getPipeState(pipe.id);
    for (const h of tracked) {
      const info = await rt.store.datasetInfo(h.dataset);
      const at = state?.tracking?.[h.dataset];
      dependencies[h.dataset] = info && typeof at === 'number' ? Math.max(0, info.lastOffset - at) : 0;
    }
  }
  return { source, dependencies };
}

function supportedOperations(pipe: PlanPipe, pump: Pump | undefined): string[] {
  if (!pump) return [];
  return PUMP_OPERATIONS.filter((op) => {
    if (pump.mode === 'off' && (op === 'start' || op === 'start-rescan' || op === 'rescan')) return false;
    if (pipe.effective.disable_set_last_seen === true && (op === 'update-last-seen' || op === 'reset' || op === 'set-last-seen-to-end')) return false;
    if (op === 'set-last-seen-to-end' && pump.inst.source.datasets.length === 0) return false;
    return true;
  });
}

/** The `runtime` of a pump; a pipe's `runtime` is a superset of it. */
export async function pumpRuntime(rt: SluiceRuntime, id: string): Promise<Json | null> {
  const pipe = rt.pipe(id);
  if (!pipe) return null;
  const pump = rt.pump(id);
  const outcome = pump?.lastOutcome ?? null;
  const scheduled = pump && !pump.disabled && !rt.scheduler.paused && pump.mode === 'scheduled';
  const active = pump?.active ?? null;
  return {
    'is-running': pump?.running ?? false,
    'is-disabled': pump?.disabled ?? false,
    mode: pump?.mode ?? ((pipe.pump.mode as string | undefined) ?? 'scheduled'),
    queues: await queuesOf(rt, pipe, pump),
    'supported-operations': supportedOperations(pipe, pump),
    'execution-dataset': executionDatasetId(id),
    'last-run': isoFromMillis(outcome?.ended),
    'last-run-status': outcome?.status ?? null,
    'last-sync-type': outcome?.syncType ?? null,
    'current-run-started': isoFromMillis(active?.started),
    'next-run': scheduled ? isoFromMillis(pump!.nextRun) : null,
    'last-seen': lastSeenText(pump?.lastSeen),
    'last-message': outcome ? (outcome.error ?? (outcome.status === 'completed' ? (outcome.failed ? `${outcome.failed} failed: ${describeFailedEntities(outcome)}` : 'OK') : outcome.status)) : '',
    'last-original-error-message': outcome?.error ?? '',
    progress: { processed: pump?.progress.read ?? 0, read: pump?.progress.read ?? 0, written: pump?.progress.written ?? 0, failed: pump?.progress.failed ?? 0 },
    success: outcome ? outcome.status === 'completed' : null,
    'last-run-metrics': outcome ? { read: outcome.read, written: outcome.written, unchanged: outcome.unchanged, deleted: outcome.deleted, failed: outcome.failed, retried: outcome.retried } : null,
    // When the operator spreads a plan over several runtimes: which one runs this pipe.
    ...(rt.plan?.placement ? { 'runtime-replica': rt.plan.placement.assignments[id] ?? 0, 'runs-here': rt.ownsPipe(id) } : {}),
  };
}

function dependenciesOf(pipe: PlanPipe): string[] {
  return [...new Set([...pipe.reads, ...pipe.hops.map((h) => h.dataset)])];
}

function graphOf(rt: SluiceRuntime, id: string): { upstream: string[]; downstream: string[] } {
  const up = rt.plan?.graph.upstream ?? {};
  const downstream = Object.keys(up).filter((p) => up[p].includes(id)).sort();
  return { upstream: [...(up[id] ?? [])], downstream };
}

function invalidRuntime(id: string, errors: ConfigErrorView[]): Json {
  return {
    state: 'Deployed',
    'is-valid-config': false,
    'config-errors': errors,
    'is-running': false,
    'is-disabled': false,
    dependencies: [],
    queues: { source: null, dependencies: {} },
    'supported-operations': [],
    'execution-dataset': executionDatasetId(id),
    'last-run': null,
    'next-run': null,
    'last-seen': '',
    'last-message': errors[0]?.msg ?? '',
    progress: { processed: 0 },
    success: null,
  };
}

async function pipeViewWith(rt: SluiceRuntime, id: string, locator: () => DiagnosticLocator): Promise<PipeView | null> {
  const pipe = rt.pipe(id);
  if (pipe) {
    const pump = rt.pump(id);
    const failure = rt.instantiationErrors.get(id);
    const errors: ConfigErrorView[] = failure
      ? [{ level: 'error', msg: `${pipe.source_file}:${pipe.location.line}:${pipe.location.column} RUNTIME_UNSUPPORTED ${failure}`, elements: '$', file: pipe.source_file, line: pipe.location.line, column: pipe.location.column, code: 'RUNTIME_UNSUPPORTED' }]
      : [];
    // Warnings of the running config, and errors of an edit that was refused (the old plan still runs).
    const own = (ds: Diagnostic[]) => ds.filter((d) => d.file === pipe.source_file);
    errors.push(...configErrorViews(own(rt.diagnostics), locator()), ...own(rt.pendingDiagnostics).map((d) => configErrorView(d)));
    const runtime: Json = {
      state: pump || failure ? 'Deployed' : 'Deploying',
      'is-valid-config': !failure,
      'config-errors': errors,
      dependencies: dependenciesOf(pipe),
      ...(await pumpRuntime(rt, id)),
    };
    const sink = pipe.writes ? await rt.store.datasetInfo(pipe.writes) : null;
    return {
      _id: id,
      config: { original: pipe.original, effective: pipe.effective },
      runtime,
      graph: graphOf(rt, id),
      storage: sink ? { dataset: sink.id, ...datasetCounts(sink) } : {},
    };
  }
  const bad = rt.invalid.get(id);
  if (bad && bad.kind === 'pipe') {
    return {
      _id: id,
      config: { original: bad.original, effective: bad.original },
      runtime: invalidRuntime(id, configErrorViews(bad.errors, locator())),
      graph: { upstream: [], downstream: [] },
      storage: {},
    };
  }
  return null;
}

export async function pipeView(rt: SluiceRuntime, id: string): Promise<PipeView | null> {
  let locator: DiagnosticLocator | undefined;
  return pipeViewWith(rt, id, () => (locator ??= new DiagnosticLocator(rt.files)));
}

/** The ids of every pipe in the config, running or not, in id order. */
export function pipeIds(rt: SluiceRuntime): string[] {
  const ids = new Set((rt.plan?.pipes ?? []).map((p) => p.id));
  for (const c of rt.invalid.values()) if (c.kind === 'pipe') ids.add(c.id);
  return [...ids].sort();
}

export async function pipeViews(rt: SluiceRuntime, opts: { includeInternal?: boolean } = {}): Promise<PipeView[]> {
  let locator: DiagnosticLocator | undefined;
  const out: PipeView[] = [];
  for (const id of pipeIds(rt)) {
    if (!opts.includeInternal && pipeIsInternal(id)) continue;
    const v = await pipeViewWith(rt, id, () => (locator ??= new DiagnosticLocator(rt.files)));
    if (v) out.push(v);
  }
  return out;
}

/** Whether a pipe exists in the config (running, or left out because of errors). */
export function pipeExists(rt: SluiceRuntime, id: string): boolean {
  return rt.pipe(id) !== undefined || rt.invalid.get(id)?.kind === 'pipe';
}

export async function pumpView(rt: SluiceRuntime, id: string): Promise<PumpView | null> {
  const pipe = rt.pipe(id);
  if (pipe) return { _id: `pump:${id}`, pipe: id, config: { effective: pipe.pump }, runtime: (await pumpRuntime(rt, id))! };
  const bad = rt.invalid.get(id);
  if (bad && bad.kind === 'pipe') {
    const { state: _state, 'config-errors': _errors, 'is-valid-config': _valid, dependencies: _deps, ...runtime } = invalidRuntime(id, []);
    return { _id: `pump:${id}`, pipe: id, config: { effective: (bad.original.pump ?? {}) as Json }, runtime };
  }
  return null;
}

// ------------------------------------------------------------------------------- systems

export async function systemView(rt: SluiceRuntime, id: string): Promise<SystemView | null> {
  const system = rt.plan?.systems.find((s) => s.id === id);
  if (system) {
    const usedBy = (rt.plan?.pipes ?? []).filter((p) => p.systems.includes(id)).map((p) => p.id);
    return {
      _id: id,
      config: { original: system.original, effective: system.effective },
      runtime: { state: 'Deployed', 'is-valid-config': true, 'config-errors': [], type: system.type, 'used-by': usedBy },
    };
  }
  const bad = rt.invalid.get(id);
  if (bad && bad.kind === 'system') {
    return {
      _id: id,
      config: { original: bad.original, effective: bad.original },
      runtime: { state: 'Deployed', 'is-valid-config': false, 'config-errors': configErrorViews(bad.errors, new DiagnosticLocator(rt.files)), type: bad.original.type, 'used-by': [] },
    };
  }
  return null;
}

export function systemIds(rt: SluiceRuntime): string[] {
  const ids = new Set((rt.plan?.systems ?? []).map((s) => s.id));
  for (const c of rt.invalid.values()) if (c.kind === 'system') ids.add(c.id);
  return [...ids].sort();
}

export async function systemViews(rt: SluiceRuntime, opts: { includeInternal?: boolean } = {}): Promise<SystemView[]> {
  const out: SystemView[] = [];
  for (const id of systemIds(rt)) {
    if (!opts.includeInternal && id.startsWith('system:')) continue;
    const v = await systemView(rt, id);
    if (v) out.push(v);
  }
  return out;
}

// ------------------------------------------------------------------------------- datasets

function datasetCounts(info: DatasetInfo): Json {
  return {
    populated: info.populated,
    'count-index-exists': info.entityCount,
    'count-index-deleted': info.deletedCount,
    'count-log-exists': info.versionCount,
    'last-offset': info.lastOffset,
  };
}

export function datasetIsInternal(id: string): boolean {
  return id.startsWith('system:');
}

function datasetViewOf(rt: SluiceRuntime, info: DatasetInfo): DatasetView {
  const node = rt.plan?.graph.datasets[info.id];
  return {
    _id: info.id,
    runtime: {
      ...datasetCounts(info),
      origin: datasetIsInternal(info.id) ? 'system' : 'user',
      'last-modified': isoFromMicros(info.updatedAt),
      created: isoFromMicros(info.createdAt),
      'written-by': node?.writers ?? [],
      'read-by': node?.readers ?? [],
      'hopped-by': node?.hopped_by ?? [],
    },
    storage: { indexes: info.indexes.map((p) => p.join('.')), 'versions': info.versionCount },
  };
}

export async function datasetView(rt: SluiceRuntime, id: string): Promise<DatasetView | null> {
  const info = await rt.store.datasetInfo(id);
  return info ? datasetViewOf(rt, info) : null;
}

export async function datasetViews(rt: SluiceRuntime, opts: { includeInternal?: boolean } = {}): Promise<DatasetView[]> {
  const all = await rt.store.listDatasets();
  return all.filter((d) => opts.includeInternal !== false || !datasetIsInternal(d.id)).map((d) => datasetViewOf(rt, d));
}
