/**
 * The sql sink against real PostgreSQL and MariaDB servers: upserts and deletes in one transaction
 * per batch, round trips table → dataset → table, schema_definition with create_table_if_missing,
 * truncate and recreate on the first run, timestamp and identity columns, tables without a unique
 * key, PostgreSQL's COPY bulk path, and errors that name the pipe and the property.
 */
import { describe, expect, it } from 'vitest';
import type { Entity } from '../../compiler/values/types.js';
import { mariaDb, postgresDb, runtimeWith, skipMariaDb, skipPostgres, useMariaDb, usePostgres, type TestDb } from './servers.js';

const pgServer = usePostgres();
const myServer = useMariaDb();

const dbs: [string, boolean, () => TestDb][] = [
  ['PostgreSQL', skipPostgres, () => postgresDb(pgServer())],
  ['MariaDB', skipMariaDb, () => mariaDb(myServer())],
];

const orders = (n: number, from = 0): Entity[] => Array.from({ length: n }, (_, i) => ({ _id: `o${from + i}`, id: from + i, customer: `c${(from + i) % 7}`, total: (from + i) * 10 }));

for (const [product, skip, getDb] of dbs) {
  describe.skipIf(skip)(`sql sink on ${product}`, () => {
    let n = 0;
    const fresh = (base: string) => `${base}_${++n}`;
    const pipe = (id: string, sink: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ _id: id, type: 'pipe', source: { type: 'dataset', dataset: `${id}-in` }, sink: { type: 'sql', system: 'db', ...sink }, ...extra });

    it('upserts changed entities and deletes deleted ones', async () => {
      const db = getDb();
      const t = fresh('orders');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY, customer VARCHAR(10), total INT, note VARCHAR(20))`);
      const rt = await runtimeWith(db, [pipe('orders', { table: t })]);
      await rt.store.write('orders-in', orders(250));
      const first = await rt.runPipe('orders');
      expect([first.status, first.written, first.deleted]).toEqual(['completed', 250, 0]);
      expect(db.sql(`SELECT count(*), sum(total) FROM ${t}`)).toEqual(['250\t311250']);

      await rt.store.write('orders-in', [
        { _id: 'o1', id: 1, customer: 'c1', total: 11, note: 'changed' },
        { _id: 'o2', id: 2, _deleted: true },
        { _id: 'o300', id: 300, customer: 'new', total: 1 },
      ]);
      const second = await rt.runPipe('orders');
      expect([second.read, second.written, second.deleted]).toEqual([3, 2, 1]);
      expect(db.sql(`SELECT id, customer, total, note FROM ${t} WHERE id IN (1, 2, 300) ORDER BY id`)).toEqual([`1\tc1\t11\tchanged`, `300\tnew\t1\t${db.name === 'mysql' ? 'NULL' : ''}`]);
      expect(db.sql(`SELECT count(*) FROM ${t}`)).toEqual(['250']);
      await rt.close();
    });

    it('creates the table from schema_definition, mapping properties to columns, and fills the timestamp column', async () => {
      const db = getDb();
      const t = fresh('created');
      const rt = await runtimeWith(db, [
        pipe('created', {
          table: t,
          create_table_if_missing: true,
          timestamp: 'written_at',
          schema_definition: [
            { source_property: '_id', name: 'ident', type: 'string', max_size: 20, primary_key: true },
            { name: 'qty', type: 'integer', min_value: 0, max_value: 255 },
            { name: 'price', type: 'decimal', precision: 10, scale: 2 },
            { name: 'born', type: 'datetime', index: true },
            { name: 'ok', type: 'boolean', default: false },
            { name: 'written_at', type: 'datetime' },
          ],
        }),
      ]);
      await rt.store.write('created-in', [
        { _id: 'a', qty: 3, price: '~f12.50', born: '~t2001-02-03T04:05:06Z', ok: true } as never,
        { _id: 'b', qty: 200 },
      ]);
      const outcome = await rt.runPipe('created');
      expect(outcome.status, outcome.error).toBe('completed');
      const rows = db.sql(`SELECT ident, qty, price, born, ok FROM ${t} ORDER BY ident`);
      expect(rows[0]).toMatch(/^a\t3\t12\.50\t2001-02-03 04:05:06(\.000000)?\t(t|1)$/);
      expect(rows[1]).toMatch(/^b\t200\t(NULL)?\t(NULL)?\t(f|0)$/);
      expect(db.sql(`SELECT count(*) FROM ${t} WHERE written_at IS NOT NULL`)).toEqual(['2']);
      await rt.close();
    });

    it('truncates the table on the first run only, and recreates it from schema_definition', async () => {
      const db = getDb();
      const t = fresh('snapshot');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY, customer VARCHAR(10), total INT); INSERT INTO ${t} VALUES (9001, 'old', 0), (9002, 'old', 0)`);
      const r = fresh('rebuilt');
      db.sql(`CREATE TABLE ${r} (something_else INT)`);
      const rt = await runtimeWith(db, [
        pipe('snapshot', { table: t, truncate_table_on_first_run: true, use_bulk_operations: true }),
        pipe('rebuilt', { table: r, create_table_if_missing: true, recreate_table_on_first_run: true, schema_definition: [{ name: 'id', type: 'integer', primary_key: true }, { name: 'customer', type: 'string', max_size: 10 }] }),
      ]);
      await rt.store.write('snapshot-in', orders(30));
      await rt.store.write('rebuilt-in', orders(5));
      expect((await rt.runPipe('snapshot')).status).toBe('completed');
      expect(db.sql(`SELECT count(*), min(id), max(id) FROM ${t}`)).toEqual(['30\t0\t29']);
      db.sql(`INSERT INTO ${t} VALUES (9003, 'kept', 0)`);
      await rt.store.write('snapshot-in', orders(2, 100));
      const again = await rt.runPipe('snapshot');
      expect(again.syncType).toBe('incremental');
      expect(db.sql(`SELECT count(*) FROM ${t}`)).toEqual(['33']);

      const rebuilt = await rt.runPipe('rebuilt');
      expect(rebuilt.status, rebuilt.error).toBe('completed');
      expect(db.sql(`SELECT id, customer FROM ${r} ORDER BY id`)).toEqual(['0\tc0', '1\tc1', '2\tc2', '3\tc3', '4\tc4']);
      await rt.close();
    });

    it('leaves identity columns to the database with skip_identity_columns', async () => {
      const db = getDb();
      const t = fresh('tagged');
      const identity = db.name === 'postgresql' ? 'serial PRIMARY KEY' : 'INT AUTO_INCREMENT PRIMARY KEY';
      db.sql(`CREATE TABLE ${t} (row_id ${identity}, code VARCHAR(10) NOT NULL UNIQUE, label VARCHAR(20))`);
      const rt = await runtimeWith(db, [pipe('tagged', { table: t, primary_key: 'code', skip_identity_columns: true })]);
      await rt.store.write('tagged-in', [
        { _id: 'x', code: 'x', label: 'first', row_id: 500 },
        { _id: 'y', code: 'y', label: 'second', row_id: 501 },
      ]);
      expect((await rt.runPipe('tagged')).status).toBe('completed');
      await rt.store.write('tagged-in', [{ _id: 'x', code: 'x', label: 'changed', row_id: 500 }]);
      expect((await rt.runPipe('tagged')).status).toBe('completed');
      expect(db.sql(`SELECT row_id, code, label FROM ${t} ORDER BY code`)).toEqual(['1\tx\tchanged', '2\ty\tsecond']);
      await rt.close();
    });

    it('replaces rows of a table without a unique key, so a re-sent batch adds no duplicates', async () => {
      const db = getDb();
      const t = fresh('loose');
      db.sql(`CREATE TABLE ${t} (id INT, customer VARCHAR(10), total INT)`);
      const rt = await runtimeWith(db, [pipe('loose', { table: t, primary_key: 'id' })]);
      await rt.store.write('loose-in', orders(120));
      expect((await rt.runPipe('loose')).status).toBe('completed');
      // Everything again, as after a crash between a commit and its checkpoint.
      await rt.pump('loose')!.operation('reset', {});
      expect((await rt.runPipe('loose')).status).toBe('completed');
      expect(db.sql(`SELECT count(*), count(DISTINCT id) FROM ${t}`)).toEqual(['120\t120']);
      await rt.close();
    });

    it('writes each batch in one transaction: a failing batch leaves none of its rows', async () => {
      const db = getDb();
      const t = fresh('strict');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY, customer VARCHAR(10) NOT NULL, total INT)`);
      const rt = await runtimeWith(db, [pipe('strict', { table: t, batch_size: 10 }, { batch_size: 10, pump: { fallback_to_single_entities_on_batch_fail: false } })]);
      const input = orders(30);
      delete input[25].customer;
      await rt.store.write('strict-in', input);
      const outcome = await rt.runPipe('strict');
      expect(outcome.status).toBe('failed');
      expect(outcome.error).toMatch(/pipe "strict": the sql sink's "table": .*said:/);
      expect(db.sql(`SELECT count(*), max(id) FROM ${t}`)).toEqual(['20\t19']);
      await rt.close();
    });

    it('reports an entity whose value does not fit its column, and writes the others', async () => {
      const db = getDb();
      const t = fresh('typed');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY, total INT)`);
      const rt = await runtimeWith(db, [pipe('typed', { table: t }, { pump: { max_consecutive_write_errors: 5 } })]);
      await rt.store.write('typed-in', [{ _id: 'a', id: 1, total: 5 }, { _id: 'b', id: 2, total: { nested: true } }, { _id: 'c', total: 7 }]);
      const outcome = await rt.runPipe('typed');
      expect([outcome.status, outcome.written, outcome.failed]).toEqual(['completed', 1, 2]);
      expect(db.sql(`SELECT id, total FROM ${t}`)).toEqual(['1\t5']);
      await rt.close();
    });

    it('names the pipe and the property when the table or a column does not exist', async () => {
      const db = getDb();
      const t = fresh('present');
      db.sql(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT)`);
      const rt = await runtimeWith(db, [
        pipe('no-table', { table: 'not_there' }),
        pipe('no-column', { table: t, schema_definition: [{ name: 'id', type: 'integer', primary_key: true }, { name: 'value', type: 'integer' }] }),
        pipe('no-key', { table: t, primary_key: 'ident' }),
      ]);
      const errors: Record<string, string | undefined> = {};
      for (const p of ['no-table', 'no-column', 'no-key']) {
        await rt.store.write(`${p}-in`, orders(1));
        const o = await rt.runPipe(p);
        expect(o.status).toBe('failed');
        errors[p] = o.error;
      }
      expect(errors['no-table']).toMatch(/^pipe "no-table": the sql sink's "table": there is no table "not_there" in schema "[^"]+" of the (PostgreSQL|MySQL) database "shop"/);
      expect(errors['no-column']).toMatch(/^pipe "no-column": the sql sink's "schema_definition": table "[^"]+" has no column "value" \(columns: id, v\)/);
      expect(errors['no-key']).toMatch(/^pipe "no-key": the sql sink's "primary_key": table "[^"]+" has no column "ident"/);
      await rt.close();
    });

    it('creates a table from a generated schema_definition: ranges as typed values choose the columns, database type names are used as written', async () => {
      const db = getDb();
      const t = fresh('ledger');
      const rt = await runtimeWith(db, [
        pipe('ledger', {
          table: t,
          create_table_if_missing: true,
          schema_definition: [
            { name: 'entry_no', type: 'integer', primary_key: true, min_value: 1, max_value: 9000 },
            { name: 'account', type: 'integer', min_value: -9876543210, max_value: 9876543210 },
            { name: 'booked', type: 'datetime', min_value: '~t1987-11-01T00:00:00Z', max_value: '~t2099-08-02T00:00:00Z' },
            { name: 'amount', type: 'decimal', min_value: '~f-250.75', max_value: '~f101778.00' },
            { name: 'rate', type: 'float', min_value: '~f0.25', max_value: 1000000000 },
            { name: 'closed', type: 'bit', min_value: 0, max_value: 1 },
            { name: 'memo', type: 'varchar(12)' },
            { name: 'valid_from', type: 'datetime', default: '~t2000-01-01T00:00:00Z' },
          ],
        }),
      ]);
      await rt.store.write('ledger-in', [
        { _id: 'e1', entry_no: 1, account: 9876543210, booked: '~t2020-05-06T07:08:09Z', amount: '~f-250.75', rate: 0.25, closed: true, memo: 'first' } as never,
        { _id: 'e2', entry_no: 2, account: 15, amount: '~f101778.00', closed: false, valid_from: '~t2021-01-01T00:00:00Z' } as never,
      ]);
      const outcome = await rt.runPipe('ledger');
      expect(outcome.status, outcome.error).toBe('completed');
      const types =
        db.name === 'postgresql'
          ? db.sql(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${t}' ORDER BY ordinal_position`)
          : db.sql(`SELECT column_name, column_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '${t}' ORDER BY ordinal_position`);
      expect(types).toEqual(
        db.name === 'postgresql'
          ? ['entry_no\tsmallint', 'account\tbigint', 'booked\ttimestamp without time zone', 'amount\tnumeric', 'rate\tdouble precision', 'closed\tbit', 'memo\tcharacter varying', 'valid_from\ttimestamp without time zone']
          : ['entry_no\tsmallint(6)', 'account\tbigint(20)', 'booked\tdatetime(6)', 'amount\tdecimal(65,30)', 'rate\tdouble', 'closed\tbit(1)', 'memo\tvarchar(12)', 'valid_from\tdatetime(6)'],
      );
      const closed = db.name === 'postgresql' ? 'closed::text' : 'closed + 0';
      const rows = db.sql(`SELECT entry_no, account, booked, amount + 0, ${closed}, memo, valid_from FROM ${t} ORDER BY entry_no`);
      expect(rows[0]).toMatch(/^1\t9876543210\t2020-05-06 07:08:09(\.000000)?\t-250\.75(0*)\t1\tfirst\t2000-01-01 00:00:00(\.000000)?$/);
      expect(rows[1]).toMatch(/^2\t15\t(NULL)?\t101778(\.0*)?\t0\t(NULL)?\t2021-01-01 00:00:00(\.000000)?$/);
      await rt.close();
    });

    it('refuses, naming the pipe and the column, a schema_definition type or range the database cannot have', async () => {
      const db = getDb();
      const rt = await runtimeWith(db, [
        pipe('mssql-names', { table: fresh('history'), create_table_if_missing: true, schema_definition: [{ name: 'id', type: 'integer', primary_key: true }, { name: 'Opprettet', type: 'datetime2' }] }),
        pipe('not-a-type', { table: fresh('odd'), create_table_if_missing: true, schema_definition: [{ name: 'id', type: 'integer', primary_key: true }, { name: 'x', type: 'text; DROP TABLE y' }] }),
      ]);
      const product = db.name === 'postgresql' ? 'PostgreSQL' : 'MySQL/MariaDB';
      for (const [p, column, type] of [['mssql-names', 'Opprettet', 'datetime2'], ['not-a-type', 'x', 'text; DROP TABLE y']]) {
        await rt.store.write(`${p}-in`, orders(1));
        const o = await rt.runPipe(p);
        expect(o.status).toBe('failed');
        expect(o.error).toBe(`pipe "${p}": the sql sink's "schema_definition": column "${column}" has type "${type}", which is neither one of the entity types (string, integer, decimal, float, binary, datetime, date, time, uuid, boolean) nor a column type ${product} has`);
      }
      await rt.close();
      if (db.name !== 'mysql') return;
      const early = await runtimeWith(db, [
        pipe('medieval', { table: fresh('annals'), create_table_if_missing: true, schema_definition: [{ name: 'id', type: 'integer', primary_key: true }, { name: 'at', type: 'datetime', min_value: '~t0500-01-01T00:00:00Z' }] }),
      ]);
      await early.store.write('medieval-in', orders(1));
      const o = await early.runPipe('medieval');
      expect(o.error).toMatch(/^pipe "medieval": the sql sink's "schema_definition": column "at": its min_value 0500-01-01T00:00:00Z is outside what a MySQL\/MariaDB DATETIME column holds/);
      await early.close();
    });
  });
}

/** Copies a table through a dataset into a second table of the same shape and returns both as text. */
async function roundTrip(db: TestDb, ddl: (table: string) => string, insert: string, extra: Record<string, unknown> = {}, columns = '*'): Promise<[string[], string[]]> {
  db.sql(`${ddl('rt_source')}; ${ddl('rt_target')}; INSERT INTO rt_source ${insert}`);
  const rt = await runtimeWith(db, [
    { _id: 'rt-read', type: 'pipe', source: { type: 'sql', system: 'db', table: 'rt_source' } },
    { _id: 'rt-write', type: 'pipe', source: { type: 'dataset', dataset: 'rt-read' }, sink: { type: 'sql', system: 'db', table: 'rt_target', ...extra } },
  ]);
  for (const p of ['rt-read', 'rt-write']) {
    const o = await rt.runPipe(p);
    expect(o.status, o.error).toBe('completed');
  }
  await rt.close();
  const dump = (table: string) => db.sql(`SELECT ${columns} FROM ${table} ORDER BY id`);
  const result: [string[], string[]] = [dump('rt_source'), dump('rt_target')];
  db.sql('DROP TABLE rt_source; DROP TABLE rt_target');
  return result;
}

const PG_TYPES = (t: string) =>
  `CREATE TABLE ${t} (id BIGINT PRIMARY KEY, i INTEGER, num NUMERIC(30, 10), r REAL, d DOUBLE PRECISION, b BOOLEAN, c CHAR(4), v VARCHAR(10), ts TIMESTAMP, tstz TIMESTAMPTZ,
    dt DATE, tm TIME, by BYTEA, u UUID, j JSON, jb JSONB, arr INTEGER[], tarr TEXT[], iv INTERVAL)`;
// json keeps its text as written; its value (compared as jsonb) is what round-trips.
const PG_COLUMNS = 'id, i, num, r, d, b, c, v, ts, tstz, dt, tm, by, u, j::jsonb, jb, arr, tarr, iv';
const PG_ROWS = `VALUES (9007199254740993, -5, 12345678901234567890.0123456789, 1.5, 2.0, true, 'ab', 'x\ty', '2024-03-04 05:06:07.123456', '2024-03-04 05:06:07.5+02',
    '2024-03-04', '13:14:15', '\\x0001ff5c', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"n": 1.5, "big": 12345678901234567890}', '{"k": [1, 2]}', '{1,NULL,3}', '{"a,b","c\\"d"}', '1 day 02:00:00'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;

describe.skipIf(skipPostgres)('PostgreSQL round trips and bulk operations', () => {
  it('gives equal rows table → dataset → table, with and without bulk operations, in any time zone', async () => {
    const db = postgresDb(pgServer());
    for (const extra of [{}, { use_bulk_operations: true }]) {
      const [source, target] = await roundTrip(db, PG_TYPES, PG_ROWS, extra, PG_COLUMNS);
      expect(target).toEqual(source);
      expect(source).toHaveLength(2);
    }
    const oslo = { ...db, system: (x: Record<string, unknown> = {}) => db.system({ timezone: 'Europe/Oslo', ...x }) };
    const [source, target] = await roundTrip(oslo, PG_TYPES, PG_ROWS, { use_bulk_operations: true }, PG_COLUMNS);
    expect(target).toEqual(source);
  });

  it('merges COPY-loaded batches like upserts: updates, deletes and unchanged rows', async () => {
    const db = postgresDb(pgServer());
    db.sql('CREATE TABLE bulk_orders (id INT PRIMARY KEY, customer TEXT, total INT); CREATE TABLE bulk_loose (id INT, customer TEXT, total INT)');
    const rt = await runtimeWith(db, [
      { _id: 'bulk', type: 'pipe', batch_size: 500, source: { type: 'dataset', dataset: 'bulk-in' }, sink: { type: 'sql', system: 'db', table: 'bulk_orders', use_bulk_operations: true } },
      { _id: 'loose', type: 'pipe', source: { type: 'dataset', dataset: 'bulk-in' }, sink: { type: 'sql', system: 'db', table: 'bulk_loose', primary_key: 'id', use_bulk_operations: true, batch_size: 40 } },
    ]);
    await rt.store.write('bulk-in', orders(2000));
    const first = await rt.runPipe('bulk');
    expect([first.written, first.unchanged]).toEqual([2000, 0]);
    // Three entities change only in a property that is not a column: their rows stay as they are.
    await rt.store.write('bulk-in', [...orders(3).map((e) => ({ ...e, memo: 'not a column' })), { _id: 'o5', id: 5, customer: 'changed', total: 1 }, { _id: 'o6', id: 6, _deleted: true }]);
    const second = await rt.runPipe('bulk');
    expect([second.read, second.written, second.unchanged, second.deleted]).toEqual([5, 1, 3, 1]);
    expect(db.sql("SELECT count(*), sum(total), count(*) FILTER (WHERE customer = 'changed') FROM bulk_orders")).toEqual(['1999\t19989891\t1']);
    for (let i = 0; i < 2; i++) {
      await rt.pump('loose')!.operation('reset', {});
      expect((await rt.runPipe('loose')).status).toBe('completed');
    }
    expect(db.sql('SELECT count(*), count(DISTINCT id) FROM bulk_loose')).toEqual(['1999\t1999']);
    await rt.close();
  });
});

describe.skipIf(skipMariaDb)('MariaDB round trips', () => {
  it('gives equal rows table → dataset → table, in any time zone', async () => {
    const db = mariaDb(myServer());
    const ddl = (t: string) => `CREATE TABLE ${t} (id BIGINT PRIMARY KEY, ti TINYINT, num NUMERIC(20, 4), f FLOAT, d DOUBLE, bt BIT(4), bo BOOLEAN, c CHAR(3), bin BINARY(2),
      v VARCHAR(10), vb VARBINARY(4), t TEXT, dtm DATETIME(6), da DATE, y YEAR, tm TIME, ts TIMESTAMP(3) NULL, bl BLOB, e ENUM('red', 'blue'), st SET('a', 'b', 'c'), j JSON)`;
    const rows = `VALUES (9007199254740993, -3, 1234.5678, 1.25, 3.75, b'1010', TRUE, 'ab', x'0102', 'x\ty', x'ff00', 'text', '2024-03-04 05:06:07.123456', '2024-03-04', 2024,
      '13:14:15', '2024-03-04 05:06:07.250', x'00ff', 'blue', 'a,c', '{"n": [1, 2.5, null]}'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;
    // MariaDB keeps JSON as the text written: compare it compacted.
    const columns = 'id, ti, num, f, d, bt, bo, c, bin, v, vb, t, dtm, da, y, tm, ts, bl, e, st, JSON_COMPACT(j)';
    const [source, target] = await roundTrip(db, ddl, rows, {}, columns);
    expect(target).toEqual(source);
    expect(source).toHaveLength(2);
    const newYork = { ...db, system: (x: Record<string, unknown> = {}) => db.system({ timezone: 'America/New_York', ...x }) };
    const [source2, target2] = await roundTrip(newYork, ddl, rows, {}, columns);
    expect(target2).toEqual(source2);
  });
});
