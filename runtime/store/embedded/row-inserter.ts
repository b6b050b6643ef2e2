/**
 * Writes a batch's log and current-version rows with multi-row INSERT statements: one call into
 * SQLite per 64 rows rather than one per row. The statements are prepared once per row count.
 */
import type Database from 'better-sqlite3';

const ROWS_PER_STATEMENT = 64;

const COLUMNS = {
  log: { width: 11, head: 'INSERT INTO log (ds, off, id, hash, deleted, ts, prev, latest, seq, big, body) VALUES ', tail: '' },
  cur: {
    width: 7,
    head: 'INSERT INTO cur (ds, id, off, hash, deleted, seq, seen) VALUES ',
    tail: ' ON CONFLICT (ds, id) DO UPDATE SET off = excluded.off, hash = excluded.hash, deleted = excluded.deleted, seq = excluded.seq, seen = excluded.seen',
  },
} as const;

export type RowTable = keyof typeof COLUMNS;

export class RowInserter {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  insert(table: RowTable, rows: unknown[][]): void {
    const { width, head, tail } = COLUMNS[table];
    const params: unknown[] = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const n = Math.min(ROWS_PER_STATEMENT, rows.length - i);
      params.length = n * width;
      for (let r = 0; r < n; r++) {
        const row = rows[i + r];
        for (let c = 0; c < width; c++) params[r * width + c] = row[c];
      }
      this.statement(table, n, width, head, tail).run(params);
    }
  }

  private statement(table: RowTable, n: number, width: number, head: string, tail: string): Database.Statement {
    const key = `${table}:${n}`;
    let stmt = this.statements.get(key);
    if (!stmt) {
      const tuple = `(${Array(width).fill('?').join(', ')})`;
      stmt = this.db.prepare(head + Array(n).fill(tuple).join(', ') + tail);
      this.statements.set(key, stmt);
    }
    return stmt;
  }
}
