/** SQLite schema of the embedded store (one database file per service data directory). */
export const SCHEMA_VERSION = 2;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS datasets (
  ds INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  last_off INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  populated INTEGER NOT NULL DEFAULT 0,
  entity_count INTEGER NOT NULL DEFAULT 0,
  deleted_count INTEGER NOT NULL DEFAULT 0,
  version_count INTEGER NOT NULL DEFAULT 0
);
-- The entity log: one row per version, ordered by offset. latest=1 marks each entity's newest version.
CREATE TABLE IF NOT EXISTS log (
  ds INTEGER NOT NULL,
  off INTEGER NOT NULL,
  id TEXT NOT NULL,
  hash TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  prev INTEGER,
  latest INTEGER NOT NULL,
  -- 1 for an entity's first version, 2 for the next, ... (compaction keeps the highest ones)
  seq INTEGER NOT NULL,
  -- 1 when the body holds integers beyond 2^53, which JSON.parse would round
  big INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (ds, off)
) WITHOUT ROWID;
-- Superseded versions only: compaction looks at these without scanning the whole log.
CREATE INDEX IF NOT EXISTS log_superseded ON log (ds, off) WHERE latest = 0;
-- The latest version of every entity, and the full run that last saw it (deletion tracking).
CREATE TABLE IF NOT EXISTS cur (
  ds INTEGER NOT NULL,
  id TEXT NOT NULL,
  off INTEGER NOT NULL,
  hash TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  seen TEXT,
  PRIMARY KEY (ds, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_def (
  ds INTEGER NOT NULL,
  path TEXT NOT NULL,
  PRIMARY KEY (ds, path)
) WITHOUT ROWID;
-- Secondary index entries of latest, non-deleted versions: (path, value key) -> entity id.
CREATE TABLE IF NOT EXISTS idx (
  ds INTEGER NOT NULL,
  path TEXT NOT NULL,
  key TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (ds, path, key, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_by_id ON idx (ds, id);
CREATE TABLE IF NOT EXISTS pipe_state (pipe TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;
