/**
 * The MongoDB store: entity logs in MongoDB collections, for runtime pods that share one database.
 * Written against features MongoDB 6+ and FerretDB both support (no multi-document transactions).
 *
 * Collections (prefix `sluice_` by default):
 * - `datasets`   one document per dataset: offset counter, timestamps, indexed paths.
 * - `log`        one document per version: {ds, off, id, hash, deleted, ts, prev, latest, seq, big, body};
 *                unique on (ds, off) and on (ds, id, prev), indexed on (ds, latest, off).
 * - `cur`        the latest version of each entity: {_id: ds/id, ds, id, off, hash, deleted, seq, seen}.
 * - `idx`        secondary index entries for hops: {ds, path, key, id}, indexed on (ds, path, key) and (ds, id).
 * - `pipe_state`, `meta`, `leases`: small documents keyed by `_id`.
 *
 * Without transactions a batch is made idempotent instead of atomic: a version is identified by the
 * version it follows (the unique (ds, id, prev) index), so re-running a batch after a crash finds
 * the versions it already wrote instead of writing them twice, and the pipe checkpoint is written
 * last. Offsets are reserved per batch with an atomic increment, so they strictly increase.
 */
import { MongoClient, type Collection, type Db, type Document } from 'mongodb';
import { getPath } from '../../../compiler/dtl/runtime.js';
import { parseEntityJson } from '../../../compiler/values/json.js';
import { storedEntity } from '../stored-entity.js';
import type { Entity, Value } from '../../../compiler/values/types.js';
import { entityContent, nowMicros, withReservedFields, type EntityContent } from '../../datasets/content.js';
import { indexKeys } from '../../datasets/index-key.js';
import { MongoLeases } from './lease.js';
import { addResults, type DatasetInfo, type DeleteUnseenOptions, type PipeCheckpoint, type PipeState, type ScanOptions, type Store, type StoredEntity, type WriteOptions, type WriteResult } from '../contract.js';

interface DatasetDoc {
  _id: string;
  last_off: number;
  created: number;
  updated: number;
  populated: boolean;
  /** Indexed paths, each as JSON text (FerretDB stores no nested arrays). */
  indexes: string[];
}

interface LogDoc {
  ds: string;
  off: number;
  id: string;
  hash: string;
  deleted: boolean;
  ts: number;
  prev: number | null;
  latest: boolean;
  seq: number;
  big: boolean;
  body: string;
}

interface CurDoc {
  _id: string;
  ds: string;
  id: string;
  off: number;
  hash: string;
  deleted: boolean;
  seq: number;
  seen: string | null;
}

export interface MongoStoreOptions {
  uri: string;
  /** Database name (default: the one in the URI, else "sluice"). */
  database?: string;
  prefix?: string;
}

const DUPLICATE_KEY = 11000;
const PAGE = 1000;

/** Dataset ids never contain "/", so this key is unambiguous (and PostgreSQL-backed servers refuse NUL). */
function curKey(ds: string, id: string): string {
  return `${ds}/${id}`;
}

export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  readonly db: Db;
  private readonly datasets: Collection<DatasetDoc>;
  private readonly log: Collection<LogDoc>;
  private readonly cur: Collection<CurDoc>;
  private readonly idx: Collection<{ ds: string; path: string; key: string; id: string }>;
  private readonly pipeStates: Collection<{ _id: string; state: PipeState }>;
  private readonly meta: Collection<{ _id: string; value: unknown }>;
  readonly leases: MongoLeases;

  private constructor(
    readonly client: MongoClient,
    options: MongoStoreOptions,
  ) {
    this.db = client.db(options.database);
    const p = options.prefix ?? 'sluice_';
    this.datasets = this.db.collection(`${p}datasets`);
    this.log = this.db.collection(`${p}log`);
    this.cur = this.db.collection(`${p}cur`);
    this.idx = this.db.collection(`${p}idx`);
    this.pipeStates = this.db.collection(`${p}pipe_state`);
    this.meta = this.db.collection(`${p}meta`);
    this.leases = new MongoLeases(this.db.collection(`${p}leases`));
  }

  static async open(options: MongoStoreOptions): Promise<MongoStore> {
    const client = new MongoClient(options.uri, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    const store = new MongoStore(client, options);
    await store.createIndexes();
    return store;
  }

  private async createIndexes(): Promise<void> {
    await this.log.createIndex({ ds: 1, off: 1 }, { unique: true, name: 'ds_off' });
    await this.log.createIndex({ ds: 1, id: 1, prev: 1 }, { unique: true, name: 'ds_id_prev' });
    await this.log.createIndex({ ds: 1, latest: 1, off: 1 }, { name: 'ds_latest_off' });
    await this.cur.createIndex({ ds: 1, deleted: 1 }, { name: 'ds_deleted' });
    await this.idx.createIndex({ ds: 1, path: 1, key: 1 }, { name: 'ds_path_key' });
    await this.idx.createIndex({ ds: 1, id: 1 }, { name: 'ds_id' });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * Counts are taken from the collections rather than kept in counters: a writer killed between its
   * steps would otherwise leave them wrong for good. They are cached for a moment.
   */
  private counts = new Map<string, { at: number; entities: number; deleted: number; versions: number }>();

  private async countsOf(ds: string): Promise<{ entities: number; deleted: number; versions: number }> {
    const cached = this.counts.get(ds);
    if (cached && Date.now() - cached.at < 1000) return cached;
    const [entities, deleted, versions] = await Promise.all([this.cur.countDocuments({ ds, deleted: false }), this.cur.countDocuments({ ds, deleted: true }), this.log.countDocuments({ ds })]);
    const fresh = { at: Date.now(), entities, deleted, versions };
    this.counts.set(ds, fresh);
    return fresh;
  }

  private async info(d: DatasetDoc): Promise<DatasetInfo> {
    const c = await this.countsOf(d._id);
    return {
      id: d._id,
      lastOffset: d.last_off,
      entityCount: c.entities,
      deletedCount: c.deleted,
      versionCount: c.versions,
      createdAt: d.created,
      updatedAt: d.updated,
      populated: d.populated,
      indexes: (d.indexes ?? []).map((p) => JSON.parse(p) as string[]),
    };
  }

  async listDatasets(): Promise<DatasetInfo[]> {
    return Promise.all((await this.datasets.find({}).sort({ _id: 1 }).toArray()).map((d) => this.info(d)));
  }

  async datasetInfo(id: string): Promise<DatasetInfo | null> {
    const d = await this.datasets.findOne({ _id: id });
    return d ? await this.info(d) : null;
  }

  async ensureDataset(id: string): Promise<void> {
    const now = nowMicros();
    try {
      await this.datasets.updateOne(
        { _id: id },
        { $setOnInsert: { last_off: -1, created: now, updated: now, populated: false, indexes: [] } },
        { upsert: true },
      );
    } catch (err) {
      // Two writers creating the same dataset at once: one insert wins, which is all we need.
      if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
    }
  }

  async deleteDataset(id: string): Promise<boolean> {
    this.counts.delete(id);
    const r = await this.datasets.deleteOne({ _id: id });
    await Promise.all([this.log.deleteMany({ ds: id }), this.cur.deleteMany({ ds: id }), this.idx.deleteMany({ ds: id })]);
    return r.deletedCount === 1;
  }

  async markPopulated(id: string): Promise<void> {
    await this.ensureDataset(id);
    await this.datasets.updateOne({ _id: id }, { $set: { populated: true } });
  }

  private async saveCheckpoint(c: PipeCheckpoint | undefined): Promise<void> {
    if (c) await this.pipeStates.replaceOne({ _id: c.pipeId }, { state: c.state }, { upsert: true });
  }

  async write(dataset: string, entities: Entity[], options: WriteOptions = {}): Promise<WriteResult> {
    const result = await this.writeVersions(dataset, entities.map(entityContent), entities, options);
    if (options.deleteUnseen && options.seenRun !== undefined) {
      // No transactions here: the deletions follow, and the checkpoint comes last (a crash repeats the request).
      const deleted = await this.deleteUnseen(dataset, options.seenRun, { checkpoint: options.checkpoint, now: options.now, mark: options.deleteUnseen.mark });
      return addResults(result, deleted);
    }
    await this.saveCheckpoint(options.checkpoint);
    return result;
  }

  private async writeVersions(dataset: string, contents: EntityContent[], entities: Entity[], options: WriteOptions): Promise<WriteResult> {
    await this.ensureDataset(dataset);
    this.counts.delete(dataset);
    const ts = options.now ?? nowMicros();
    const seen = options.seenRun ?? null;
    const result: WriteResult = { written: 0, unchanged: 0, deleted: 0, lastOffset: -1, changedIds: [] };
    const ids = [...new Set(contents.map((c) => c.id))];
    const current = new Map<string, CurDoc>();
    for (const d of await this.cur.find({ _id: { $in: ids.map((id) => curKey(dataset, id)) } }).toArray()) current.set(d.id, d);

    // Decide which entities are new versions; several versions of one id in a batch chain up.
    const planned: { c: EntityContent; e: Entity; prev: CurDoc | undefined }[] = [];
    const touch: string[] = [];
    const state = new Map(current);
    for (let i = 0; i < contents.length; i++) {
      const c = contents[i];
      const prev = state.get(c.id);
      if (prev && prev.hash === c.hash && !options.force) {
        result.unchanged++;
        if (seen !== null && prev.seen !== seen) touch.push(c.id);
        continue;
      }
      planned.push({ c, e: entities[i], prev });
      state.set(c.id, { _id: curKey(dataset, c.id), ds: dataset, id: c.id, off: -1, hash: c.hash, deleted: c.deleted, seq: (prev?.seq ?? 0) + 1, seen });
    }
    if (touch.length) await this.cur.updateMany({ _id: { $in: touch.map((id) => curKey(dataset, id)) } }, { $set: { seen } });
    if (!planned.length) {
      result.lastOffset = (await this.datasets.findOne({ _id: dataset }))?.last_off ?? -1;
      return result;
    }

    // Reserve a range of offsets for this batch in one atomic step.
    const reserved = await this.datasets.findOneAndUpdate({ _id: dataset }, { $inc: { last_off: planned.length } }, { returnDocument: 'after' });
    let off = reserved!.last_off - planned.length;
    const rows: LogDoc[] = [];
    const latestOf = new Map<string, { off: number; seq: number }>();
    for (const p of planned) {
      off++;
      const before = latestOf.get(p.c.id) ?? (p.prev ? { off: p.prev.off, seq: p.prev.seq } : undefined);
      rows.push({ ds: dataset, off, id: p.c.id, hash: p.c.hash, deleted: p.c.deleted, ts, prev: before ? before.off : null, latest: true, seq: (before?.seq ?? 0) + 1, big: p.c.bigIntegers, body: p.c.body });
      latestOf.set(p.c.id, { off, seq: (before?.seq ?? 0) + 1 });
    }
    const written = await this.insertIdempotently(rows);
    const superseded = written.filter((r) => r.prev !== null).map((r) => r.prev as number);
    if (superseded.length) await this.log.updateMany({ ds: dataset, off: { $in: superseded } }, { $set: { latest: false } });

    // The latest version per id.
    const finalOf = new Map<string, LogDoc>();
    for (const r of written) finalOf.set(r.id, r);
    // New entities are inserted in bulk (cheap everywhere); only existing ones need replacing.
    const curDoc = (r: LogDoc): CurDoc => ({ _id: curKey(dataset, r.id), ds: dataset, id: r.id, off: r.off, hash: r.hash, deleted: r.deleted, seq: r.seq, seen });
    const fresh = [...finalOf.values()].filter((r) => !current.has(r.id));
    const replaced = [...finalOf.values()].filter((r) => current.has(r.id));
    if (fresh.length) {
      try {
        await this.cur.insertMany(fresh.map(curDoc), { ordered: false });
      } catch (err) {
        // An earlier attempt of this batch got that far: bring those entries up to date.
        if ((err as { code?: number }).code !== DUPLICATE_KEY && !(err as { writeErrors?: unknown[] }).writeErrors) throw err;
        replaced.push(...fresh);
      }
    }
    if (replaced.length) {
      await this.cur.bulkWrite(
        replaced.map((r) => ({ replaceOne: { filter: { _id: curKey(dataset, r.id) }, replacement: curDoc(r), upsert: true } })),
        { ordered: false },
      );
    }
    const doc = await this.datasets.findOneAndUpdate({ _id: dataset }, { $set: { updated: ts } }, { returnDocument: 'after' });
    await this.updateIndexes(dataset, (doc?.indexes ?? []).map((p) => JSON.parse(p) as string[]), finalOf, entities, contents);
    for (const r of written) {
      result.written++;
      if (r.deleted) result.deleted++;
      result.changedIds.push(r.id);
    }
    result.lastOffset = doc?.last_off ?? off;
    return result;
  }

  /**
   * Inserts versions; a version that already exists (same entity, same predecessor) was written by
   * an earlier attempt of this batch that crashed before its checkpoint: that one is kept.
   */
  private async insertIdempotently(rows: LogDoc[]): Promise<LogDoc[]> {
    try {
      await this.log.insertMany(rows.map((r) => ({ ...r })), { ordered: false });
      return rows;
    } catch (err) {
      const e = err as { code?: number; writeErrors?: { code: number; index: number }[]; result?: unknown };
      const errors = e.writeErrors ?? (e.code === DUPLICATE_KEY ? [] : null);
      if (!errors || errors.some((w) => w.code !== DUPLICATE_KEY)) throw err;
      const out: LogDoc[] = [];
      for (const r of rows) {
        const existing = await this.log.findOne({ ds: r.ds, id: r.id, prev: r.prev });
        out.push(existing && existing.off !== r.off ? { ...existing } : r);
      }
      return out;
    }
  }

  private async updateIndexes(dataset: string, paths: string[][], finalOf: Map<string, LogDoc>, entities: Entity[], contents: EntityContent[]): Promise<void> {
    if (!paths.length || !finalOf.size) return;
    const ids = [...finalOf.keys()];
    await this.idx.deleteMany({ ds: dataset, id: { $in: ids } });
    const byId = new Map<string, Entity>();
    contents.forEach((c, i) => byId.set(c.id, entities[i]));
    const docs: { ds: string; path: string; key: string; id: string }[] = [];
    for (const [id, r] of finalOf) {
      if (r.deleted) continue;
      const e = byId.get(id);
      if (!e) continue;
      for (const path of paths) for (const key of indexKeys(getPath(e, path))) docs.push({ ds: dataset, path: JSON.stringify(path), key, id });
    }
    if (docs.length) await this.idx.insertMany(docs, { ordered: false });
  }

  async deleteUnseen(dataset: string, seenRun: string, options: DeleteUnseenOptions = {}): Promise<WriteResult> {
    const deletions: Entity[] = [];
    for await (const c of this.cur.find({ ds: dataset, deleted: false, seen: { $ne: seenRun } })) {
      const latest = await this.log.findOne({ ds: dataset, off: c.off });
      if (!latest) continue;
      const e = parseEntityJson(latest.body, latest.big) as Entity;
      Object.assign(e, options.mark);
      e._deleted = true;
      deletions.push(e);
    }
    const r = await this.write(dataset, deletions, { seenRun, now: options.now });
    await this.saveCheckpoint(options.checkpoint);
    return r;
  }

  private toEntity(r: LogDoc): StoredEntity {
    return storedEntity(r.body, r.big, r.off, r.ts, r.hash, r.prev);
  }

  async get(dataset: string, id: string): Promise<StoredEntity | null> {
    const c = await this.cur.findOne({ _id: curKey(dataset, id) });
    if (!c) return null;
    const r = await this.log.findOne({ ds: dataset, off: c.off });
    return r ? this.toEntity(r) : null;
  }

  async getMany(dataset: string, ids: string[]): Promise<Map<string, StoredEntity>> {
    const out = new Map<string, StoredEntity>();
    if (!ids.length) return out;
    const curs = await this.cur.find({ _id: { $in: ids.map((id) => curKey(dataset, id)) } }).toArray();
    if (!curs.length) return out;
    for (const r of await this.log.find({ ds: dataset, off: { $in: curs.map((c) => c.off) } }).toArray()) out.set(r.id, this.toEntity(r));
    return out;
  }

  private query(dataset: string, options: ScanOptions): { filter: Document; sort: Document } {
    const filter: Document = { ds: dataset };
    if (!options.history) filter.latest = true;
    if (options.deleted === false) filter.deleted = false;
    if (options.since !== undefined) filter.off = options.reverse ? { $lt: options.since } : { $gt: options.since };
    return { filter, sort: { off: options.reverse ? -1 : 1 } };
  }

  private async *rows(dataset: string, options: ScanOptions, pageSize = PAGE): AsyncIterable<LogDoc[]> {
    const { filter, sort } = this.query(dataset, options);
    let cursor = this.log.find(filter).sort(sort).batchSize(pageSize);
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    let page: LogDoc[] = [];
    for await (const r of cursor) {
      page.push(r);
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length) yield page;
  }

  async *scan(dataset: string, options: ScanOptions = {}): AsyncIterable<StoredEntity> {
    for await (const page of this.rows(dataset, options)) for (const r of page) yield this.toEntity(r);
  }

  async *scanBatches(dataset: string, options: ScanOptions & { batchSize: number }): AsyncIterable<StoredEntity[]> {
    for await (const page of this.rows(dataset, options, Math.max(1, options.batchSize))) yield page.map((r) => this.toEntity(r));
  }

  async *scanJson(dataset: string, options: ScanOptions = {}): AsyncIterable<string> {
    for await (const page of this.rows(dataset, options)) for (const r of page) yield withReservedFields(r.body, r.off, r.ts, r.hash, r.prev);
  }

  async getVersion(dataset: string, offset: number): Promise<StoredEntity | null> {
    const r = await this.log.findOne({ ds: dataset, off: offset });
    return r ? this.toEntity(r) : null;
  }

  async history(dataset: string, id: string): Promise<StoredEntity[]> {
    const out: StoredEntity[] = [];
    let off = (await this.cur.findOne({ _id: curKey(dataset, id) }))?.off ?? null;
    while (off !== null) {
      const r = await this.log.findOne({ ds: dataset, off });
      if (!r) break;
      out.push(this.toEntity(r));
      off = r.prev;
    }
    return out.reverse();
  }

  async compact(dataset: string, options: { keepVersions: number; upTo?: number; olderThanMicros?: number }): Promise<number> {
    const keep = Math.max(1, options.keepVersions);
    const filter: Document = { ds: dataset, latest: false };
    if (options.upTo !== undefined) filter.off = { $lte: options.upTo };
    if (options.olderThanMicros !== undefined) filter.ts = { $lte: options.olderThanMicros };
    let removed = 0;
    let batch: { off: number; id: string; seq: number }[] = [];
    const flush = async () => {
      const seqs = new Map<string, number>();
      for (const c of await this.cur.find({ _id: { $in: [...new Set(batch.map((b) => curKey(dataset, b.id)))] } }).toArray()) seqs.set(c.id, c.seq);
      const doomed = batch.filter((b) => b.seq <= (seqs.get(b.id) ?? 0) - keep).map((b) => b.off);
      if (doomed.length) removed += (await this.log.deleteMany({ ds: dataset, off: { $in: doomed } })).deletedCount;
      batch = [];
    };
    for await (const r of this.log.find(filter, { projection: { off: 1, id: 1, seq: 1 } })) {
      batch.push(r as unknown as { off: number; id: string; seq: number });
      if (batch.length >= PAGE) await flush();
    }
    if (batch.length) await flush();
    if (removed) this.counts.delete(dataset);
    return removed;
  }

  async ensureIndex(dataset: string, path: string[]): Promise<void> {
    await this.ensureDataset(dataset);
    const p = JSON.stringify(path);
    const d = await this.datasets.findOne({ _id: dataset });
    if ((d?.indexes ?? []).includes(p)) return;
    await this.idx.deleteMany({ ds: dataset, path: p });
    let docs: { ds: string; path: string; key: string; id: string }[] = [];
    for await (const r of this.log.find({ ds: dataset, latest: true, deleted: false })) {
      for (const key of indexKeys(getPath(parseEntityJson(r.body, r.big), path))) docs.push({ ds: dataset, path: p, key, id: r.id });
      if (docs.length >= PAGE) {
        await this.idx.insertMany(docs, { ordered: false });
        docs = [];
      }
    }
    if (docs.length) await this.idx.insertMany(docs, { ordered: false });
    await this.datasets.updateOne({ _id: dataset }, { $addToSet: { indexes: p } });
  }

  async dropIndex(dataset: string, path: string[]): Promise<boolean> {
    const p = JSON.stringify(path);
    const d = await this.datasets.findOne({ _id: dataset });
    if (!(d?.indexes ?? []).includes(p)) return false;
    await this.datasets.updateOne({ _id: dataset }, { $pull: { indexes: p } });
    await this.idx.deleteMany({ ds: dataset, path: p });
    return true;
  }

  async lookup(dataset: string, path: string[], values: Value[]): Promise<StoredEntity[]> {
    const p = JSON.stringify(path);
    const d = await this.datasets.findOne({ _id: dataset });
    if (!d) return [];
    if (!(d.indexes ?? []).includes(p)) await this.ensureIndex(dataset, path);
    const keys = [...new Set(values.flatMap((v) => indexKeys(v)))];
    if (!keys.length) return [];
    const ids = [...new Set((await this.idx.find({ ds: dataset, path: p, key: { $in: keys } }).toArray()).map((r) => r.id))];
    return [...(await this.getMany(dataset, ids)).values()].filter((e) => e._deleted !== true);
  }

  async getPipeState(pipeId: string): Promise<PipeState | null> {
    return (await this.pipeStates.findOne({ _id: pipeId }))?.state ?? null;
  }

  async setPipeState(pipeId: string, state: PipeState | null): Promise<void> {
    if (state === null) await this.pipeStates.deleteOne({ _id: pipeId });
    else await upsertOnce(() => this.pipeStates.replaceOne({ _id: pipeId }, { state }, { upsert: true }));
  }

  async getMeta<T = unknown>(key: string): Promise<T | null> {
    return ((await this.meta.findOne({ _id: key }))?.value as T | undefined) ?? null;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    if (value === null || value === undefined) await this.meta.deleteOne({ _id: key });
    else await upsertOnce(() => this.meta.replaceOne({ _id: key }, { value }, { upsert: true }));
  }
}

/**
 * An upsert racing another for the same new _id (replicas starting together on one database) can
 * fail with a duplicate key although the document now exists: the second try replaces it.
 */
async function upsertOnce<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
    return await write();
  }
}
