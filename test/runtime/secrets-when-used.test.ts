/**
 * A secret that is not set fails the first request or connection that needs it, not the pipes
 * that name its system. A config whose systems use secrets the node does not hold is valid: a pipe
 * that never calls the system (an empty input, a REST operation that does not use the secret) runs,
 * and a pipe that does call it fails with an error naming the system, the secret and how to set it,
 * without contacting the server. Setting the secret makes the same pipes work.
 */
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../api/support.js';
import { configure, openRuntime } from '../support/runtime.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** A JSON service that records the API key of every request. */
async function keyedService(): Promise<{ url: string; keys: (string | undefined)[] }> {
  const keys: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    keys.push(req.headers['x-api-key'] as string | undefined);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.method === 'GET' ? JSON.stringify([{ _id: 'k1', name: 'Kari' }]) : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, keys };
}

/** A TCP port that counts the connections made to it (and closes them). */
async function countingPort(): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server = net.createServer((socket) => {
    n++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as AddressInfo).port, connections: () => n };
}

async function api(): Promise<TestApi> {
  const a = await startTestApi();
  cleanups.push(() => a.close());
  return a;
}

async function runtime(): Promise<SluiceRuntime> {
  const rt = await openRuntime();
  cleanups.push(() => rt.close());
  return rt;
}

const howToSet = (system: string) => `set it with PUT /api/systems/${system}/secrets (the system's own secrets) or PUT /api/secrets (global secrets)`;

describe('a secret that is not set', () => {
  it('leaves every pipe valid config; only the pipe that calls the system fails, and works once the secret is set', async () => {
    const svc = await keyedService();
    const a = await api();
    const put = await a.call('PUT', '/api/config', {
      body: [
        { _id: 'node', type: 'metadata' },
        { _id: 'crm', type: 'system:url', url_pattern: `${svc.url}%s`, headers: { 'X-Api-Key': '$SECRET(crm-key)' } },
        { _id: 'crm-people', type: 'pipe', source: { type: 'json', system: 'crm', url: 'people' } },
        // Nothing in its input yet: it never calls the system.
        { _id: 'crm-notify', type: 'pipe', source: { type: 'dataset', dataset: 'outbox' }, transform: { type: 'http', system: 'crm', url: 'notify' } },
        { _id: 'outbox', type: 'pipe', source: { type: 'embedded', entities: [] } },
      ],
    });
    expect(put.status).toBe(200);
    const pipes = (await a.call('GET', '/api/pipes')).json as { _id: string; runtime: Record<string, unknown> }[];
    expect(Object.fromEntries(pipes.map((p) => [p._id, p.runtime['is-valid-config']]))).toEqual({ 'crm-people': true, 'crm-notify': true, outbox: true });

    expect(await a.rt.runPipe('outbox')).toMatchObject({ status: 'completed' });
    expect(await a.rt.runPipe('crm-notify')).toMatchObject({ status: 'completed', read: 0 });
    const failed = await a.rt.runPipe('crm-people');
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(`pipe "crm-people": the json source: system "crm" needs the secret "crm-key", which is not set: ${howToSet('crm')}`);
    expect(svc.keys).toEqual([]);

    expect((await a.call('PUT', '/api/systems/crm/secrets', { body: { 'crm-key': 'k-123' } })).status).toBe(200);
    expect(await a.rt.runPipe('crm-people')).toMatchObject({ status: 'completed', read: 1 });
    expect(svc.keys).toEqual(['k-123']);
    // A global secret that changes reaches the system too.
    expect((await a.call('DELETE', '/api/systems/crm/secrets/crm-key')).status).toBe(200);
    expect((await a.call('PUT', '/api/secrets', { body: { 'crm-key': 'k-global' } })).status).toBe(200);
    expect(await a.rt.runPipe('crm-people')).toMatchObject({ status: 'completed' });
    expect(svc.keys).toEqual(['k-123', 'k-global']);
  });

  it('of one REST operation fails only the requests of that operation', async () => {
    const svc = await keyedService();
    const rt = await runtime();
    await configure(rt, [
      {
        _id: 'api',
        type: 'system:rest',
        url_pattern: `${svc.url}%s`,
        headers: { 'X-Api-Key': 'public' },
        operations: {
          list: { method: 'GET', url: 'people' },
          subscribe: { method: 'POST', url: 'hooks', payload: { secret: '$SECRET(hook-secret)' } },
        },
      },
      { _id: 'people', type: 'pipe', source: { type: 'rest', system: 'api', operation: 'list' } },
      { _id: 'hooks', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'h1' }] }, sink: { type: 'rest', system: 'api', operation: 'subscribe' } },
    ]);
    expect(rt.instantiationErrors.size).toBe(0);
    expect(await rt.runPipe('people')).toMatchObject({ status: 'completed', read: 1 });
    const failed = await rt.runPipe('hooks');
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(`operation "subscribe": system "api" needs the secret "hook-secret", which is not set: ${howToSet('api')}`);
    expect(svc.keys).toEqual(['public']);
  });

  it('of a SQL, SMTP, LDAP or Elasticsearch system fails the first connection, before anything is sent', async () => {
    const server = await countingPort();
    const rt = await runtime();
    const at = { host: '127.0.0.1', port: server.port };
    await configure(rt, [
      { _id: 'pg', type: 'system:postgresql', ...at, database: 'shop', username: 'sluice', password: '$SECRET(pg-password)' },
      { _id: 'mail', type: 'system:smtp', smtp_server: '127.0.0.1', smtp_port: server.port, smtp_username: 'sluice', smtp_password: '$SECRET(smtp-password)' },
      { _id: 'dir', type: 'system:ldap', ...at, username: 'cn=sluice', password: '$SECRET(ldap-password)' },
      { _id: 'es', type: 'system:elasticsearch', hosts: [`127.0.0.1:${server.port}`], authentication: 'basic', username: 'sluice', password: '$SECRET(es-password)' },
      { _id: 'from-pg', type: 'pipe', source: { type: 'sql', system: 'pg', table: 'orders' } },
      { _id: 'to-pg', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'o1' }] }, sink: { type: 'sql', system: 'pg', table: 'orders' } },
      { _id: 'to-mail', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'm1', to: 'a@example.org' }] }, sink: { type: 'mail', system: 'mail', mail_from: 'sluice@example.org', recipients_property: 'to', subject_template: 'Hello', body_template: 'Hi' } },
      { _id: 'nothing-to-mail', type: 'pipe', source: { type: 'embedded', entities: [] }, sink: { type: 'mail', system: 'mail', mail_from: 'sluice@example.org', recipients_property: 'to' } },
      { _id: 'from-dir', type: 'pipe', source: { type: 'ldap', system: 'dir', search_base: 'dc=example,dc=org' } },
      { _id: 'to-es', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'd1' }] }, sink: { type: 'elasticsearch', system: 'es', default_index: 'docs' } },
    ]);
    expect(rt.instantiationErrors.size).toBe(0);
    const expected: Record<string, [string, string]> = {
      'from-pg': ['pg', 'pg-password'],
      'to-pg': ['pg', 'pg-password'],
      'to-mail': ['mail', 'smtp-password'],
      'from-dir': ['dir', 'ldap-password'],
      'to-es': ['es', 'es-password'],
    };
    for (const [pipe, [system, secret]] of Object.entries(expected)) {
      const outcome = await rt.runPipe(pipe);
      expect(outcome.status, pipe).toBe('failed');
      expect(outcome.error, pipe).toContain(`system "${system}" needs the secret "${secret}", which is not set: ${howToSet(system)}`);
    }
    expect(await rt.runPipe('nothing-to-mail')).toMatchObject({ status: 'completed' });
    expect(server.connections()).toBe(0);
  });
});
