/** Test helpers for the service API: a runtime plus an app listening on a free port, and fetch wrappers. */
import { testStoreKind } from '../support/runtime.js';
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { buildApi, type ApiOptions } from '../../runtime/api/app.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { openRuntime, quietLogger } from '../support/runtime.js';

type Body = NonNullable<NonNullable<Parameters<typeof fetch>[1]>['body']>;

export interface TestApi {
  rt: SluiceRuntime;
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:40123 */
  base: string;
  /** GET/POST/... `path` (relative to base), returning status, headers and the body (JSON when it parses). */
  call(method: string, path: string, init?: { body?: unknown; headers?: Record<string, string>; raw?: Body }): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function startTestApi(opts: ApiOptions & { rt?: SluiceRuntime } = {}): Promise<TestApi> {
  const rt = opts.rt ?? (await openRuntime());
  const app = await buildApi(rt, { logger: quietLogger, ...opts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const base = `http://127.0.0.1:${addr.port}`;
  return {
    rt,
    app,
    base,
    async call(method, path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      let body: Body | undefined = init.raw;
      if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(base + path, { method, headers, body });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async close() {
      await app.close();
      if (!opts.rt) await rt.close();
    },
  };
}

/** Polls until `check` is true; `timeoutMs` only catches a hang (a loaded machine can be slow). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
/**
 * Reads a response body like a slow client: after the first chunk it stops reading for 300 ms, calls
 * `whilePaused` at the end of that pause, then reads the rest.
 */
export function readWithOnePause(url: string, whilePaused: () => void): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = request(new URL(url), (res) => {
      const chunks: Buffer[] = [];
      let paused = false;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (paused) return;
        paused = true;
        res.pause();
        setTimeout(() => {
          whilePaused();
          res.resume();
        }, 300);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}


/** Starts a pipe through the API and waits until its run is over. */
export async function runViaApi(api: TestApi, pipe: string): Promise<Reply> {
  const r = await api.call('POST', `/api/pipes/${encodeURIComponent(pipe)}/pump`, { raw: 'operation=start', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  if (r.status !== 200) throw new Error(`start ${pipe}: ${r.status} ${r.text}`);
  // The MongoDB-protocol test server is much slower than the embedded store.
  const bound = testStoreKind() === 'mongodb' ? 240_000 : 30_000;
  await waitFor(async () => (await api.call('GET', `/api/pipes/${encodeURIComponent(pipe)}/pump`)).json.runtime['is-running'] === false, bound, `pipe ${pipe} to finish`);
  return api.call('GET', `/api/pipes/${encodeURIComponent(pipe)}`);
}

export const people = {
  _id: 'people',
  type: 'pipe',
  source: {
    type: 'embedded',
    entities: [
      { _id: 'a', name: 'Ada', born: '1815-12-10' },
      { _id: 'b', name: 'Bob', born: '1970-01-01' },
      { _id: 'c', name: 'Cy', born: '1990-05-05' },
    ],
  },
};

export const names = {
  _id: 'names',
  type: 'pipe',
  source: { type: 'dataset', dataset: 'people' },
  transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'upper', ['upper', '_S.name']]] } },
};
