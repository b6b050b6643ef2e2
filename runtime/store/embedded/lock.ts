/**
 * One runtime per data directory. The lock is an exclusive lock that SQLite takes on a database
 * of its own (`sluice.lock.db`): the operating system releases it when its process ends, however it
 * ends, so a killed runtime leaves no lock to clean up. Beside it, `sluice.lock.json` says who holds
 * the lock (pid, host, port, since when), for the message a second runtime gets.
 */
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
}

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  port?: number;
  command?: string;
}

function describe(holder: LockHolder | null): string {
  if (!holder) return 'a process that did not say who it is';
  const parts = [`pid ${holder.pid} on host ${holder.host}`];
  if (holder.port !== undefined) parts.push(`API on port ${holder.port}`);
  parts.push(`since ${holder.since}`);
  return parts.join(', ');
}

export class DataDirLock {
  private readonly db: Database.Database;
  private readonly infoFile: string;
  private holder: LockHolder;

  /** Takes the lock of `dir` (which exists) or throws DataDirLockedError naming the holder. */
  constructor(private readonly dir: string) {
    this.infoFile = join(dir, 'sluice.lock.json');
    this.db = new Database(join(dir, 'sluice.lock.db'));
    try {
      this.db.pragma('busy_timeout = 0');
      // An exclusive transaction that never ends holds the lock without writing (a full disk cannot stop it).
      this.db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      this.db.close();
      if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        throw new DataDirLockedError(`the data directory ${dir} is in use by another Sluice runtime (${describe(this.readHolder())}): stop that one, or give this one another --data-dir`);
      }
      throw err;
    }
    this.holder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
    this.writeHolder();
  }

  /** Adds to what a refused runtime is told about this one (the API port, once listening). */
  describeHolder(more: Partial<LockHolder>): void {
    this.holder = { ...this.holder, ...more };
    this.writeHolder();
  }

  private readHolder(): LockHolder | null {
    try {
      return JSON.parse(readFileSync(this.infoFile, 'utf8')) as LockHolder;
    } catch {
      return null;
    }
  }

  private writeHolder(): void {
    try {
      writeFileSync(this.infoFile, JSON.stringify(this.holder, null, 2) + '\n');
    } catch {
      // Only the message of a refused runtime would miss it (a full disk, a read-only folder).
    }
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}
