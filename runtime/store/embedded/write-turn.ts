/**
 * Whose turn it is to write, among the threads that share one database (the runtime and its pipe
 * workers). SQLite would serialise them too, but a writer that finds the database locked sleeps in
 * steps of up to 100 ms before it looks again; with this lock the next writer wakes the moment the
 * previous one commits. The state is one shared integer: 0 free, 1 taken. SQLite's own lock keeps
 * writes correct; this one only makes the hand-over prompt, so a turn a thread never gave back (it
 * was terminated in the middle of a write) is taken over after a while instead of waited for.
 */
const TAKE_OVER_MS = 5000;

export class WriteTurn {
  private readonly cell: Int32Array;
  /** Nested turns of this thread (a write inside a transaction of the same thread). */
  private depth = 0;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  run<T>(work: () => T): T {
    if (this.depth++ === 0) {
      const giveUp = Date.now() + TAKE_OVER_MS;
      while (Atomics.compareExchange(this.cell, 0, 0, 1) !== 0 && Date.now() < giveUp) Atomics.wait(this.cell, 0, 1, 50);
    }
    try {
      return work();
    } finally {
      if (--this.depth === 0) {
        Atomics.store(this.cell, 0, 0);
        Atomics.notify(this.cell, 0, 1);
      }
    }
  }
}
