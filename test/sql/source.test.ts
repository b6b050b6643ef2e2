/**
 * The sql source against real PostgreSQL and MariaDB servers: every documented option, the type
 * mappings of the docs' tables, incremental runs with updated_column/updated_query, deletion
 * tracking on full runs, and errors that name the pipe and the property.
 */
import { describe, expect, it } from 'vitest';
import { Bytes, DateTime, Decimal } from '../../compiler/values/types.js';
import { parseIsoDateTime } from '../../compiler/values/datetime.js';
import { collect } from '../support/runtime.js';
import { entities, mariaDb, postgresDb, runtimeWith, skipMariaDb, skipPostgres, useMariaDb, usePostgres, type TestDb } from './servers.js';

const pgServer = usePostgres();
const myServer = useMariaDb();

const dt = (iso: string): DateTime => parseIsoDateTime(iso)!;

const dbs: [string, boolean, () => TestDb][] = [
  ['PostgreSQL', skipPostgres, () => postgresDb(pgServer())],
  ['MariaDB', skipMariaDb, () => mariaDb(myServer())],
];

for (const [product, skip, getDb] of dbs) {
  describe.skipIf(skip)(`sql source on ${product}`, () => {
    let n = 0;
    /** A fresh table name per test, so tests do not see each other's rows. */
    const fresh = (base: string) => `${base}_${++n}`;

    it('reads a table into entities keyed by its primary key, leaving NULLs out', async () => {
      const db = getDb();
      const t = fresh('people');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(80)); INSERT INTO ${t} VALUES (1, 'Ada', 'ada@example.org'), (2, 'Grace', NULL), (10, 'Linus', 'l@example.org')`);
      const rt = await runtimeWith(db, [{ _id: 'people', type: 'pipe', source: { type: 'sql', system: 'db', table: t } }]);
      const outcome = await rt.runPipe('people');
      expect(outcome.status, outcome.error).toBe('completed');
      expect(await entities(rt, 'people')).toEqual([
        { _id: '1', id: 1, name: 'Ada', email: 'ada@example.org' },
        { _id: '2', id: 2, name: 'Grace' },
        { _id: '10', id: 10, name: 'Linus', email: 'l@example.org' },
      ]);
      await rt.close();
    });

    it('joins compound keys with "-", keeps NULLs with preserve_null_values and filters columns', async () => {
      const db = getDb();
      const t = fresh('lines');
      db.sql(`CREATE TABLE ${t} (order_no INT, line_no INT, sku VARCHAR(20), qty INT, note VARCHAR(20), PRIMARY KEY (order_no, line_no)); INSERT INTO ${t} VALUES (7, 1, 'A-1', 2, NULL), (7, 2, 'B-2', 1, 'gift')`);
      const rt = await runtimeWith(db, [
        { _id: 'lines', type: 'pipe', source: { type: 'sql', system: 'db', table: t, preserve_null_values: true, blacklist: ['qty'] } },
        { _id: 'skus', type: 'pipe', source: { type: 'sql', system: 'db', table: t, primary_key: ['line_no', 'order_no'], whitelist: ['sku', 'qty'], blacklist: ['qty'] } },
      ]);
      for (const p of ['lines', 'skus']) expect((await rt.runPipe(p)).status).toBe('completed');
      expect(await entities(rt, 'lines')).toEqual([
        { _id: '7-1', order_no: 7, line_no: 1, sku: 'A-1', note: null },
        { _id: '7-2', order_no: 7, line_no: 2, sku: 'B-2', note: 'gift' },
      ]);
      expect(await entities(rt, 'skus')).toEqual([
        { _id: '1-7', sku: 'A-1' },
        { _id: '2-7', sku: 'B-2' },
      ]);
      await rt.close();
    });

    it('reads a query (a list of lines) with primary_key, in batches through a small fetch_size', async () => {
      const db = getDb();
      const t = fresh('numbers');
      db.sql(`CREATE TABLE ${t} (n INT PRIMARY KEY, label VARCHAR(10))`);
      db.sql(`INSERT INTO ${t} VALUES ${Array.from({ length: 57 }, (_, i) => `(${i}, 'n${i}')`).join(', ')}`);
      const rt = await runtimeWith(db, [{ _id: 'odd', type: 'pipe', batch_size: 10, source: { type: 'sql', system: 'db', query: [`SELECT n, label, n * 2 AS twice FROM ${t}`, 'WHERE n % 2 = 1'], primary_key: 'n', fetch_size: 4 } }]);
      const outcome = await rt.runPipe('odd');
      expect(outcome.read).toBe(28);
      const got = await entities(rt, 'odd');
      expect(got).toHaveLength(28);
      expect(got[0]).toEqual({ _id: '1', n: 1, label: 'n1', twice: 2 });
      await rt.close();
    });

    it('takes the key from table metadata, and needs primary_key for a view without one', async () => {
      const db = getDb();
      const t = fresh('keyed');
      db.sql(`CREATE TABLE ${t} (code VARCHAR(5) PRIMARY KEY, v INT); INSERT INTO ${t} VALUES ('x', 1); CREATE VIEW ${t}_v AS SELECT code, v FROM ${t}`);
      const rt = await runtimeWith(db, [
        { _id: 'from-view', type: 'pipe', source: { type: 'sql', system: 'db', table: `${t}_v` } },
        { _id: 'from-view-keyed', type: 'pipe', source: { type: 'sql', system: 'db', table: `${t}_v`, primary_key: 'CODE' } },
      ]);
      const failed = await rt.runPipe('from-view');
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/pipe "from-view".*has no primary key.*"primary_key"/);
      expect((await rt.runPipe('from-view-keyed')).status).toBe('completed');
      expect(await entities(rt, 'from-view-keyed')).toEqual([{ _id: 'x', code: 'x', v: 1 }]);
      await rt.close();
    });

    it('reads only changed rows in incremental runs (updated_column), and full runs track deletions', async () => {
      const db = getDb();
      const t = fresh('stock');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY, qty INT, changed TIMESTAMP(6) NULL)`);
      db.sql(`INSERT INTO ${t} VALUES ${Array.from({ length: 50 }, (_, i) => `(${i}, ${i}, '2024-01-01 00:00:${String(i).padStart(2, '0')}')`).join(', ')}`);
      const rt = await runtimeWith(db, [{ _id: 'stock', type: 'pipe', batch_size: 7, source: { type: 'sql', system: 'db', table: t, updated_column: 'changed' } }]);
      const first = await rt.runPipe('stock');
      expect([first.syncType, first.read, first.written]).toEqual(['full', 50, 50]);
      const state = await rt.store.getPipeState('stock');
      expect(state?.last_seen).toMatch(/^2024-01-01 00:00:49/);

      db.sql(`UPDATE ${t} SET qty = 1000, changed = '2024-02-01 00:00:00' WHERE id IN (3, 30)`);
      const second = await rt.runPipe('stock');
      // ">=" re-reads the rows at the last since value once; they are unchanged and not stored again.
      expect(second.syncType).toBe('incremental');
      expect(second.read).toBe(3);
      expect(second.written).toBe(2);
      const got = await entities(rt, 'stock');
      expect(got.find((e) => e._id === '30')?.qty).toBe(1000);
      expect(got.find((e) => e._id === '30')?.changed).toEqual(dt('2024-02-01T00:00:00Z'));

      db.sql(`DELETE FROM ${t} WHERE id = 4`);
      const third = await rt.runPipe('stock');
      expect(third.read).toBe(2);
      expect((await collect(rt.store.scan('stock', { deleted: false }))).length).toBe(50);
      const full = await rt.runPipe('stock', { full: true });
      expect([full.syncType, full.read, full.deleted]).toEqual(['full', 49, 1]);
      expect((await collect(rt.store.scan('stock', { deleted: false }))).length).toBe(49);
      await rt.close();
    });

    it('continues a query through updated_query with :since, and keeps the largest value seen', async () => {
      const db = getDb();
      const t = fresh('events');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY, seq INT); INSERT INTO ${t} VALUES (1, 30), (2, 10), (3, 20)`);
      const rt = await runtimeWith(db, [
        {
          _id: 'events',
          type: 'pipe',
          source: { type: 'sql', system: 'db', query: `SELECT * FROM ${t}`, updated_query: `SELECT * FROM ${t} WHERE seq >= :since`, primary_key: 'id', updated_column: 'seq' },
        },
      ]);
      expect((await rt.runPipe('events')).read).toBe(3);
      expect((await rt.store.getPipeState('events'))?.last_seen).toBe(30);
      db.sql(`UPDATE ${t} SET seq = 40 WHERE id = 2`);
      const second = await rt.runPipe('events');
      expect([second.syncType, second.read, second.written]).toEqual(['incremental', 2, 1]);
      expect((await rt.store.getPipeState('events'))?.last_seen).toBe(40);
      await rt.close();
    });

    it('fails a full run that reads nothing when if_source_empty is "fail", keeping the output', async () => {
      const db = getDb();
      const t = fresh('maybe');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY); INSERT INTO ${t} VALUES (1)`);
      const rt = await runtimeWith(db, [{ _id: 'maybe', type: 'pipe', source: { type: 'sql', system: 'db', table: t, if_source_empty: 'fail' } }]);
      expect((await rt.runPipe('maybe')).status).toBe('completed');
      db.sql(`DELETE FROM ${t}`);
      const failed = await rt.runPipe('maybe');
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/read no rows and if_source_empty is "fail"/);
      expect(await entities(rt, 'maybe')).toEqual([{ _id: '1', id: 1 }]);
      await rt.close();
    });

    it('names the pipe and the property when a table or column does not exist', async () => {
      const db = getDb();
      const t = fresh('known');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY, at TIMESTAMP NULL)`);
      const rt = await runtimeWith(db, [
        { _id: 'no-table', type: 'pipe', source: { type: 'sql', system: 'db', table: 'no_such_table' } },
        { _id: 'no-column', type: 'pipe', source: { type: 'sql', system: 'db', table: t, updated_column: 'modified' } },
        { _id: 'no-key', type: 'pipe', source: { type: 'sql', system: 'db', table: t, primary_key: ['id', 'nr'] } },
        { _id: 'bad-query', type: 'pipe', source: { type: 'sql', system: 'db', query: 'SELECT * FROM nowhere_at_all', primary_key: 'id' } },
        { _id: 'query-key', type: 'pipe', source: { type: 'sql', system: 'db', query: `SELECT id AS ident FROM ${t}`, primary_key: 'id' } },
      ]);
      const errors: Record<string, string | undefined> = {};
      for (const p of ['no-table', 'no-column', 'no-key', 'bad-query', 'query-key']) {
        const o = await rt.runPipe(p);
        expect(o.status).toBe('failed');
        errors[p] = o.error;
      }
      expect(errors['no-table']).toMatch(/^pipe "no-table": the sql source's "table": there is no table or view "no_such_table" in schema/);
      expect(errors['no-column']).toMatch(/^pipe "no-column": the sql source's "updated_column": table "[^"]+" has no column "modified" \(columns: id, at\)/);
      expect(errors['no-key']).toMatch(/^pipe "no-key": the sql source's "primary_key": table "[^"]+" has no column "nr"/);
      expect(errors['bad-query']).toMatch(/^pipe "bad-query": the sql source's "query": .*nowhere_at_all/);
      expect(errors['query-key']).toMatch(/^pipe "query-key": the sql source's "primary_key": the result of the "query" has no column "id" \(columns: ident\)/);
      await rt.close();
    });

    it('fails with a clear message when the login is refused or the server is not there, and retries reads per the pump', async () => {
      const db = getDb();
      const rt = await runtimeWith(db, [db.system({ _id: 'wrong', password: 'not-the-password' }), { _id: 'nothing', type: 'pipe', source: { type: 'sql', system: 'wrong', table: 'x' } }]);
      const refused = await rt.runPipe('nothing');
      expect(refused.status).toBe('failed');
      expect(refused.error).toMatch(/refused the login of user "[^"]+"/);

      const closed = await runtimeWith(db, [{ ...db.system({ port: 1, _id: 'down' }) }, { _id: 'down-pipe', type: 'pipe', pump: { max_read_retries: 2 }, source: { type: 'sql', system: 'down', table: 'x' } }]);
      const down = await closed.runPipe('down-pipe');
      expect(down.status).toBe('failed');
      expect(down.error).toMatch(/^pipe "down-pipe": the sql source: cannot reach the (PostgreSQL|MySQL) database "shop" on 127\.0\.0\.1:1 of system "down"/);
      const log = await collect(closed.store.scan('system:pump_execution:down-pipe'));
      expect(log.some((e) => e.event_type === 'pump-failed')).toBe(true);
      await closed.close();
      await rt.close();
    });
  });
}

describe.skipIf(skipPostgres)('PostgreSQL column types', () => {
  it('maps every type of the docs table (and json, arrays) to entity values', async () => {
    const db = postgresDb(pgServer());
    db.sql(`CREATE TYPE mood AS ENUM ('happy', 'sad');
      CREATE TABLE pg_types (id BIGINT PRIMARY KEY, i INTEGER, s SMALLINT, big BIGINT, num NUMERIC(30, 10), dec DECIMAL, r REAL, d DOUBLE PRECISION,
        b BOOLEAN, c CHAR(4), v VARCHAR(10), t TEXT, ts TIMESTAMP, tstz TIMESTAMPTZ, dt DATE, tm TIME, by BYTEA, m mood, u UUID, x XML,
        j JSON, jb JSONB, arr INTEGER[], tarr TEXT[], iv INTERVAL);
      INSERT INTO pg_types VALUES (9007199254740993, -5, 7, 42, 12345678901234567890.0123456789, 0.1, 1.5, 2.0,
        true, 'ab', 'xyz', 'long text', '2024-03-04 05:06:07.123456', '2024-03-04 05:06:07.5+02', '2024-03-04', '13:14:15', '\\x0001ff', 'sad',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '<a>1</a>', '{"n": 1.0, "big": 12345678901234567890, "s": "~t"}', '{"k": [1, 2]}', '{1,NULL,3}', '{"a,b","c\\"d"}', '1 day 02:00:00')`);
    const rt = await runtimeWith(db, [{ _id: 'types', type: 'pipe', source: { type: 'sql', system: 'db', table: 'pg_types' } }]);
    expect((await rt.runPipe('types')).status).toBe('completed');
    const [e] = await entities(rt, 'types');
    expect(e).toEqual({
      _id: '9007199254740993',
      id: 9007199254740993n,
      i: -5,
      s: 7,
      big: 42,
      num: new Decimal('12345678901234567890.0123456789'),
      dec: new Decimal('0.1'),
      r: 1.5,
      // An integral float is read as a float (DtlFloat); the dataset stores it as the number 2.
      d: 2,
      b: true,
      c: 'ab  ',
      v: 'xyz',
      t: 'long text',
      ts: dt('2024-03-04T05:06:07.123456Z'),
      tstz: dt('2024-03-04T03:06:07.5Z'),
      dt: '2024-03-04',
      tm: '13:14:15',
      by: new Bytes(Buffer.from([0, 1, 255])),
      m: 'sad',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      x: '<a>1</a>',
      j: { n: 1, big: 12345678901234567890n, s: '~t' },
      jb: { k: [1, 2] },
      arr: [1, null, 3],
      tarr: ['a,b', 'c"d'],
      iv: '1 day 02:00:00',
    });
    await rt.close();
  });

  it('reads timestamps without a zone in the system timezone', async () => {
    const db = postgresDb(pgServer());
    db.sql(`CREATE TABLE pg_local (id INT PRIMARY KEY, at TIMESTAMP); INSERT INTO pg_local VALUES (1, '2024-07-01 12:00:00'), (2, '2024-01-15 12:00:00')`);
    const rt = await runtimeWith(db, [{ ...db.system({ _id: 'oslo', timezone: 'Europe/Oslo' }) }, { _id: 'local', type: 'pipe', source: { type: 'sql', system: 'oslo', table: 'pg_local' } }]);
    expect((await rt.runPipe('local')).status).toBe('completed');
    expect((await entities(rt, 'local')).map((e) => e.at)).toEqual([dt('2024-07-01T10:00:00Z'), dt('2024-01-15T11:00:00Z')]);
    await rt.close();
  });
});

describe.skipIf(skipMariaDb)('MariaDB column types', () => {
  it('maps every type of the docs table (and JSON) to entity values', async () => {
    const db = mariaDb(myServer());
    db.sql(`CREATE TABLE my_types (id INT PRIMARY KEY, ti TINYINT, bi BIGINT, num NUMERIC(20, 4), f FLOAT, r REAL, d DOUBLE, de DECIMAL(10, 2),
        bt BIT(4), bo BOOLEAN, c CHAR(3), bin BINARY(2), v VARCHAR(10), vb VARBINARY(4), t TEXT, tt TINYTEXT, dtm DATETIME(6), da DATE, y YEAR,
        tm TIME, ts TIMESTAMP(3) NULL, bl BLOB, mb MEDIUMBLOB, e ENUM('red', 'blue'), st SET('a', 'b', 'c'), j JSON);
      INSERT INTO my_types VALUES (1, -3, 9007199254740993, 1234.5678, 1.25, 2.5, 3.75, 10.10,
        b'1010', TRUE, 'ab', x'0102', 'xyz', x'ff00', 'text', 'tiny', '2024-03-04 05:06:07.123456', '2024-03-04', 2024,
        '13:14:15', '2024-03-04 05:06:07.250', x'00ff', x'01', 'blue', 'a,c', '{"n": [1, 2.5, null]}')`);
    const rt = await runtimeWith(db, [{ _id: 'types', type: 'pipe', source: { type: 'sql', system: 'db', table: 'my_types' } }]);
    const outcome = await rt.runPipe('types');
    expect(outcome.status, outcome.error).toBe('completed');
    const [e] = await entities(rt, 'types');
    expect(e).toEqual({
      _id: '1',
      id: 1,
      ti: -3,
      bi: 9007199254740993n,
      num: new Decimal('1234.5678'),
      f: 1.25,
      r: new Decimal('2.5'),
      d: new Decimal('3.75'),
      de: new Decimal('10.10'),
      bt: 10,
      bo: 1,
      c: 'ab',
      bin: new Bytes(Buffer.from([1, 2])),
      v: 'xyz',
      vb: new Bytes(Buffer.from([255, 0])),
      t: 'text',
      tt: 'tiny',
      dtm: dt('2024-03-04T05:06:07.123456Z'),
      da: dt('2024-03-04T00:00:00Z'),
      y: 2024,
      tm: '13:14:15',
      ts: dt('2024-03-04T05:06:07.25Z'),
      bl: new Bytes(Buffer.from([0, 255])),
      mb: new Bytes(Buffer.from([1])),
      e: 'blue',
      st: ['a', 'c'],
      j: { n: [1, 2.5, null] },
    });
    await rt.close();
  });
});
