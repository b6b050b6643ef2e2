/**
 * Whose turn it is to write, among the threads that share one database (the runtime and its pipe
 * workers). SQLite would serialise them too, but a writer that finds the database locked sleeps in
 * steps of up to 100 ms before it looks again; with this lock the next writer wakes the moment the
 * previous one commits. The state is one shared integer: 0 free, 1 taken. SQLite's own lock keeps
 * writes correct; this one only makes the hand-over prompt, so a turn a thread never gave back (it
 * was terminated in the middle of a write) is taken over after a while instead of waited for.
 * Beside it the threads add up how long they waited for turns and held them: the writes are the
 * part of parallel pipe runs that cannot overlap, and these totals say how large it is.
 */
const TAKE_OVER_MS = 5000;

/** Bytes: the turn (int32, padded to 8), then turns taken, nanoseconds waited, nanoseconds held (int64 each). */
const BYTES = 32;

export interface WriteTurnStats {
  turns: number;
  waitedSeconds: number;
  heldSeconds: number;
}

export class WriteTurn {
  private readonly cell: Int32Array;
  private readonly totals: BigInt64Array;
  /** Nested turns of this thread (a write inside a transaction of the same thread). */
  private depth = 0;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(BYTES)) {
    this.cell = new Int32Array(buffer, 0, 1);
    this.totals = new BigInt64Array(buffer, 8, 3);
  }

  run<T>(work: () => T): T {
    if (this.depth++ > 0) {
      try {
        return work();
      } finally {
        this.depth--;
      }
    }
    const asked = process.hrtime.bigint();
    const giveUp = Date.now() + TAKE_OVER_MS;
    while (Atomics.compareExchange(this.cell, 0, 0, 1) !== 0 && Date.now() < giveUp) Atomics.wait(this.cell, 0, 1, 50);
    const taken = process.hrtime.bigint();
    try {
      return work();
    } finally {
      this.depth--;
      Atomics.add(this.totals, 0, 1n);
      Atomics.add(this.totals, 1, taken - asked);
      Atomics.add(this.totals, 2, process.hrtime.bigint() - taken);
      Atomics.store(this.cell, 0, 0);
      Atomics.notify(this.cell, 0, 1);
    }
  }

  /** What every thread sharing this turn has waited and held so far. */
  stats(): WriteTurnStats {
    const [turns, waited, held] = [0, 1, 2].map((i) => Atomics.load(this.totals, i));
    return { turns: Number(turns), waitedSeconds: Number(waited) / 1e9, heldSeconds: Number(held) / 1e9 };
  }
}
