/**
 * The runtime service: owns the store, the current execution plan, the pumps and the scheduler,
 * and the service-level settings (env vars, secrets, config files). The HTTP API is a thin layer
 * over this class; `sluice run` and the operator's runtime pods both start one.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { compile } from '../../compiler/compile.js';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { formatDiagnostic } from '../../compiler/diagnostics.js';
import type { SourceFile } from '../../compiler/load/files.js';
import { diffPlans } from '../../compiler/plan/diff.js';
import type { ExecutionPlan, PlanPipe, PlanSystem } from '../../compiler/plan/types.js';
import { substituteSecrets } from '../../compiler/config/env.js';
import { pipeSecretsDigest, pipeWithSecrets } from './pipe-secrets.js';
import { hopsResolverFor } from '../datasets/hops-resolver.js';
import { buildPipeInstance } from '../executor/pipe-instance.js';
import { components } from '../components/registry.js';
import type { RunOutcome } from '../executor/run.js';
import { ExecutionLog } from '../pump/execution-log.js';
import { Pump } from '../pump/pump.js';
import { Scheduler } from '../pump/scheduler.js';
import { PipeLeases } from '../pump/leases.js';
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/contract.js';
import { entitiesOf, type ConfigEntity } from './config-files.js';
import { DEFAULT_PREVIEW_LIMITS, type PreviewLimits } from './preview.js';
import type { ConfigFolder } from './config-folder.js';
import { forgetSecretValues, redactSecrets, setSecretValues } from '../security/redaction.js';
import { systemConfigText as configText } from '../components/systems/lookup.js';
import { cleanupDeletedPipes } from './pipe-cleanup.js';
import { configHistorySettled } from './config-history.js';
import { compactionLimitFor } from '../executor/compaction-limit.js';
import { PipePool } from '../executor/pool.js';

export interface RuntimeOptions {
  store: Store;
  logger: Logger;
  /** `status.developer_mode` in the API (Sesam's client requires it for most commands). */
  developerMode?: boolean;
  /** Run pumps on their schedules (tests and the pipe runner may drive runs themselves). */
  schedule?: boolean;
  maxConcurrent?: number;
  nodeId?: string;
  /** Lease time for pipes when the store is shared (default 30 s). */
  leaseTtlMs?: number;
  /** This runtime's replica index when a plan places pipes on several replicas. */
  replica?: number;
  /** Where the config comes from when it is a folder (`sluice run`): it is not restored from the store, and API changes are written into it. */
  configFolder?: ConfigFolder;
  /**
   * Worker threads that run pipes in parallel (runtime/executor/pool.ts; default 1: every pipe runs
   * in this thread). Only an embedded store on a data directory uses them.
   */
  workers?: number;
  /** The workers' handler module (tests only). */
  workerModule?: URL;
}

export interface ConfigResult {
  /** The config is running, with nothing left out. */
  ok: boolean;
  /** The config replaced the running one (possibly with entities left out, see `rejected`). */
  applied: boolean;
  diagnostics: Diagnostic[];
  /** Entities left out of the running config because of errors (force uploads). */
  rejected: string[];
}

/** A config entity that is in the config but not running, with why. */
export interface InvalidComponent {
  id: string;
  kind: 'pipe' | 'system';
  original: ConfigEntity;
  errors: Diagnostic[];
}

const META_FILES = 'config:files';
const META_ENV = 'env';
const META_SECRETS = 'secrets';
const META_SYSTEM_SECRETS = 'system-secrets';

export class SluiceRuntime extends EventEmitter {
  readonly store: Store;
  readonly logger: Logger;
  readonly log: ExecutionLog;
  readonly scheduler: Scheduler;
  readonly developerMode: boolean;
  readonly nodeId: string;
  startedAt = new Date();
  plan: ExecutionPlan | null = null;
  files: SourceFile[] = [];
  env: Record<string, unknown> = {};
  private secrets: Record<string, string> = {};
  /** Secrets of one system: its config's `$SECRET(...)` looks here before the global secrets. */
  private systemSecrets: Record<string, Record<string, string>> = {};
  /** Diagnostics of the last config that was refused (hot reload keeps the running plan). */
  pendingDiagnostics: Diagnostic[] = [];
  /** Diagnostics (warnings included) of the running config. */
  diagnostics: Diagnostic[] = [];
  invalid = new Map<string, InvalidComponent>();
  /** Pipes that compiled but could not be instantiated (e.g. a component this runtime cannot run). */
  instantiationErrors = new Map<string, string>();
  /** The fingerprint of the secret values each built pipe was given (see pipe-secrets.ts). */
  private readonly pipeSecrets = new Map<string, string>();
  private closed = false;
  /** Pipe leases, when the store is shared by several runtimes. */
  readonly leases: PipeLeases | null;
  /** Bounds of pipe previews (GET /api/pipes/{id}/entities, verification in tests). */
  previewLimits: PreviewLimits = { ...DEFAULT_PREVIEW_LIMITS };
  /** The config folder this runtime serves, if any: the source of truth for its config. */
  readonly configFolder: ConfigFolder | null;
  /** Set when the plan comes from outside (the operator): config edits through the API are refused. */
  managed = false;
  readonly replica: number;
  /** The systems the running pumps were built with, as JSON text with secrets substituted. */
  private builtSystems = new Map<string, string>();
  /** Runs pipes on worker threads, when there are more than one. */
  readonly pool: PipePool | null;

  private constructor(options: RuntimeOptions) {
    super();
    this.store = options.store;
    this.logger = options.logger;
    this.developerMode = options.developerMode ?? true;
    this.nodeId = options.nodeId ?? 'sluice';
    this.log = new ExecutionLog(this.store);
    // Scheduled runs at once: at least one per worker thread, so that the pool can be kept busy.
    this.scheduler = new Scheduler({ logger: this.logger, maxConcurrent: options.maxConcurrent ?? Math.max(4, options.workers ?? 1) });
    this.setMaxListeners(100);
    this.replica = options.replica ?? 0;
    this.configFolder = options.configFolder ?? null;
    this.leases = this.store.leases ? new PipeLeases(this.store.leases, `${this.nodeId}-${randomUUID().slice(0, 8)}`, options.leaseTtlMs ?? 30_000, this.logger) : null;
    if (this.leases) this.leases.onLost = (pipeId) => this.pump(pipeId)?.active?.controller.abort();
    this.pool = PipePool.for(this.store, { size: options.workers ?? 1, logLevel: this.logger.level, logger: this.logger, module: options.workerModule });
  }

  /** Opens the runtime on a store and restores the config it last ran. */
  static async open(options: RuntimeOptions): Promise<SluiceRuntime> {
    const rt = new SluiceRuntime(options);
    rt.env = (await rt.store.getMeta<Record<string, unknown>>(META_ENV)) ?? {};
    rt.systemSecrets = (await rt.store.getMeta<Record<string, Record<string, string>>>(META_SYSTEM_SECRETS)) ?? {};
    rt.useSecrets((await rt.store.getMeta<Record<string, string>>(META_SECRETS)) ?? {});
    // A config folder is read by its owner; only a runtime without one restores the last config it ran.
    const files = options.replica === undefined && !options.configFolder ? ((await rt.store.getMeta<SourceFile[]>(META_FILES)) ?? []) : [];
    if (files.length) await rt.setConfigFiles(files, { force: true, persist: false });
    if (options.schedule !== false) rt.scheduler.start();
    rt.leases?.start();
    return rt;
  }

  /** True once close() has begun: background work seeing a store error then stops quietly. */
  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    forgetSecretValues(this);
    this.scheduler.stop();
    await this.scheduler.stopAll();
    await this.leases?.releaseAll();
    await this.pool?.close();
    await components.closeSystems();
    // A config change's history still being written is finished, not cut off by the store closing.
    await configHistorySettled(this);
    await this.store.close();
  }

  // ---------------------------------------------------------------- config

  /**
   * Replaces the whole config. Without `force`, a config with errors is refused and the running
   * plan stays; with `force`, entities with errors are left out (and shown as invalid).
   */
  async setConfigFiles(files: SourceFile[], opts: { force?: boolean; persist?: boolean } = {}): Promise<ConfigResult> {
    const options = { env: this.env, secrets: [...Object.keys(this.secrets), ...Object.values(this.systemSecrets).flatMap((s) => Object.keys(s))] };
    let result = compile(files, options);
    const rejected: string[] = [];
    const invalid = new Map<string, InvalidComponent>();
    if (!result.plan) {
      if (!opts.force) {
        this.pendingDiagnostics = result.diagnostics;
        return { ok: false, applied: false, diagnostics: result.diagnostics, rejected };
      }
      // Best effort: drop the files with errors until the rest compiles.
      let remaining = files;
      const allDiagnostics = result.diagnostics;
      for (let i = 0; i < 5 && !result.plan; i++) {
        const bad = new Set(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.file));
        const entities = entitiesOf(remaining.filter((f) => bad.has(f.path)));
        for (const { entity, file } of entities) {
          rejected.push(entity._id);
          invalid.set(entity._id, {
            id: entity._id,
            kind: String(entity.type).startsWith('system:') ? 'system' : 'pipe',
            original: entity,
            errors: allDiagnostics.filter((d) => d.file === file),
          });
        }
        remaining = remaining.filter((f) => !bad.has(f.path));
        result = compile(remaining, options);
      }
      if (!result.plan) {
        this.pendingDiagnostics = result.diagnostics;
        return { ok: false, applied: false, diagnostics: allDiagnostics, rejected };
      }
      result = { plan: result.plan, diagnostics: allDiagnostics };
    }
    this.files = files;
    this.invalid = invalid;
    this.pendingDiagnostics = [];
    this.diagnostics = result.diagnostics;
    if (opts.persist !== false) await this.store.setMeta(META_FILES, files);
    await this.applyPlan(result.plan!);
    return { ok: rejected.length === 0, applied: true, diagnostics: result.diagnostics, rejected };
  }

  /**
   * Runs a plan compiled elsewhere (a runtime pod of the operator): no config text, and only the
   * pipes the plan's placement gives this replica.
   */
  async usePlan(plan: ExecutionPlan, secrets: Record<string, string> = {}): Promise<void> {
    this.managed = true;
    this.useSecrets(secrets);
    this.files = [];
    this.invalid = new Map();
    this.pendingDiagnostics = [];
    this.diagnostics = [];
    await this.applyPlan(plan);
  }

  /** Whether this runtime runs a pipe of the current plan (placement). */
  ownsPipe(pipeId: string): boolean {
    const placement = this.plan?.placement;
    return !placement || (placement.assignments[pipeId] ?? 0) === this.replica;
  }

  /** Recompiles the current files (after env vars or secrets changed). */
  async recompile(): Promise<ConfigResult> {
    return this.setConfigFiles(this.files, { force: true });
  }

  configEntities(): ConfigEntity[] {
    return entitiesOf(this.files).map((e) => e.entity);
  }

  /** The plan's systems with `$SECRET(...)` references substituted (for components, and for microservices to start). */
  systemsFor(plan: ExecutionPlan): Map<string, PlanSystem & { config: Record<string, unknown> }> {
    return new Map(plan.systems.map((s) => [s.id, { ...s, config: substituteSecrets(s.effective, { ...this.secrets, ...this.systemSecrets[s.id] }) }]));
  }

  /** A system of the running plan with its secrets substituted, as components get it. */
  resolvedSystem(id: string): (PlanSystem & { config: Record<string, unknown> }) | null {
    return this.plan ? (this.systemsFor(this.plan).get(id) ?? null) : null;
  }

  /** Moves the running pumps to a new plan: only added and changed pipes are rebuilt. */
  async applyPlan(plan: ExecutionPlan): Promise<void> {
    const diff = diffPlans(this.plan, plan);
    const changedSystems = new Set([...diff.systems.changed, ...diff.systems.added, ...diff.systems.removed]);
    const systems = this.systemsFor(plan);
    // A secret set or changed since the pumps were built changes the system for its components.
    const built = new Map([...systems].map(([id, s]) => [id, configText(s.config)]));
    for (const [id, text] of built) if (this.builtSystems.has(id) && this.builtSystems.get(id) !== text) changedSystems.add(id);
    this.builtSystems = built;
    const rebuild = new Set([...diff.added, ...diff.changed]);
    for (const p of plan.pipes) {
      const secretsChanged = (this.pipeSecrets.get(p.id) ?? '') !== pipeSecretsDigest(p, this.secrets);
      if (p.systems.some((s) => changedSystems.has(s)) || this.instantiationErrors.has(p.id) || secretsChanged) rebuild.add(p.id);
    }
    for (const id of [...diff.removed, ...rebuild]) {
      const pump = this.scheduler.pumps.get(id);
      if (pump) {
        await pump.stop();
        this.scheduler.pumps.delete(id);
      }
    }
    for (const id of diff.removed) {
      this.instantiationErrors.delete(id);
      this.pipeSecrets.delete(id);
    }
    const invalidPipes = [...this.invalid.values()].filter((c) => c.kind === 'pipe').map((c) => c.id);
    await cleanupDeletedPipes(this.store, plan, [...plan.pipes.map((p) => p.id), ...invalidPipes], this.logger);
    this.plan = plan;
    this.scheduler.paused = this.automaticRunsOff(plan);
    for (const pipe of plan.pipes) {
      if (!this.ownsPipe(pipe.id)) {
        // Placed on another replica (perhaps after a rebalance): stop running it here.
        const moved = this.scheduler.pumps.get(pipe.id);
        if (moved) {
          await moved.stop();
          this.scheduler.pumps.delete(pipe.id);
          await this.leases?.release(pipe.id);
        }
        continue;
      }
      if (!rebuild.has(pipe.id) && this.scheduler.pumps.has(pipe.id)) continue;
      try {
        this.pipeSecrets.set(pipe.id, pipeSecretsDigest(pipe, this.secrets));
        const inst = buildPipeInstance(pipeWithSecrets(pipe, this.secrets), plan, {
          store: this.store,
          logger: this.logger,
          systems,
          hopsResolver: () => hopsResolverFor(this.store),
          services: { runtime: this, compactionLimit: (dataset: string) => this.compactionLimit(dataset) },
        });
        if (diff.changed.includes(pipe.id) && pipe.effective.rescan_when_config_changes === true) {
          const state = await this.store.getPipeState(pipe.id);
          if (state) await this.store.setPipeState(pipe.id, { ...state, last_seen: null, run: null });
        }
        const pump = new Pump(inst, {
          store: this.store,
          log: this.log,
          logger: this.logger,
          onDatasetChanged: (d) => this.datasetChanged(d),
          leases: this.leases ?? undefined,
          onRunFinished: (p, outcome) => this.emit('run-finished', p.id, outcome),
          ...(this.pool && PipePool.canRun(pipe) ? { execute: this.pool.run.bind(this.pool, plan, systems) } : {}),
        });
        await pump.init();
        this.scheduler.pumps.set(pipe.id, pump);
        this.instantiationErrors.delete(pipe.id);
      } catch (err) {
        const message = redactSecrets((err as Error).message);
        this.instantiationErrors.set(pipe.id, message);
        this.logger.error({ pipe: pipe.id, err: message }, 'pipe cannot run');
      }
    }
    this.logger.info({ plan: plan.hash.slice(0, 12), pipes: plan.pipes.length, added: diff.added.length, changed: diff.changed.length, removed: diff.removed.length }, 'plan applied');
    this.emit('plan-applied', plan, diff);
  }

  private automaticRunsOff(plan: ExecutionPlan): boolean {
    const tm = (plan.metadata.effective.task_manager ?? {}) as Record<string, unknown>;
    return tm.disable_user_pipes === true || tm.disable_pump_scheduler === true;
  }

  /** The highest offset compaction may reach in `dataset` (see compaction-limit.ts). */
  async compactionLimit(dataset: string): Promise<number | undefined> {
    return compactionLimitFor(this.plan, this.store, dataset);
  }

  /** A dataset got new versions outside a pipe run too (API posts): downstream pipes are signalled. */
  notifyDatasetChanged(dataset: string): void {
    this.datasetChanged(dataset);
  }

  private datasetChanged(dataset: string): void {
    this.scheduler.signal(dataset);
    this.emit('dataset-changed', dataset);
  }

  // ---------------------------------------------------------------- env and secrets

  async setEnv(values: Record<string, unknown>, replace: boolean): Promise<ConfigResult> {
    this.env = replace ? { ...values } : { ...this.env, ...values };
    await this.store.setMeta(META_ENV, this.env);
    return this.recompile();
  }

  async deleteEnv(name: string): Promise<ConfigResult | null> {
    if (!(name in this.env)) return null;
    const { [name]: _removed, ...rest } = this.env;
    this.env = rest;
    await this.store.setMeta(META_ENV, this.env);
    return this.recompile();
  }

  systemSecretNames(systemId: string): string[] {
    return Object.keys(this.systemSecrets[systemId] ?? {}).sort();
  }

  /** Sets (or with `replace`, replaces) the secrets of one system, then recompiles. */
  async setSystemSecrets(systemId: string, values: Record<string, string>, replace: boolean): Promise<ConfigResult> {
    const next = replace ? { ...values } : { ...this.systemSecrets[systemId], ...values };
    this.systemSecrets = { ...this.systemSecrets, [systemId]: next };
    this.redactSecretValues();
    await this.store.setMeta(META_SYSTEM_SECRETS, this.systemSecrets);
    return this.recompile();
  }

  async deleteSystemSecret(systemId: string, name: string): Promise<boolean> {
    const own = this.systemSecrets[systemId];
    if (!own || !(name in own)) return false;
    const { [name]: _removed, ...rest } = own;
    this.systemSecrets = { ...this.systemSecrets, [systemId]: rest };
    this.redactSecretValues();
    await this.store.setMeta(META_SYSTEM_SECRETS, this.systemSecrets);
    await this.recompile();
    return true;
  }

  secretNames(): string[] {
    return Object.keys(this.secrets).sort();
  }

  /** The secret values components get; registered for masking wherever text leaves the process. */
  private useSecrets(values: Record<string, string>): void {
    this.secrets = values;
    this.redactSecretValues();
  }

  /** Every secret value, global or a system's own, is masked wherever text leaves the runtime. */
  private redactSecretValues(): void {
    setSecretValues(this, [...Object.values(this.secrets), ...Object.values(this.systemSecrets).flatMap((own) => Object.values(own))]);
  }

  async setSecrets(values: Record<string, string>, replace: boolean): Promise<ConfigResult> {
    this.useSecrets(replace ? { ...values } : { ...this.secrets, ...values });
    await this.store.setMeta(META_SECRETS, this.secrets);
    return this.recompile();
  }

  async deleteSecret(name: string): Promise<boolean> {
    if (!(name in this.secrets)) return false;
    const { [name]: _removed, ...rest } = this.secrets;
    this.useSecrets(rest);
    await this.store.setMeta(META_SECRETS, this.secrets);
    await this.recompile();
    return true;
  }

  // ---------------------------------------------------------------- pipes and runs

  pipe(id: string): PlanPipe | undefined {
    return this.plan?.pipes.find((p) => p.id === id);
  }

  pump(id: string): Pump | undefined {
    return this.scheduler.pumps.get(id);
  }

  /** Runs a pipe now and waits for the outcome (tests, the pipe runner, `sluice test`). */
  async runPipe(id: string, opts: { full?: boolean } = {}): Promise<RunOutcome> {
    const pump = this.pump(id);
    if (!pump) throw new Error(`pipe "${id}" is not running in this runtime${this.instantiationErrors.has(id) ? `: ${this.instantiationErrors.get(id)}` : ''}`);
    if (pump.active) await pump.active.promise;
    return pump.start({ reason: 'runner', full: opts.full });
  }

  describeErrors(ds: Diagnostic[]): string {
    return ds.map(formatDiagnostic).join('\n');
  }
}
