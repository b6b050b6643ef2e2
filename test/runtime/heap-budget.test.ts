import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { settleHeap } from '../../runtime/executor/heap-budget.js';

/** Full collections that were forced (as `settleHeap` forces them), seen by a GC observer. */
const forced: PerformanceEntry[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const detail = (e as PerformanceEntry & { detail?: { kind: number; flags: number } }).detail;
    if (detail && detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR && (detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0) forced.push(e);
  }
});
observer.observe({ entryTypes: ['gc'] });
afterAll(() => observer.disconnect());

/** GC entries reach the observer on a later turn of the event loop. */
async function delivered(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** About `mb` MB of garbage that survives young collections while it is built (a batch that got promoted). */
function promotedGarbage(mb: number): void {
  let held: number[][] | null = [];
  // 8,192 doubles: 64 KB on the heap each.
  for (let i = 0; i < mb * 16; i++) held.push(new Array<number>(8192).fill(i + 0.5));
  held = null;
}

describe('heap budget', () => {
  it('runs one full collection when the heap first passes its floor, then leaves collecting to V8', async () => {
    promotedGarbage(64);
    const before = v8.getHeapStatistics();
    settleHeap();
    const after = v8.getHeapStatistics();
    await delivered();
    expect(forced).toHaveLength(1);
    // The garbage is gone: the collection ran before settleHeap returned.
    expect(after.used_heap_size).toBeLessThan(before.used_heap_size - 32 * 1024 * 1024);

    // Later batches: V8's own collector, never a forced one.
    for (let batch = 0; batch < 4; batch++) {
      promotedGarbage(64);
      settleHeap();
    }
    await delivered();
    expect(forced).toHaveLength(1);
  });
});
