/**
 * The embedded store's SQL: the row shapes it reads and every statement it prepares once per
 * connection, and the compaction walk that follows version links.
 */
import type Database from 'better-sqlite3';

export interface DatasetRow {
  ds: number;
  name: string;
  last_off: number;
  created: number;
  updated: number;
  populated: number;
  entity_count: number;
  deleted_count: number;
  version_count: number;
}

export interface CurRow {
  id: string;
  off: number;
  hash: string;
  deleted: number;
  seq: number;
  seen: string | null;
}

/** off, ts, hash, prev, big, body */
export type RawRow = [number, number, string, number | null, number, string];

export interface LogRow {
  big: number;
  off: number;
  id: string;
  hash: string;
  deleted: number;
  ts: number;
  prev: number | null;
  body: string;
}

/** Rows read per statement call when walking a dataset. */
const PAGE = 1000;

export function prepareStatements(db: Database.Database) {
  return {
    dataset: db.prepare<[string], DatasetRow>('SELECT * FROM datasets WHERE name = ?'),
    allDatasets: db.prepare<[], DatasetRow>('SELECT * FROM datasets ORDER BY name'),
    // A new dataset's first version gets offset 0 (`_updated` starts at 0, as the docs show).
    insertDataset: db.prepare('INSERT INTO datasets (name, created, updated, last_off) VALUES (?, ?, ?, -1)'),
    updateDataset: db.prepare('UPDATE datasets SET last_off = ?, updated = ?, entity_count = ?, deleted_count = ?, version_count = ? WHERE ds = ?'),
    populate: db.prepare('UPDATE datasets SET populated = 1 WHERE ds = ?'),
    cur: db.prepare<[number, string], CurRow>('SELECT id, off, hash, deleted, seq, seen FROM cur WHERE ds = ? AND id = ?'),
    curMany: db.prepare<[number, string], CurRow>('SELECT id, off, hash, deleted, seq, seen FROM cur WHERE ds = ? AND id IN (SELECT value FROM json_each(?))'),
    touchCur: db.prepare('UPDATE cur SET seen = ? WHERE ds = ? AND id = ?'),
    unlatest: db.prepare('UPDATE log SET latest = 0 WHERE ds = ? AND off = ?'),
    logAt: db.prepare<[number, number], LogRow>('SELECT off, id, hash, deleted, ts, prev, big, body FROM log WHERE ds = ? AND off = ?'),
    // Through the index of superseded versions: without statistics SQLite would rather walk the
    // whole log by offset, a cost every run of a large dataset's pipe paid.
    compact: db.prepare<[{ ds: number; upTo: number; older: number; keep: number }]>(
      `DELETE FROM log WHERE ds = @ds AND off IN (
       SELECT l.off FROM log l INDEXED BY log_superseded JOIN cur c ON c.ds = l.ds AND c.id = l.id
       WHERE l.ds = @ds AND l.latest = 0 AND l.off <= @upTo AND l.ts <= @older AND l.seq <= c.seq - @keep)`,
    ),
    idsWrittenAfter: db.prepare<[number, number, number], { off: number; id: string }>('SELECT off, id FROM log WHERE ds = ? AND off > ? ORDER BY off LIMIT ?'),
    versionLink: db.prepare<[number, number], { prev: number | null }>('SELECT prev FROM log WHERE ds = ? AND off = ?'),
    deleteVersion: db.prepare<[number, number]>('DELETE FROM log WHERE ds = ? AND off = ?'),
    // An entity's latest version, and the latest versions an index key finds, in one statement
    // each (reruns and joins read entities one at a time: every statement is a call into SQLite).
    latest: db.prepare<[number, string], LogRow>('SELECT l.off, l.id, l.hash, l.deleted, l.ts, l.prev, l.big, l.body FROM cur c CROSS JOIN log l WHERE c.ds = ? AND c.id = ? AND l.ds = c.ds AND l.off = c.off'),
    idxLatest: db.prepare<[number, string, string], LogRow>(
      'SELECT l.off, l.id, l.hash, l.deleted, l.ts, l.prev, l.big, l.body FROM idx i CROSS JOIN cur c CROSS JOIN log l WHERE i.ds = ? AND i.path = ? AND i.key = ? AND c.ds = i.ds AND c.id = i.id AND l.ds = c.ds AND l.off = c.off',
    ),
    unseen: db.prepare<[number, string, number], { id: string; off: number }>('SELECT id, off FROM cur WHERE ds = ? AND deleted = 0 AND (seen IS NULL OR seen <> ?) LIMIT ?'),
    // Every dataset's index paths in one statement: reloading the cache (inside a write turn, when
    // another connection committed) costs two statements however many datasets there are.
    allIdxDefs: db.prepare<[], { ds: number; path: string }>('SELECT ds, path FROM idx_def ORDER BY ds, path'),
    addIdxDef: db.prepare('INSERT OR IGNORE INTO idx_def (ds, path) VALUES (?, ?)'),
    idxInsert: db.prepare('INSERT OR IGNORE INTO idx (ds, path, key, id) VALUES (?, ?, ?, ?)'),
    idxDeleteId: db.prepare('DELETE FROM idx WHERE ds = ? AND id = ?'),
    latestRows: db.prepare<[number, number], LogRow>('SELECT off, id, hash, deleted, ts, prev, big, body FROM log WHERE ds = ? AND off > ? AND latest = 1 AND deleted = 0 ORDER BY off LIMIT 1000'),
    pipeState: db.prepare<[string], { state: string }>('SELECT state FROM pipe_state WHERE pipe = ?'),
    setPipeState: db.prepare('INSERT INTO pipe_state (pipe, state) VALUES (?, ?) ON CONFLICT (pipe) DO UPDATE SET state = excluded.state'),
    deletePipeState: db.prepare('DELETE FROM pipe_state WHERE pipe = ?'),
    meta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** Compacts the entities with versions after offset `since`: each keeps its newest `keep` versions. */
export function compactWrittenSince(s: Statements, row: DatasetRow, since: number, keep: number): number {
  let removed = 0;
  const seen = new Set<string>();
  for (let after = since; ; ) {
    const page = s.idsWrittenAfter.all(row.ds, after, PAGE);
    if (!page.length) return removed;
    after = page[page.length - 1].off;
    for (const { id } of page) {
      if (seen.has(id)) continue;
      seen.add(id);
      // Versions link back through their previous offsets, newest first; compaction ends the chain.
      let off: number | null = s.cur.get(row.ds, id)?.off ?? null;
      for (let kept = 0; off !== null; ) {
        const v = s.versionLink.get(row.ds, off);
        if (!v) break;
        if (kept < keep) kept++;
        else removed += s.deleteVersion.run(row.ds, off).changes;
        off = v.prev;
      }
    }
  }
}
