/**
 * Store errors callers can act on. A full disk is the one a running service meets sooner or later:
 * nothing of the failed write is stored, and freeing space is enough to go on.
 */

export class StoreFullError extends Error {
  readonly code = 'STORE_FULL';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** MongoDB's OutOfDiskSpace. */
const MONGO_OUT_OF_DISK_SPACE = 14031;

/** Whether `err` says the disk under the store is full (SQLite, the file system or MongoDB). */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof StoreFullError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === MONGO_OUT_OF_DISK_SPACE;
}

/** `err` as a StoreFullError when the disk is full, else unchanged. `where` names the data's place. */
export function storeErrorOf(err: unknown, where: string): unknown {
  if (err instanceof StoreFullError || !isDiskFull(err)) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new StoreFullError(`the disk is full where the store keeps its data (${where}: ${detail}); nothing of this write was stored. Free space there, then retry`, { cause: err });
}
