/**
 * Cooperative time slicing. Pipe runs share the thread with the API, and most of their work is
 * synchronous underneath (DTL, the embedded store), so a run that never gave the event loop a turn
 * would hold every request until it ended. Long loops call `yieldIfDue` between units of work: once
 * a slice has passed since the event loop last had a turn, they let it have one.
 */
import { performance } from 'node:perf_hooks';

/** Synchronous work between two turns of the event loop, at most about this long (plus one unit). */
export const SLICE_MS = 10;

let sliceStarted = performance.now();

/** Whether the current slice is used up. Cheap enough to ask per entity. */
export function sliceDue(): boolean {
  return performance.now() - sliceStarted >= SLICE_MS;
}

/** Lets the event loop run (I/O, timers, requests) and starts a new slice. */
export async function yieldToEventLoop(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  sliceStarted = performance.now();
}

export async function yieldIfDue(): Promise<void> {
  if (sliceDue()) await yieldToEventLoop();
}
