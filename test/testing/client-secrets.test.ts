/**
 * A project whose systems use secrets the node does not hold, uploaded the way Sesam's client does
 * it. CI nodes deliberately hold no secrets, and a system's own secrets can only be set once the
 * system exists, so the upload must succeed; the input pipe that needs the secret cannot run (the
 * runner tolerates that without check_input_pipes) and runs once the secret is set.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../api/support.js';

let api: TestApi | undefined;
let crm: Server | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
  await new Promise((resolve) => (crm ? crm.close(resolve) : resolve(undefined)));
  crm = undefined;
});

/** A JSON API that answers only the right basic credentials. */
async function startCrm(): Promise<{ url: string; seen: (string | undefined)[] }> {
  const seen: (string | undefined)[] = [];
  crm = createServer((req, res) => {
    seen.push(req.headers.authorization);
    const ok = req.headers.authorization === `Basic ${Buffer.from('ci:s3cret').toString('base64')}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(ok ? JSON.stringify([{ _id: 'c1', name: 'Ada' }]) : '{"error": "who are you?"}');
  });
  await new Promise<void>((resolve) => crm!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(crm.address() as AddressInfo).port}/`, seen };
}

/** The client's upload body: a zip of the config files in a multipart field "file". */
function configUpload(files: Record<string, unknown>): FormData {
  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([path, config]) => [path, strToU8(JSON.stringify(config, null, 2))])));
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'config');
  return form;
}

describe('config that uses secrets the node does not hold', () => {
  it('uploads with a warning; the pipe that needs the secret cannot run until PUT /api/systems/{id}/secrets sets it', async () => {
    const { url, seen } = await startCrm();
    api = await startTestApi();
    const put = await api.call('PUT', '/api/config?force=false', {
      raw: configUpload({
        'node-metadata.conf.json': { _id: 'node', type: 'metadata' },
        'systems/crm.conf.json': { _id: 'crm', type: 'system:url', base_url: url, authentication: 'basic', username: 'ci', password: '$SECRET(crm-password)' },
        'pipes/crm-customer.conf.json': { _id: 'crm-customer', type: 'pipe', source: { type: 'json', system: 'crm', url: 'customers' } },
        'pipes/customer.conf.json': { _id: 'customer', type: 'pipe', source: { type: 'dataset', dataset: 'crm-customer' } },
      }),
    });
    expect(put.status).toBe(200);
    const problems = (put.json.validation_errors as { 'config-errors': { level: string; code: string; msg: string }[] }[]).flatMap((v) => v['config-errors']);
    expect(problems).toEqual([expect.objectContaining({ level: 'warning', code: 'CONFIG_SECRET_UNRESOLVED', msg: expect.stringContaining('secret "crm-password" is not set') })]);

    const before = await api.call('POST', '/api/pipes/run-all-pipes');
    expect(before.json.status).toBe('success');
    const log = (await api.call('GET', '/api/pipes/get-run-all-pipes-log')).json as { loglevel: string; logdata: string }[];
    expect(log.find((l) => l.loglevel === 'WARNING' && l.logdata.includes("'crm-customer'"))?.logdata).toMatch(/system "crm" needs the secret "crm-password", which is not set/);
    expect(seen).toEqual([]);

    expect((await api.call('PUT', '/api/systems/crm/secrets', { body: { 'crm-password': 's3cret' } })).json).toEqual(['crm-password']);
    const after = await api.call('POST', '/api/pipes/run-all-pipes?check_input_pipes=true');
    expect(after.json.status).toBe('success');
    expect((await api.call('GET', '/api/datasets/customer/entities')).json.map((e: { _id: string; name: string }) => [e._id, e.name])).toEqual([['c1', 'Ada']]);
    expect(seen.length).toBeGreaterThan(0);
  });
});
