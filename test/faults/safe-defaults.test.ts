/**
 * Defect 9: safe defaults. `sluice run` listens on the loopback interface unless `--host` says
 * otherwise, runtime pods on all interfaces; internal datasets cannot be written through the API;
 * text/plain bodies are not read as JSON; `_deleted` must be a boolean.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { sluice, sluiceBin } from '../support/cli.js';
import { startTestApi, type TestApi } from '../api/support.js';
import { configure, tempDir } from '../support/runtime.js';
import { startChild, type Child } from './child.js';

/** An address of this machine other than loopback (CI machines have one). */
function outsideAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!found) throw new Error('this test needs a network interface besides loopback');
  return found.address;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function project(): string {
  const dir = tempDir('sluice-defaults-');
  mkdirSync(join(dir, 'pipes'));
  writeFileSync(join(dir, 'pipes', 'people.conf.json'), JSON.stringify({ _id: 'people', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }] } }));
  return dir;
}

async function servingPort(child: Child): Promise<number> {
  const line = await child.line(/serving.* at http:\/\/[^:]+:\d+\/api/);
  return Number(/:(\d+)\/api/.exec(line)![1]);
}

describe('listening', () => {
  const children: Child[] = [];
  afterAll(async () => {
    for (const c of children) await c.kill();
  });

  it('sluice run listens on 127.0.0.1 by default and on what --host names', async () => {
    const dir = project();
    const local = startChild([sluiceBin, 'run', dir, '--port', '0', '--data-dir', join(dir, '.data'), '--no-watch']);
    children.push(local);
    const port = await servingPort(local);
    expect(local.lines.join('\n')).toMatch(new RegExp(`http://127\\.0\\.0\\.1:${port}/api`));
    expect(await accepts('127.0.0.1', port)).toBe(true);
    expect(await accepts(outsideAddress(), port)).toBe(false);

    const open = startChild([sluiceBin, 'run', dir, '--port', '0', '--host', '0.0.0.0', '--data-dir', join(dir, '.data2'), '--no-watch']);
    children.push(open);
    expect(await accepts(outsideAddress(), await servingPort(open))).toBe(true);
  }, 60_000);

  it('runtime pods listen on all interfaces', async () => {
    const dir = project();
    const plan = join(dir, 'plan.json');
    expect(sluice(['compile', dir, '-o', plan]).status).toBe(0);
    const pod = startChild([sluiceBin, 'runtime', '--plan', plan, '--port', '0', '--data-dir', join(dir, '.pod')]);
    children.push(pod);
    expect(await accepts(outsideAddress(), await servingPort(pod))).toBe(true);
  }, 60_000);
});

describe('API writes', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
    await configure(api.rt, [{ _id: 'inbox', type: 'pipe', source: { type: 'http_endpoint' } }]);
    expect((await api.call('POST', '/api/receivers/inbox/entities', { body: [{ _id: 'a' }] })).status).toBe(200);
  });
  afterAll(async () => api.close());
  afterEach(async () => {
    expect((await api.call('GET', '/api/env')).json).toEqual({});
  });

  it('cannot write or delete internal (system:) datasets', async () => {
    const log = 'system:pump_execution:inbox';
    const before = (await api.rt.store.datasetInfo(log))?.versionCount ?? 0;
    const posted = await api.call('POST', `/api/datasets/${encodeURIComponent(log)}/entities`, { body: [{ _id: 'forged', event_type: 'pump-completed' }] });
    expect(posted.status).toBe(403);
    expect(posted.json.error.message).toMatch(/internal dataset "system:pump_execution:inbox"/);
    expect((await api.call('DELETE', `/api/datasets/${encodeURIComponent(log)}`)).status).toBe(403);
    expect((await api.call('POST', '/api/datasets/system:new/entities', { body: [{ _id: 'x' }] })).status).toBe(403);
    expect((await api.rt.store.datasetInfo(log))?.versionCount ?? 0).toBe(before);
    expect(await api.rt.store.datasetInfo('system:new')).toBeNull();
  });

  it('refuses text/plain bodies with 415 instead of reading them as JSON', async () => {
    const text = { 'content-type': 'text/plain' };
    for (const [method, path, body] of [
      ['POST', '/api/datasets/people/entities', '[{"_id": "a"}]'],
      ['PUT', '/api/env', '{"x": "1"}'],
      ['PUT', '/api/secrets', '{"x": "1"}'],
      ['PUT', '/api/config', '[{"_id": "p", "type": "pipe", "source": {"type": "embedded", "entities": []}}]'],
      ['POST', '/api/pipes', '[{"_id": "p", "type": "pipe", "source": {"type": "embedded", "entities": []}}]'],
      ['POST', '/api/receivers/inbox/entities', '[{"_id": "b"}]'],
    ] as const) {
      const r = await api.call(method, path, { raw: body, headers: text });
      expect(r.status, `${method} ${path}`).toBe(415);
      expect(r.json.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(r.json.error.message).toMatch(/application\/json/);
    }
    expect(await api.rt.store.datasetInfo('people')).toBeNull();
    expect(api.rt.pipe('p')).toBeUndefined();
    expect(api.rt.secretNames()).toEqual([]);
  });

  it('needs _deleted to be a boolean, naming the entity', async () => {
    const r = await api.call('POST', '/api/datasets/people/entities', { body: [{ _id: 'ok' }, { _id: 'odd', _deleted: 'yes' }] });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/entity 2 of 2 \("odd"\) has a "_deleted" that is a string, not true or false/);
    const pushed = await api.call('POST', '/api/receivers/inbox/entities', { body: [{ _id: 'odd', _deleted: 1 }] });
    expect(pushed.status).toBe(400);
    expect(pushed.json.error.message).toMatch(/"odd"/);
    expect(await api.rt.store.datasetInfo('people')).toBeNull();
  });
});
