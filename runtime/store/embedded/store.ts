/**
 * The embedded store: SQLite (better-sqlite3, WAL) in one file per data directory. Writes of a
 * batch and the pipe's checkpoint commit in one transaction, so a crash never separates them.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseEntityJson } from '../../../compiler/values/json.js';
import { storedEntity } from '../stored-entity.js';
import type { Entity, Value } from '../../../compiler/values/types.js';
import { getPath } from '../../../compiler/dtl/runtime.js';
import { entityContent, nowMicros, withReservedFields } from '../../datasets/content.js';
import { indexKeys } from '../../datasets/index-key.js';
import { addResults, type DatasetInfo, type DeleteUnseenOptions, type PipeCheckpoint, type PipeState, type ScanOptions, type Store, type StoredEntity, type WriteOptions, type WriteResult } from '../contract.js';
import { storeErrorOf } from '../errors.js';
import { BackgroundCheckpointer } from './checkpointer.js';
import { DataDirLock, type LockHolder } from './lock.js';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import { WriteTurn, type WriteTurnStats } from './write-turn.js';
import { RowInserter } from './row-inserter.js';
import { buildIndex, latestByIndex } from './index-rows.js';
import { compactWrittenSince, prepareStatements, type CurRow, type DatasetRow, type LogRow, type RawRow, type Statements } from './statements.js';

const PAGE = 1000;
/** SQLite's page cache per connection. */
const PAGE_CACHE_KB = 8192;

export interface EmbeddedStoreOptions {
  /** Data directory; the database is `<dir>/sluice.db`. `:memory:` for a throwaway store. */
  dataDir: string;
  /**
   * A second connection of a runtime that already holds the data directory (a pipe worker thread):
   * it takes no lock, starts no checkpointer, and expects other connections to write.
   */
  joinRuntime?: boolean;
  /** The runtime's write turn (see write-turn.ts), given to the connections of its workers. */
  writeTurn?: SharedArrayBuffer;
}

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  private readonly db: Database.Database;
  private readonly datasets = new Map<string, DatasetRow>();
  /** Per dataset, the end of its log when it was last compacted without limits, and the versions kept. */
  private readonly compactedTo = new WeakMap<DatasetRow, { off: number; keep: number }>();
  private readonly indexes = new Map<number, string[][]>();
  private readonly s: Statements;
  private readonly rows: RowInserter;
  private readonly where: string;
  private readonly checkpointer: BackgroundCheckpointer | null = null;
  private readonly lock: DataDirLock | null = null;
  /** Other connections (pipe worker threads) write to this database too: see refresh(). */
  private sharedWrites = false;
  private writeTurn: WriteTurn | null = null;
  private dataVersion = -1;
  private readonly dataVersionQuery;
  readonly dataDir: string;

  constructor(options: EmbeddedStoreOptions) {
    this.where = options.dataDir;
    this.dataDir = options.dataDir;
    let file = ':memory:';
    if (options.dataDir !== ':memory:') {
      mkdirSync(options.dataDir, { recursive: true });
      file = join(options.dataDir, 'sluice.db');
      if (!options.joinRuntime) {
        this.lock = new DataDirLock(options.dataDir);
        this.checkpointer = new BackgroundCheckpointer(file);
      }
    }
    try {
      this.db = new Database(file);
    } catch (err) {
      this.lock?.release();
      throw err;
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // Memory stays flat however large the datasets: a small page cache (the operating system caches
    // the file as well), no memory-mapped reads (whose pages count as the process's own) and
    // temporary tables on disk.
    this.db.pragma(`cache_size = -${PAGE_CACHE_KB}`);
    this.db.pragma('temp_store = file');
    // A worker's connection leaves checkpoints to the runtime's background checkpointer (see
    // walGrownElsewhere): one inside its commit would hold the write turn for the length of a sync.
    this.db.pragma(`wal_autocheckpoint = ${options.joinRuntime ? 50_000 : 10_000}`);
    this.db.pragma('mmap_size = 0');
    this.db.exec(SCHEMA_SQL);
    const version = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    if (!version) this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(JSON.stringify(SCHEMA_VERSION));
    const db = this.db;
    this.dataVersionQuery = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.sharedWrites = options.joinRuntime === true;
    if (options.writeTurn) this.writeTurn = new WriteTurn(options.writeTurn);
    this.s = prepareStatements(db);
    this.rows = new RowInserter(db);
    this.loadCache();
  }

  /**
   * From now on other connections (pipe worker threads on this data directory) may write: cached
   * dataset rows are checked against SQLite's data_version before use, and transactions take the
   * write lock when they begin, so that offsets are always allocated from the committed row.
   */
  allowOtherWriters(): SharedArrayBuffer {
    if (this.dataDir === ':memory:') throw new Error('an in-memory store cannot be shared with other connections');
    this.sharedWrites = true;
    this.writeTurn ??= new WriteTurn();
    return this.writeTurn.buffer;
  }

  /** Runs a write when it is this connection's turn (always, without other writers). */
  private inTurn<T>(work: () => T): T {
    return this.writeTurn ? this.writeTurn.run(work) : work();
  }

  /** How long the connections sharing this database waited for and held their write turns (null without other writers). */
  writeTurnStats(): WriteTurnStats | null {
    return this.writeTurn?.stats() ?? null;
  }

  get allowsOtherWriters(): boolean {
    return this.sharedWrites;
  }

  /** Reloads the cached rows when another connection committed since they were read. */
  private refresh(): void {
    if (!this.sharedWrites) return;
    const version = this.dataVersionQuery.get() as number;
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    this.loadCache();
  }

  /** The datasets' rows and index paths, as committed. */
  private loadCache(): void {
    this.datasets.clear();
    this.indexes.clear();
    for (const row of this.s.allDatasets.all()) this.datasets.set(row.name, row);
    for (const row of this.datasets.values()) this.indexes.set(row.ds, []);
    for (const { ds, path } of this.s.allIdxDefs.all()) this.indexes.get(ds)?.push(JSON.parse(path) as string[]);
  }

  /**
   * Runs `work` as one transaction. The cached dataset rows change inside it; when it fails (a full
   * disk fails at the commit, after the work) they are read again, so they only ever show what was
   * committed.
   */
  private tx<T>(work: () => T): T {
    try {
      const transaction = this.db.transaction(() => {
        this.refresh();
        return work();
      });
      // With other writers a deferred transaction could read a row that another commit outdates before it writes.
      const result = this.sharedWrites ? this.inTurn(() => transaction.immediate()) : transaction();
      this.checkpointer?.afterCommit();
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.loadCache();
      throw storeErrorOf(err, this.where);
    }
  }

  /** A single-statement write: a full disk becomes a StoreFullError. */
  private put(work: () => void): void {
    try {
      this.inTurn(work);
    } catch (err) {
      throw storeErrorOf(err, this.where);
    }
  }

  /** Another connection (a pipe worker) committed to this database: its log is checkpointed here, off the writers' thread. */
  walGrownElsewhere(): void {
    this.checkpointer?.afterCommit();
  }

  /** Adds to what another runtime refused this data directory is told about this one (e.g. the API port). */
  describeHolder(more: Partial<LockHolder>): void {
    this.lock?.describeHolder(more);
  }

  /** Moves the write-ahead log into the database file (maintenance; benchmarks start from a clean log). */
  checkpointWal(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    if (this.db.open) this.db.close();
    this.lock?.release();
  }

  private row(name: string): DatasetRow | undefined {
    this.refresh();
    return this.datasets.get(name);
  }

  private ensureRow(name: string): DatasetRow {
    let row = this.datasets.get(name);
    if (!row) {
      const now = nowMicros();
      this.s.insertDataset.run(name, now, now);
      row = this.s.dataset.get(name)!;
      this.datasets.set(name, row);
      this.indexes.set(row.ds, []);
    }
    return row;
  }

  private info(row: DatasetRow): DatasetInfo {
    return {
      id: row.name,
      lastOffset: row.last_off,
      entityCount: row.entity_count,
      deletedCount: row.deleted_count,
      versionCount: row.version_count,
      createdAt: row.created,
      updatedAt: row.updated,
      populated: row.populated === 1,
      indexes: this.indexes.get(row.ds) ?? [],
    };
  }

  async listDatasets(): Promise<DatasetInfo[]> {
    this.refresh();
    return [...this.datasets.values()].sort((a, b) => a.name.localeCompare(b.name)).map((r) => this.info(r));
  }

  async datasetInfo(id: string): Promise<DatasetInfo | null> {
    const row = this.row(id);
    return row ? this.info(row) : null;
  }

  async ensureDataset(id: string): Promise<void> {
    this.tx(() => this.ensureRow(id));
  }

  async deleteDataset(id: string): Promise<boolean> {
    const row = this.row(id);
    if (!row) return false;
    this.tx(() => {
      for (const table of ['log', 'cur', 'idx', 'idx_def']) this.db.prepare(`DELETE FROM ${table} WHERE ds = ?`).run(row.ds);
      this.db.prepare('DELETE FROM datasets WHERE ds = ?').run(row.ds);
    });
    this.datasets.delete(id);
    this.indexes.delete(row.ds);
    return true;
  }

  async markPopulated(id: string): Promise<void> {
    this.tx(() => {
      const row = this.ensureRow(id);
      if (!row.populated) {
        this.s.populate.run(row.ds);
        row.populated = 1;
      }
    });
  }

  private saveCheckpoint(c: PipeCheckpoint | undefined): void {
    if (c) this.s.setPipeState.run(c.pipeId, JSON.stringify(c.state));
  }

  private updateIndexes(row: DatasetRow, id: string, entity: Entity | null): void {
    const paths = this.indexes.get(row.ds);
    if (!paths || paths.length === 0) return;
    this.s.idxDeleteId.run(row.ds, id);
    if (entity === null) return;
    for (const path of paths) {
      const p = JSON.stringify(path);
      for (const key of indexKeys(getPath(entity, path))) this.s.idxInsert.run(row.ds, p, key, id);
    }
  }

  async write(dataset: string, entities: Entity[], options: WriteOptions = {}): Promise<WriteResult> {
    // Serialising and hashing happen before the write lock is taken: other writers wait only for the inserts.
    const contents = entities.map(entityContent);
    return this.tx(() => {
      const { deleteUnseen, ...rest } = options;
      if (!deleteUnseen || options.seenRun === undefined) return this.writeSync(dataset, entities, options, contents);
      const written = this.writeSync(dataset, entities, { ...rest, checkpoint: undefined }, contents);
      return addResults(written, this.deleteUnseenSync(dataset, options.seenRun, { checkpoint: options.checkpoint, now: options.now, mark: deleteUnseen.mark }));
    });
  }

  private writeSync(dataset: string, entities: Entity[], options: WriteOptions, contents = entities.map(entityContent)): WriteResult {
    const row = this.ensureRow(dataset);
    const ts = options.now ?? nowMicros();
    const seen = options.seenRun ?? null;
    const hasIndexes = (this.indexes.get(row.ds)?.length ?? 0) > 0;
    const result: WriteResult = { written: 0, unchanged: 0, deleted: 0, lastOffset: row.last_off, changedIds: [] };
    let { last_off: last, entity_count: live, deleted_count: dead, version_count: versions } = row;
    // One query for the batch's current versions instead of one per entity.
    const current = new Map<string, CurRow>();
    if (contents.length > 1) for (const r of this.s.curMany.all(row.ds, JSON.stringify(contents.map((c) => c.id)))) current.set(r.id, r);
    // New rows are buffered and inserted together; a second version of an id in the same batch
    // demotes the buffered first one instead of updating a row that is not written yet.
    const logRows: unknown[][] = [];
    const pendingLog = new Map<number, unknown[]>();
    const curRows = new Map<string, unknown[]>();
    for (let i = 0; i < contents.length; i++) {
      const e = entities[i];
      const c = contents[i];
      const cur = contents.length > 1 ? current.get(c.id) : this.s.cur.get(row.ds, c.id);
      if (cur && cur.hash === c.hash && !options.force) {
        result.unchanged++;
        if (seen !== null && cur.seen !== seen) {
          const pending = curRows.get(c.id);
          if (pending) pending[6] = seen;
          else this.s.touchCur.run(seen, row.ds, c.id);
          cur.seen = seen;
        }
        continue;
      }
      const off = ++last;
      const seq = cur ? cur.seq + 1 : 1;
      const logRow = [row.ds, off, c.id, c.hash, c.deleted ? 1 : 0, ts, cur ? cur.off : null, 1, seq, c.bigIntegers ? 1 : 0, c.body];
      logRows.push(logRow);
      pendingLog.set(off, logRow);
      if (cur) {
        const earlier = pendingLog.get(cur.off);
        if (earlier) earlier[7] = 0;
        else this.s.unlatest.run(row.ds, cur.off);
      }
      curRows.set(c.id, [row.ds, c.id, off, c.hash, c.deleted ? 1 : 0, seq, seen]);
      current.set(c.id, { id: c.id, off, hash: c.hash, deleted: c.deleted ? 1 : 0, seq, seen });
      versions++;
      if (cur) {
        if (cur.deleted) dead--;
        else live--;
      }
      if (c.deleted) dead++;
      else live++;
      if (hasIndexes) this.updateIndexes(row, c.id, c.deleted ? null : e);
      result.written++;
      if (c.deleted) result.deleted++;
      result.changedIds.push(c.id);
    }
    if (logRows.length) this.rows.insert('log', logRows);
    if (curRows.size) this.rows.insert('cur', [...curRows.values()]);
    if (result.written) {
      this.s.updateDataset.run(last, ts, live, dead, versions, row.ds);
      Object.assign(row, { last_off: last, updated: ts, entity_count: live, deleted_count: dead, version_count: versions });
    }
    result.lastOffset = last;
    this.saveCheckpoint(options.checkpoint);
    return result;
  }

  async deleteUnseen(dataset: string, seenRun: string, options: DeleteUnseenOptions = {}): Promise<WriteResult> {
    return this.tx(() => this.deleteUnseenSync(dataset, seenRun, options));
  }

  private deleteUnseenSync(dataset: string, seenRun: string, options: DeleteUnseenOptions): WriteResult {
    const row = this.row(dataset);
    if (!row) {
      this.saveCheckpoint(options.checkpoint);
      return { written: 0, unchanged: 0, deleted: 0, lastOffset: -1, changedIds: [] };
    }
    // A page at a time (a deleted entity no longer matches), so that deleting a whole dataset
    // never holds it in memory; one transaction, the checkpoint with the last page.
    const total: WriteResult = { written: 0, unchanged: 0, deleted: 0, lastOffset: row.last_off, changedIds: [] };
    for (;;) {
      const page = this.s.unseen.all(row.ds, seenRun, PAGE);
      const deletions: Entity[] = [];
      for (const { off } of page) {
        const latest = this.s.logAt.get(row.ds, off)!;
        const entity = parseEntityJson(latest.body, latest.big === 1) as Record<string, unknown>;
        Object.assign(entity, options.mark);
        entity._deleted = true;
        deletions.push(entity as Entity);
      }
      const last = page.length < PAGE;
      const r = this.writeSync(dataset, deletions, { seenRun, checkpoint: last ? options.checkpoint : undefined, now: options.now });
      total.written += r.written;
      total.unchanged += r.unchanged;
      total.deleted += r.deleted;
      total.lastOffset = r.lastOffset;
      for (const id of r.changedIds) total.changedIds.push(id);
      if (last) return total;
    }
  }

  private toEntity(r: LogRow): StoredEntity {
    return storedEntity(r.body, r.big === 1, r.off, r.ts, r.hash, r.prev);
  }

  async get(dataset: string, id: string): Promise<StoredEntity | null> {
    const row = this.row(dataset);
    if (!row) return null;
    const r = this.s.latest.get(row.ds, id);
    return r ? this.toEntity(r) : null;
  }

  async getMany(dataset: string, ids: string[]): Promise<Map<string, StoredEntity>> {
    const out = new Map<string, StoredEntity>();
    const row = this.row(dataset);
    if (!row) return out;
    for (const id of ids) {
      const r = this.s.latest.get(row.ds, id);
      if (r) out.set(id, this.toEntity(r));
    }
    return out;
  }

  /** Synchronous read of one latest entity (hops resolver fast path). */
  getSync(dataset: string, id: string): StoredEntity | null {
    const row = this.row(dataset);
    if (!row) return null;
    const r = this.s.latest.get(row.ds, id);
    return r ? this.toEntity(r) : null;
  }

  /** Pages of log rows as arrays (raw mode avoids building an object per row): see RawRow. */
  private *pages(dataset: string, options: ScanOptions, pageSize = PAGE): Generator<RawRow[]> {
    const row = this.row(dataset);
    if (!row) return;
    const where = [`ds = ?`];
    if (!options.history) where.push('latest = 1');
    if (options.deleted === false) where.push('deleted = 0');
    const order = options.reverse ? 'DESC' : 'ASC';
    const cmp = options.reverse ? '<' : '>';
    const stmt = this.db
      .prepare<[number, number, number], RawRow>(`SELECT off, ts, hash, prev, big, body FROM log WHERE ${where.join(' AND ')} AND off ${cmp} ? ORDER BY off ${order} LIMIT ?`)
      .raw(true);
    let cursor = options.since ?? (options.reverse ? Number.MAX_SAFE_INTEGER : -1);
    let remaining = options.limit ?? Infinity;
    while (remaining > 0) {
      const rows = stmt.all(row.ds, cursor, Math.min(pageSize, remaining));
      if (rows.length === 0) return;
      yield rows;
      remaining -= rows.length;
      cursor = rows[rows.length - 1][0];
      if (rows.length < pageSize) return;
    }
  }

  private fromRaw(r: RawRow): StoredEntity {
    return storedEntity(r[5], r[4] === 1, r[0], r[1], r[2], r[3]);
  }

  async *scan(dataset: string, options: ScanOptions = {}): AsyncIterable<StoredEntity> {
    for (const rows of this.pages(dataset, options)) {
      for (const r of rows) yield this.fromRaw(r);
    }
  }

  async *scanJson(dataset: string, options: ScanOptions = {}): AsyncIterable<string> {
    for (const rows of this.pages(dataset, options)) {
      for (const r of rows) yield withReservedFields(r[5], r[0], r[1], r[2], r[3]);
    }
  }

  /** Pages of stored versions, synchronously (hops scans). */
  *scanPages(dataset: string, options: ScanOptions = {}): Generator<StoredEntity[]> {
    for (const rows of this.pages(dataset, options)) yield rows.map((r) => this.fromRaw(r));
  }

  async *scanBatches(dataset: string, options: ScanOptions & { batchSize: number }): AsyncIterable<StoredEntity[]> {
    // Query in large pages (fewer statements), hand out batches of the requested size.
    const size = Math.max(1, options.batchSize);
    for (const rows of this.pages(dataset, options, Math.max(PAGE, size))) {
      for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size).map((r) => this.fromRaw(r));
    }
  }

  async getVersion(dataset: string, offset: number): Promise<StoredEntity | null> {
    const row = this.row(dataset);
    const r = row ? this.s.logAt.get(row.ds, offset) : undefined;
    return r ? this.toEntity(r) : null;
  }

  async history(dataset: string, id: string): Promise<StoredEntity[]> {
    const row = this.row(dataset);
    if (!row) return [];
    // Versions link back through their previous offsets; compaction ends the chain.
    const out: StoredEntity[] = [];
    let off: number | null = this.s.cur.get(row.ds, id)?.off ?? null;
    while (off !== null) {
      const r = this.s.logAt.get(row.ds, off);
      if (!r) break;
      out.push(this.toEntity(r));
      off = r.prev;
    }
    return out.reverse();
  }

  async compact(dataset: string, options: { keepVersions: number; upTo?: number; olderThanMicros?: number }): Promise<number> {
    if (!this.row(dataset)) return 0;
    const keep = Math.max(1, options.keepVersions);
    return this.tx(() => {
      // Another connection may have written since the check above: the row as of this transaction.
      const row = this.row(dataset);
      if (!row) return 0;
      // A version becomes compactable only when its entity gets a newer one, unless a limit (or
      // fewer versions to keep) held it back: after one compaction without limits, only the
      // entities written since need looking at.
      const last = this.compactedTo.get(row);
      const unlimited = options.upTo === undefined && options.olderThanMicros === undefined;
      const removed =
        unlimited && last !== undefined && keep >= last.keep
          ? compactWrittenSince(this.s, row, last.off, keep)
          : this.s.compact.run({ ds: row.ds, upTo: options.upTo ?? Number.MAX_SAFE_INTEGER, older: options.olderThanMicros ?? Number.MAX_SAFE_INTEGER, keep }).changes;
      if (unlimited) this.compactedTo.set(row, { off: row.last_off, keep });
      if (removed) {
        row.version_count -= removed;
        this.db.prepare('UPDATE datasets SET version_count = ? WHERE ds = ?').run(row.version_count, row.ds);
      }
      return removed;
    });
  }

  async ensureIndex(dataset: string, path: string[]): Promise<void> {
    const p = JSON.stringify(path);
    const known = this.row(dataset);
    if (known && this.indexes.get(known.ds)!.some((x) => JSON.stringify(x) === p)) return;
    this.tx(() => {
      const row = this.ensureRow(dataset);
      // Another connection may have built it meanwhile.
      if (this.indexes.get(row.ds)!.some((x) => JSON.stringify(x) === p)) return;
      this.s.addIdxDef.run(row.ds, p);
      buildIndex(this.s, row.ds, path, p);
      this.indexes.get(row.ds)!.push(path);
    });
  }

  async dropIndex(dataset: string, path: string[]): Promise<boolean> {
    const row = this.row(dataset);
    const paths = row ? this.indexes.get(row.ds) : undefined;
    const p = JSON.stringify(path);
    if (!row || !paths?.some((x) => JSON.stringify(x) === p)) return false;
    this.tx(() => {
      this.db.prepare('DELETE FROM idx WHERE ds = ? AND path = ?').run(row.ds, p);
      this.db.prepare('DELETE FROM idx_def WHERE ds = ? AND path = ?').run(row.ds, p);
      // The cache may have been read again when the transaction began (other writers): drop the path from what it holds now.
      const now = this.indexes.get(row.ds) ?? [];
      const i = now.findIndex((x) => JSON.stringify(x) === p);
      if (i >= 0) now.splice(i, 1);
    });
    return true;
  }

  /** Synchronous index lookup (hops resolver fast path); ensures the index exists. */
  lookupSync(dataset: string, path: string[], values: Value[]): StoredEntity[] {
    const row = this.row(dataset);
    if (!row) return [];
    const p = JSON.stringify(path);
    if (!this.indexes.get(row.ds)!.some((x) => JSON.stringify(x) === p)) {
      // Building an index is a one-off write; do it synchronously so the join stays synchronous.
      void this.ensureIndex(dataset, path);
    }
    const out: StoredEntity[] = [];
    for (const r of latestByIndex(this.s, row.ds, p, values)) {
      const e = this.toEntity(r);
      if (!e._deleted) out.push(e);
    }
    return out;
  }

  async lookup(dataset: string, path: string[], values: Value[]): Promise<StoredEntity[]> {
    return this.lookupSync(dataset, path, values);
  }

  async getPipeState(pipeId: string): Promise<PipeState | null> {
    const r = this.s.pipeState.get(pipeId);
    return r ? (JSON.parse(r.state) as PipeState) : null;
  }

  async setPipeState(pipeId: string, state: PipeState | null): Promise<void> {
    this.put(() => (state === null ? this.s.deletePipeState.run(pipeId) : this.s.setPipeState.run(pipeId, JSON.stringify(state))));
  }

  async getMeta<T = unknown>(key: string): Promise<T | null> {
    const r = this.s.meta.get(key);
    return r ? (JSON.parse(r.value) as T) : null;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    this.put(() => (value === null || value === undefined ? this.s.deleteMeta.run(key) : this.s.setMeta.run(key, JSON.stringify(value))));
  }
}
