/**
 * URL systems whose url_pattern or base_url carries user info (`http://user:password@host/...`):
 * the user info is basic authentication (unless the system configures another), sent only to the
 * URL's origin, and the password shows in no pipe status, execution log, system status, trace or
 * log line, whether it is written in the config or comes from a secret.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/test-services/ports.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { startTestApi, type TestApi } from '../api/support.js';
import { openTestStore } from '../support/runtime.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** A JSON service that records the credentials of each request; `deny` answers 401, `moved` redirects to another origin. */
async function service(other?: string): Promise<{ port: number; seen: { path: string; user: string | null }[] }> {
  const seen: { path: string; user: string | null }[] = [];
  const server: Server = createServer((req, res) => {
    const auth = req.headers.authorization;
    const user = auth?.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : (auth ?? null);
    const path = (req.url ?? '/').split('?')[0];
    seen.push({ path, user });
    if (path.endsWith('/deny')) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('who are you?');
    } else if (path.endsWith('/moved') && other) {
      res.writeHead(302, { location: `${other}/items` });
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ _id: 'e1' }]));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as AddressInfo).port, seen };
}

describe('URL systems with user info', () => {
  it('send it as basic authentication and never show the password', async () => {
    const elsewhere = await service();
    const svc = await service(`http://127.0.0.1:${elsewhere.port}`);
    const closed = await freePort();
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const rt = await SluiceRuntime.open({ store: await openTestStore(), logger, schedule: false });
    const api: TestApi = await startTestApi({ rt, logger });
    cleanups.push(async () => (await api.close(), await rt.close()));

    const at = `127.0.0.1:${svc.port}`;
    const passwords = ['plain-Pa55word', 'Secret-Pa55word', 'c@rl-Pa55word', 'eve-Pa55word', 'rest-Pa55word'];
    await api.call('PUT', '/api/secrets', { body: { pw: 'Secret-Pa55word' } });
    const put = await api.call('PUT', '/api/config', {
      body: [
        { _id: 'literal', type: 'system:url', url_pattern: `http://ann:plain-Pa55word@${at}/api/%s` },
        { _id: 'secret', type: 'system:url', url_pattern: `http://bob:$SECRET(pw)@${at}/api/%s` },
        { _id: 'based', type: 'system:url', base_url: `http://carl:c%40rl-Pa55word@${at}/api/` },
        { _id: 'explicit', type: 'system:url', url_pattern: `http://ann:plain-Pa55word@${at}/api/%s`, authentication: 'basic', username: 'dora', password: 'dora-pass' },
        { _id: 'closed', type: 'system:url', url_pattern: `http://eve:eve-Pa55word@127.0.0.1:${closed}/%s` },
        { _id: 'rest', type: 'system:rest', url_pattern: `http://rita:rest-Pa55word@${at}/api/%s`, operations: { list: { method: 'GET', url: 'items' } } },
        ...['literal', 'secret', 'based', 'explicit', 'closed'].map((s) => ({ _id: `from-${s}`, type: 'pipe', source: { type: 'json', system: s, url: 'items' } })),
        { _id: 'denied', type: 'pipe', source: { type: 'json', system: 'literal', url: 'deny' } },
        { _id: 'redirected', type: 'pipe', source: { type: 'json', system: 'literal', url: 'moved' } },
        { _id: 'from-rest', type: 'pipe', source: { type: 'rest', system: 'rest', operation: 'list', trace: true } },
      ],
    });
    expect(put.status).toBe(200);
    const pipes = ['from-literal', 'from-secret', 'from-based', 'from-explicit', 'from-closed', 'denied', 'redirected', 'from-rest'];
    const outcomes = Object.fromEntries(await Promise.all(pipes.map(async (p) => [p, await rt.runPipe(p)] as const)));

    for (const p of ['from-literal', 'from-secret', 'from-based', 'from-explicit', 'redirected', 'from-rest']) expect(outcomes[p].status, p).toBe('completed');
    const users = (path: string) => svc.seen.filter((s) => s.path === path).map((s) => s.user);
    expect(users('/api/items').sort()).toEqual(['ann:plain-Pa55word', 'bob:Secret-Pa55word', 'carl:c@rl-Pa55word', 'dora:dora-pass', 'rita:rest-Pa55word']);
    // A redirect to another origin does not take the credentials along.
    expect(users('/api/moved')).toEqual(['ann:plain-Pa55word']);
    expect(elsewhere.seen).toEqual([{ path: '/items', user: null }]);
    expect(outcomes.denied).toMatchObject({ status: 'failed', error: expect.stringContaining(`GET http://${at}/api/deny answered 401`) });
    expect(outcomes['from-closed']).toMatchObject({ status: 'failed', error: expect.stringContaining(`GET http://127.0.0.1:${closed}/items failed`) });

    const texts: string[] = [];
    for (const p of pipes) {
      texts.push((await api.call('GET', `/api/pipes/${p}`)).text);
      texts.push((await api.call('GET', `/api/datasets/${encodeURIComponent(`system:pump_execution:${p}`)}/entities`)).text);
    }
    for (const s of ['literal', 'secret', 'based', 'closed', 'rest']) texts.push((await api.call('GET', `/api/systems/${s}/status`)).text);
    expect(JSON.parse(texts[texts.length - 5])['base-url']).toBe(`http://${at}/api/`);
    const trace = texts.find((t) => t.includes('"request":{'));
    expect(trace).toContain(`"url":"http://${at}/api/items"`);
    texts.push(lines.join(''));
    for (const password of passwords) {
      for (const spelling of new Set([password, encodeURIComponent(password)])) {
        expect(texts.filter((t) => t.includes(spelling)), spelling).toEqual([]);
      }
    }
  });
});
