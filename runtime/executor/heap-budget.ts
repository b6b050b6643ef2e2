/**
 * Keeps a long pipe run's heap near what it really holds. Batches live long enough to survive a
 * young-generation collection or two, so V8 promotes them and lets the old generation fill with
 * them for many times the live size before it collects: a runtime's memory then grows with the
 * length of a run. Between batches the executor asks `settleHeap()`; when the heap has grown past
 * its allowance, a full collection runs and the allowance becomes 1.5 times what survived it (never
 * less than the floor), so a runtime that really holds more is not collected over and over.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

const FLOOR = 48 * 1024 * 1024;

let collect: (() => void) | null | undefined;
let allowance = FLOOR;

/** V8's full collection, exposed once through its flag (the documented way to get `gc` at run time). */
function fullCollection(): (() => void) | null {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/**
 * The heap and the memory outside it that heap objects keep (buffers): a Buffer that is garbage
 * holds its bytes until the object holding it is collected.
 */
function heldBytes(): number {
  const stats = v8.getHeapStatistics();
  return stats.used_heap_size + stats.external_memory;
}

export function settleHeap(): void {
  if (heldBytes() <= allowance) return;
  const gc = fullCollection();
  if (!gc) return;
  gc();
  allowance = Math.max(FLOOR, 1.5 * heldBytes());
}
