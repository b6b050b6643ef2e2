/**
 * Keeps a long run's memory near what it really holds, with V8's own collector doing the work.
 *
 * Batches live long enough to survive a young-generation collection or two, so V8 promotes them
 * and the old generation fills with dead batches until V8's next full collection. V8 schedules
 * that one when the old generation reaches a limit it sets after each full collection: what
 * survived times a growing factor which, on a machine with plenty of memory, goes up to 4. A run
 * that really holds 30 MB could then hold 120 MB, growing with the length of the run until then.
 *
 * The growing factor is set to 1.5 here (V8's `--heap-growing-percent`, read at every full
 * collection, so it can be set while running): the first time an isolate's heap passes FLOOR,
 * `settleHeap()` sets it and runs one full collection, so that the limit follows the live size
 * from then on. After that V8 collects by itself: incrementally, marking on a helper thread.
 *
 * Forcing a full collection from here whenever the heap had grown 1.5 times past the last one
 * (the same allowance, collected atomically on the main thread) cost far more than its pauses: the young collections after a forced
 * one promoted several times as much (`--trace-gc-nvp`), and a REST sink ran at half its speed.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** The old generation may grow to 1.5 times what survived the last full collection (or by V8's minimum step) before the next one. */
const HEAP_GROWING_PERCENT = 50;
/** An isolate's heap (used bytes, and buffers its objects keep) past which the first full collection runs. */
const FLOOR = 48 * 1024 * 1024;

let settled = false;

/** V8's full collection, exposed through its flag (the documented way to get `gc` at run time). */
function fullCollection(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

/**
 * Called between batches; does something once per isolate (module state is per isolate): when
 * the heap first passes FLOOR, sets the growing factor (for the whole process) and runs one full
 * collection, which computes the isolate's next limit with it.
 */
export function settleHeap(): void {
  if (settled) return;
  const stats = v8.getHeapStatistics();
  if (stats.used_heap_size + stats.external_memory <= FLOOR) return;
  settled = true;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  fullCollection()?.();
}
