/**
 * The worker-thread side of the pipe pool: runs one pipe run with the same executor as the main
 * thread (runPipe), on a connection of its own to the runtime's data directory. The main thread
 * keeps the pump, the API and the locks; it hears of progress and changed datasets through the
 * task's port and stops the run through it.
 */
import type { MessagePort } from 'node:worker_threads';
import pino, { type Level } from 'pino';
import type { ExecutionPlan, PlanPipe, PlanSystem } from '../../compiler/plan/types.js';
import { EmbeddedStore } from '../store/embedded/store.js';
import { ExecutionLog } from '../pump/execution-log.js';
import { hopsResolverFor } from '../datasets/hops-resolver.js';
import { buildPipeInstance } from './pipe-instance.js';
import { runPipe, type RunOutcome, type RunRequest } from './run.js';
import { compactionLimitFor } from './compaction-limit.js';
import { yieldToEventLoop } from './time-slice.js';

export interface PoolTask {
  dataDir: string;
  /** The runtime's write turn, shared by every connection to the data directory. */
  writeTurn: SharedArrayBuffer;
  plan: ExecutionPlan;
  /** The pipe with its secrets substituted. */
  pipe: PlanPipe;
  systems: [string, PlanSystem & { config: Record<string, unknown> }][];
  request: RunRequest;
  logLevel: string;
  port: MessagePort;
}

/** What the worker tells the main thread while a run goes on. */
export type PoolMessage = { kind: 'progress'; progress: { read: number; written: number; failed: number } } | { kind: 'changed'; dataset: string };

/** One connection per data directory for the worker's lifetime: runs reuse it. */
const stores = new Map<string, EmbeddedStore>();

function storeFor(dataDir: string, writeTurn: SharedArrayBuffer): EmbeddedStore {
  let store = stores.get(dataDir);
  if (!store) {
    store = new EmbeddedStore({ dataDir, joinRuntime: true, writeTurn });
    stores.set(dataDir, store);
  }
  return store;
}

/** A message per batch costs more than the batch's DTL: the main thread hears at most every SEND_EVERY_MS, and at the end. */
const SEND_EVERY_MS = 200;

class Batched {
  private readonly datasets = new Set<string>();
  private latest: { read: number; written: number; failed: number } | null = null;
  private last = Date.now();

  constructor(private readonly port: MessagePort) {}

  changed(dataset: string): void {
    this.datasets.add(dataset);
    this.flushIfDue();
  }

  progress(progress: { read: number; written: number; failed: number }): void {
    this.latest = progress;
    this.flushIfDue();
  }

  private flushIfDue(): void {
    if (Date.now() - this.last >= SEND_EVERY_MS) this.flush();
  }

  flush(): void {
    this.last = Date.now();
    for (const dataset of this.datasets) this.port.postMessage({ kind: 'changed', dataset } satisfies PoolMessage);
    this.datasets.clear();
    if (this.latest) this.port.postMessage({ kind: 'progress', progress: this.latest } satisfies PoolMessage);
    this.latest = null;
  }
}

export default async function runPipeTask(task: PoolTask): Promise<RunOutcome> {
  const { port } = task;
  const controller = new AbortController();
  port.on('message', (m: { kind?: string }) => {
    if (m?.kind === 'abort') controller.abort();
  });
  // A stop sent before the task arrived is queued on the port: it is heard before the run starts, as in the main thread.
  await yieldToEventLoop();
  try {
    const store = storeFor(task.dataDir, task.writeTurn);
    const logger = pino({ level: task.logLevel as Level });
    const inst = buildPipeInstance(task.pipe, task.plan, {
      store,
      logger,
      systems: new Map(task.systems),
      hopsResolver: () => hopsResolverFor(store),
      services: { compactionLimit: (dataset: string) => compactionLimitFor(task.plan, store, dataset) },
    });
    const messages = new Batched(port);
    try {
      return await runPipe(
        inst,
        {
          store,
          log: new ExecutionLog(store),
          logger,
          onDatasetChanged: (dataset) => messages.changed(dataset),
          onProgress: (_id, progress) => messages.progress(progress),
        },
        task.request,
        controller.signal,
      );
    } finally {
      messages.flush();
    }
  } finally {
    port.close();
  }
}
