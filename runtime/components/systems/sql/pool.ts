/**
 * SQL systems: one connection pool per system config, shared by every pipe that names the system,
 * with the documented pool settings (`pool_size` + `pool_max_overflow` connections at most, a wait
 * of `pool_timeout` seconds for a free one, connections older than `pool_recycle` seconds closed
 * instead of reused). Dialect modules register themselves with `sqlSystemSpec`; sources and sinks
 * get the shared system with `sqlSystemFor`. Driver errors become SqlErrors with a stable code and
 * a message that names the system, and connection failures are retried as the pump says.
 */
import type { Logger } from 'pino';
import { getTimeZone, type TimeZone } from '../../../../compiler/dtl/functions/datetime-zones.js';
import type { PlanPipe } from '../../../../compiler/plan/types.js';
import type { ComponentContext } from '../../types.js';
import type { ResolvedSystem, SystemSpec } from '../spec.js';
import { systemConfigText as configText, unsetSecret, unsetSecretMessage } from '../lookup.js';
import { DEFAULT_POOL, SqlError, type Dialect, type ErrorKind, type SqlConnection, type SqlErrorCode } from './dialect.js';

export interface PoolSettings {
  max: number;
  acquireTimeoutMs: number;
  recycleMs: number;
  /** Idle connections are closed after this long, so an unused pool holds no sockets. */
  idleMs: number;
}

interface Idle {
  conn: SqlConnection;
  created: number;
  timer: NodeJS.Timeout;
}

export interface Lease {
  conn: SqlConnection;
  /** Returns the connection; `broken` closes it instead (after a failed statement left it in doubt). */
  release(broken?: boolean): void;
}

export class SqlPool {
  private readonly idle: Idle[] = [];
  private readonly waiters: { resolve(l: Lease): void; reject(e: unknown): void; timer: NodeJS.Timeout }[] = [];
  /** Connections handed out or being opened. */
  private busy = 0;
  closed = false;

  constructor(
    private readonly connect: () => Promise<SqlConnection>,
    private readonly settings: PoolSettings,
    private readonly describeTimeout: () => string,
  ) {}

  get size(): number {
    return this.busy + this.idle.length;
  }

  async acquire(): Promise<Lease> {
    while (this.idle.length) {
      const entry = this.idle.pop()!;
      clearTimeout(entry.timer);
      if (!entry.conn.broken && Date.now() - entry.created < this.settings.recycleMs) {
        this.busy++;
        return this.lease(entry.conn, entry.created);
      }
      void entry.conn.close().catch(() => undefined);
    }
    if (this.busy < this.settings.max) return this.open();
    return new Promise<Lease>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new SqlError(this.describeTimeout(), 'SQL_POOL_TIMEOUT'));
        }, this.settings.acquireTimeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private async open(): Promise<Lease> {
    this.busy++;
    try {
      const conn = await this.connect();
      return this.lease(conn, Date.now());
    } catch (err) {
      this.busy--;
      this.serveWaiter();
      throw err;
    }
  }

  private lease(conn: SqlConnection, created: number): Lease {
    let done = false;
    return {
      conn,
      release: (broken = false) => {
        if (done) return;
        done = true;
        this.busy--;
        if (broken || conn.broken || this.closed || Date.now() - created >= this.settings.recycleMs) {
          void conn.close().catch(() => conn.destroy());
          this.serveWaiter();
          return;
        }
        const waiter = this.waiters.shift();
        if (waiter) {
          clearTimeout(waiter.timer);
          this.busy++;
          waiter.resolve(this.lease(conn, created));
          return;
        }
        const entry: Idle = { conn, created, timer: setTimeout(() => this.dropIdle(entry), this.settings.idleMs) };
        entry.timer.unref();
        this.idle.push(entry);
      },
    };
  }

  /** A slot came free: open a connection for the longest waiting caller. */
  private serveWaiter(): void {
    const waiter = this.waiters.shift();
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.open().then(waiter.resolve, waiter.reject);
  }

  private dropIdle(entry: Idle): void {
    const i = this.idle.indexOf(entry);
    if (i >= 0) this.idle.splice(i, 1);
    void entry.conn.close().catch(() => entry.conn.destroy());
  }

  /** Closes idle connections now and busy ones when they are released. */
  async end(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new SqlError('the connection pool was closed', 'SQL_CONNECT'));
    }
    const idle = this.idle.splice(0);
    for (const e of idle) clearTimeout(e.timer);
    await Promise.all(idle.map((e) => e.conn.close().catch(() => e.conn.destroy())));
  }
}

/** A SQL system as sources and sinks use it. */
export interface SqlSystem {
  id: string;
  type: string;
  dialect: Dialect;
  pool: SqlPool;
  /** Where the database is, for messages (`database "shop" on db.example.org:5432`). */
  where: string;
  /** Runs `fn` on a pooled connection; driver errors become SqlErrors (see `wrapError`). */
  use<T>(fn: (conn: SqlConnection) => Promise<T>): Promise<T>;
  /** A driver error as a SqlError naming `what` (e.g. `pipe "x": the sql source`). */
  wrapError(err: unknown, what: string, context?: { property?: string; table?: string }): SqlError;
}

export interface DialectOptions {
  id: string;
  config: Record<string, unknown>;
  zone: TimeZone | null;
  logger?: Logger;
}

type DialectFactory = (options: DialectOptions) => Dialect;

const factories = new Map<string, DialectFactory>();
const cache = new Map<string, { key: string; system: SqlSystem }>();

const CODES: Record<ErrorKind, SqlErrorCode> = {
  connection: 'SQL_CONNECT',
  auth: 'SQL_AUTH',
  database: 'SQL_UNKNOWN_DATABASE',
  table: 'SQL_UNKNOWN_TABLE',
  column: 'SQL_UNKNOWN_COLUMN',
  data: 'SQL_DATA',
  other: 'SQL_QUERY',
};

function numberSetting(config: Record<string, unknown>, name: keyof typeof DEFAULT_POOL): number {
  const v = config[name];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : DEFAULT_POOL[name];
  return Number.isFinite(n) ? n : DEFAULT_POOL[name];
}

function buildSystem(system: ResolvedSystem, factory: DialectFactory, logger?: Logger): SqlSystem {
  const c = system.config;
  const fail = (message: string): never => {
    throw new SqlError(`system "${system.id}": ${message}`, 'SQL_CONFIG');
  };
  const unset = unsetSecret(c);
  for (const name of ['host', 'database', 'username', 'password']) if (typeof c[name] !== 'string') fail(`needs "${name}"`);
  const tzName = typeof c.timezone === 'string' && c.timezone ? c.timezone : 'UTC';
  const zone = getTimeZone(tzName);
  if (!zone) fail(`the timezone "${tzName}" is not a known time zone name`);
  const dialect = factory({ id: system.id, config: c, zone: zone!.isUtc ? null : zone, logger });
  const where = `database "${c.database as string}" on ${c.host as string}:${String(c.port ?? '')}`.replace(/:$/, '');
  const poolSize = Math.max(1, numberSetting(c, 'pool_size'));
  const settings: PoolSettings = {
    max: poolSize + Math.max(0, numberSetting(c, 'pool_max_overflow')),
    acquireTimeoutMs: numberSetting(c, 'pool_timeout') * 1000,
    recycleMs: numberSetting(c, 'pool_recycle') > 0 ? numberSetting(c, 'pool_recycle') * 1000 : Infinity,
    idleMs: 30_000,
  };
  const sql: SqlSystem = {
    id: system.id,
    type: system.type,
    dialect,
    where,
    pool: undefined as unknown as SqlPool,
    async use(fn) {
      const lease = await sql.pool.acquire();
      let broken = false;
      try {
        return await fn(lease.conn);
      } catch (err) {
        broken = dialect.classify(err) === 'connection';
        throw err;
      } finally {
        lease.release(broken);
      }
    },
    wrapError(err, what, context = {}) {
      if (err instanceof SqlError) return err;
      const kind = dialect.classify(err);
      const detail = (err as Error)?.message ?? String(err);
      const at = context.property ? `${what}'s "${context.property}"` : what;
      let message: string;
      switch (kind) {
        case 'connection':
          message = `${what}: cannot reach the ${dialect.product} ${where} of system "${system.id}": ${detail}`;
          break;
        case 'auth':
          message = `${what}: the ${dialect.product} ${where} of system "${system.id}" refused the login of user "${c.username as string}": ${detail}`;
          break;
        case 'database':
          message = `${what}: system "${system.id}": ${detail}`;
          break;
        case 'table':
        case 'column':
          message = `${at}: ${detail}${context.table ? ` (table ${context.table})` : ''}`;
          break;
        default:
          message = `${at}: ${dialect.product} said: ${detail}`;
      }
      return new SqlError(message, CODES[kind], { cause: err });
    },
  };
  // A secret that is not set fails the first connection (not retried as a connection problem).
  const connect = unset === null ? () => dialect.connect() : () => Promise.reject(new SqlError(unsetSecretMessage(system.id, unset), 'SQL_SECRET_UNSET'));
  sql.pool = new SqlPool(connect, settings, () => `system "${system.id}": no free connection within pool_timeout (${settings.acquireTimeoutMs / 1000} s); all ${settings.max} connections (pool_size + pool_max_overflow) are busy`);
  return sql;
}

/** A system spec for a SQL dialect: registering the module makes its systems usable by the sql source and sink. */
export function sqlSystemSpec(type: string, doc: string, schema: Record<string, unknown>, factory: DialectFactory): SystemSpec<SqlSystem> {
  factories.set(`system:${type}`, factory);
  return {
    kind: 'system',
    type,
    doc,
    schema,
    create: (system, ctx) => sharedSystem(system, ctx.logger),
  };
}

/** The shared system (and pool) for a system config; a changed config gets a new pool and the old one is closed. */
export function sharedSystem(system: ResolvedSystem, logger?: Logger): SqlSystem {
  const factory = factories.get(system.type);
  if (!factory) throw new SqlError(`system "${system.id}" has type "${system.type}", which is not a SQL system (SQL systems: ${[...factories.keys()].join(', ')})`, 'SQL_CONFIG');
  const key = configText(system.config);
  const cached = cache.get(system.id);
  if (cached && cached.key === key && !cached.system.pool.closed) return cached.system;
  if (cached) void cached.system.pool.end();
  const built = buildSystem(system, factory, logger);
  cache.set(system.id, { key, system: built });
  return built;
}

/** The SQL system `systemId` for a component of the pipe in `ctx`. */
export function sqlSystemFor(ctx: ComponentContext, systemId: unknown, what: string): SqlSystem {
  if (typeof systemId !== 'string' || systemId === '') throw new SqlError(`${what} needs a "system" (the id of a SQL system)`, 'SQL_CONFIG');
  const system = ctx.systems.get(systemId);
  if (!system) throw new SqlError(`${what} refers to system "${systemId}", which is not defined`, 'SQL_CONFIG');
  if (!factories.has(system.type)) throw new SqlError(`${what} needs a SQL system (${[...factories.keys()].join(', ')}), but system "${systemId}" has type "${system.type}"`, 'SQL_CONFIG');
  return sharedSystem(system, ctx.logger);
}

/** Closes every pool (runtime shutdown, tests); systems used again later get new pools. */
export async function closeSqlPools(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  await Promise.all(all.map((c) => c.system.pool.end()));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A pump setting as a number (the compiler fills in the defaults). */
export function pumpNumber(pipe: PlanPipe, name: string, dflt: number): number {
  const v = (pipe.pump as Record<string, unknown>)[name];
  return typeof v === 'number' ? v : dflt;
}

/**
 * Runs `attempt` and retries it while it fails because the database cannot be reached, `retries`
 * times with `delaySeconds` between tries. Other failures are not retried.
 */
export async function withRetries<T>(system: SqlSystem, retries: number, delaySeconds: number, signal: AbortSignal | undefined, attempt: () => Promise<T>, onRetry?: (err: unknown, n: number) => void): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const kind = err instanceof SqlError ? (err.code === 'SQL_CONNECT' || err.code === 'SQL_POOL_TIMEOUT' ? 'connection' : 'other') : system.dialect.classify(err);
      if (kind !== 'connection' || n > retries || signal?.aborted) throw err;
      onRetry?.(err, n);
      await sleep(delaySeconds * 1000, signal);
    }
  }
}
