/**
 * Moves the write-ahead log into the database file on a thread of its own. A checkpoint copies
 * the log's pages and syncs the file (around 100 ms for 40 MB on a disk); done by the writing
 * connection it would hold the event loop, and with it the API, for that long. A second connection
 * in a worker thread checkpoints passively instead: it never blocks the writer, and SQLite keeps the
 * two consistent. Stores that write little never start the worker.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/** A log larger than this is checkpointed in the background. */
const WAL_BYTES = 8 * 1024 * 1024;
/** How often, at most, the log's size is looked at (after commits). */
const CHECK_EVERY_MS = 250;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or failing (a full disk): the writer's own automatic checkpoint remains.
  }
});
`;

export class BackgroundCheckpointer {
  private worker: Worker | null = null;
  private lastCheck = 0;

  constructor(private readonly file: string) {}

  /** Called after a commit: asks the worker for a checkpoint when the log has grown. */
  afterCommit(): void {
    const now = performance.now();
    if (now - this.lastCheck < CHECK_EVERY_MS) return;
    this.lastCheck = now;
    let size = 0;
    try {
      size = statSync(`${this.file}-wal`).size;
    } catch {
      return;
    }
    if (size < WAL_BYTES) return;
    this.worker ??= this.start();
    this.worker.postMessage('checkpoint');
  }

  private start(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER, { eval: true, workerData: { driver, file: this.file } });
    worker.unref();
    worker.on('error', () => {
      // The automatic checkpoint of the writing connection takes over.
      if (this.worker === worker) this.worker = null;
    });
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Waiting for it must keep the process alive (it is unreferenced while it works).
    worker.ref();
    worker.postMessage('close');
    await exited;
  }
}
