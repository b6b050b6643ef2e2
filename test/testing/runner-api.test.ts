/**
 * The endpoints Sesam's client drives in CI: the pipe runner (run-all-pipes and friends),
 * delete-all-sink-datasets and /api/admin, over real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { projectConfigFiles } from '../../runtime/testing/project.js';
import { repoRoot } from '../support/cli.js';
import { startTestApi, waitFor, type TestApi } from '../api/support.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const example = join(repoRoot, 'examples', 'ci-orders');
const form = (body: string) => ({ raw: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });

/** A runtime with examples/ci-orders uploaded and its test data posted. */
async function ordersApi(): Promise<TestApi> {
  const a = await startTestApi();
  await a.rt.setEnv(JSON.parse(readFileSync(join(example, 'test-env.json'), 'utf8')), true);
  const r = await a.rt.setConfigFiles(projectConfigFiles(example));
  if (!r.ok) throw new Error(a.rt.describeErrors(r.diagnostics));
  for (const pipe of ['erp-customer', 'order']) {
    const posted = await a.call('POST', `/api/receivers/${pipe}/entities`, { raw: readFileSync(join(example, 'testdata', `${pipe}.json`), 'utf8'), headers: { 'content-type': 'application/json' } });
    expect(posted.status).toBe(200);
  }
  return a;
}

/**
 * A pipe that provably never settles: each run reads the count its last run wrote (a hop into its
 * own sink) and writes it plus one, so every run changes its entity, however fast runs follow.
 */
const previous = ['first', ['hops', { datasets: ['counter c'], where: ['eq', '_S._id', 'c._id'], return: 'c.n' }]];
const restless = {
  _id: 'counter',
  type: 'pipe',
  source: { type: 'embedded', entities: [{ _id: 'runs' }] },
  transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'n', ['if', ['is-null', previous], 1, ['+', previous, 1]]]] } },
};

async function entities(a: TestApi, dataset: string): Promise<number> {
  const r = await a.call('GET', `/api/datasets/${dataset}/entities?history=false&deleted=false`);
  return r.status === 404 ? 0 : r.json.length;
}

describe('POST /api/pipes/run-all-pipes', () => {
  it('sync: runs until extra_zero_runs runs change nothing and answers {status, additional_info}', async () => {
    api = await ordersApi();
    const r = await api.call('POST', '/api/pipes/run-all-pipes?extra_zero_runs=2&max_run_time=900&max_runs=100&delete_input_datasets=False&request_mode=sync');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(['additional_info', 'status']);
    expect(r.json.status).toBe('success');
    expect(r.json.additional_info).toMatch(/^Ran 8 pipes in 3 runs \(11 changes\)/);
    expect(await entities(api, 'order-enriched')).toBe(4);

    const log = (await api.call('GET', '/api/pipes/get-run-all-pipes-log')).json as { timestamp: string; loglevel: string; logdata: string }[];
    expect(log.map((l) => l.logdata)).toEqual(expect.arrayContaining([expect.stringMatching(/^Run 1: 8 pipes ran, 11 changes/), expect.stringMatching(/^Run 3: 8 pipes ran, 0 changes \(2 of 2 runs without changes\)/)]));
    for (let i = 1; i < log.length; i++) expect(log[i].timestamp > log[i - 1].timestamp).toBe(true);
    expect(log.every((l) => Object.keys(l).sort().join() === 'logdata,loglevel,timestamp')).toBe(true);
    const since = (await api.call('GET', `/api/pipes/get-run-all-pipes-log?since=${encodeURIComponent(log[2].timestamp)}`)).json;
    expect(since).toEqual(log.slice(3));
  });

  it('deletes the input datasets by default, keeps them with delete_input_datasets=False; resets the other pipes', async () => {
    api = await ordersApi();
    expect((await api.call('POST', '/api/pipes/run-all-pipes?delete_input_datasets=False')).json.status).toBe('success');
    expect(await entities(api, 'order')).toBe(4);
    // output_run_statistics adds per-pipe lines.
    const again = await api.call('POST', '/api/pipes/run-all-pipes?delete_input_datasets=False&output_run_statistics=True');
    expect(again.json.additional_info).toMatch(/Pipe statistics:\n {2}crm-customer: 3 runs/);
    expect(await entities(api, 'order-enriched')).toBe(4);
    const defaults = await api.call('POST', '/api/pipes/run-all-pipes');
    expect(defaults.json.status).toBe('success');
    expect(await entities(api, 'order')).toBe(0);
    expect(await entities(api, 'order-enriched')).toBe(0);
    // reset_pipes_and_delete_sink_datasets=False keeps everything as it is.
    await api.call('POST', '/api/receivers/order/entities', { body: [{ _id: 'x', customer_email: 'ada@example.org', lines: [] }] });
    expect((await api.call('POST', '/api/pipes/run-all-pipes?reset_pipes_and_delete_sink_datasets=False&delete_input_datasets=False')).json.status).toBe('success');
    expect(await entities(api, 'order-enriched')).toBe(1);
  });

  it('async: answers a token; status and log by token; unknown tokens', async () => {
    api = await ordersApi();
    const r = await api.call('POST', '/api/pipes/run-all-pipes?request_mode=async&delete_input_datasets=False');
    expect(r.json).toMatchObject({ status: 'running', token: expect.any(String) });
    const token = r.json.token as string;
    await waitFor(async () => (await api!.call('GET', `/api/pipes/get-pipe-runner-status?token=${token}`)).json.status !== 'running');
    expect((await api.call('GET', `/api/pipes/get-pipe-runner-status?token=${token}`)).json).toMatchObject({ status: 'success', additional_info: expect.stringMatching(/^Ran 8 pipes/) });
    expect((await api.call('GET', `/api/pipes/get-run-all-pipes-log?token=${token}`)).json.length).toBeGreaterThan(3);
    expect((await api.call('GET', '/api/pipes/get-pipe-runner-status?token=nope')).json).toEqual({ status: 'not-running' });
    expect((await api.call('GET', '/api/pipes/get-run-all-pipes-log?token=nope')).status).toBe(404);
  });

  it('fails a config that does not settle within max_runs, or within max_run_time; stop-run-all-pipes stops a job', async () => {
    api = await startTestApi();
    const loaded = await api.rt.setConfigFiles([{ path: 'pipes/counter.conf.json', text: JSON.stringify(restless), format: 'json', role: 'pipe' }]);
    expect(loaded.ok, api.rt.describeErrors(loaded.diagnostics)).toBe(true);
    const r = await api.call('POST', '/api/pipes/run-all-pipes?max_runs=3');
    expect(r.json.status).toBe('failed');
    expect(r.json.additional_info).toMatch(/did not settle within max_runs \(3 runs\)/);
    expect((await api.call('GET', '/api/datasets/counter/entity?entity_id=runs')).json.n).toBe(3);

    const timed = await api.call('POST', '/api/pipes/run-all-pipes?max_runs=1000000&max_run_time=1');
    expect(timed.json).toMatchObject({ status: 'failed', additional_info: expect.stringMatching(/max_run_time \(1 s\) was reached/) });

    expect((await api.call('POST', '/api/pipes/stop-run-all-pipes?terminate_timeout=30')).json).toEqual({ status: 'not-running' });
    const started = await api.call('POST', '/api/pipes/run-all-pipes?max_runs=1000000&request_mode=async');
    const busy = await api.call('POST', '/api/pipes/run-all-pipes');
    expect(busy.status).toBe(409);
    const stopped = await api.call('POST', '/api/pipes/stop-run-all-pipes?terminate_timeout=30');
    expect(stopped.json).toEqual({ status: 'stopped', token: started.json.token });
    expect((await api.call('GET', `/api/pipes/get-pipe-runner-status?token=${started.json.token}`)).json.status).toBe('stopped');
  });

  it('failing input pipes fail the job only with check_input_pipes', async () => {
    api = await startTestApi();
    const broken = { _id: 'broken-input', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }] }, transform: { type: 'dtl', rules: { default: [['add', 'x', 1]] } } };
    await api.rt.setConfigFiles([{ path: 'pipes/broken-input.conf.json', text: JSON.stringify(broken), format: 'json', role: 'pipe' }]);
    expect((await api.call('POST', '/api/pipes/run-all-pipes')).json.status).toBe('success');
    expect((await api.call('GET', '/api/pipes/get-run-all-pipes-log')).json.some((l: { loglevel: string; logdata: string }) => l.loglevel === 'WARNING' && /Input pipe 'broken-input' failed/.test(l.logdata))).toBe(true);
    const checked = await api.call('POST', '/api/pipes/run-all-pipes?check_input_pipes=True');
    expect(checked.json).toMatchObject({ status: 'failed', additional_info: expect.stringMatching(/failed: broken-input/) });
  });

  it('counts a pipe that reads an outside system as an input pipe: its failures need check_input_pipes, its reset delete_input_datasets', async () => {
    // A CI node usually cannot reach the systems its input pipes read; Sesam's runner tolerates that by default.
    const down = createServer((_req, res) => {
      res.statusCode = 503;
      res.end('unavailable');
    });
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    try {
      api = await startTestApi();
      const file = (role: 'pipe' | 'system', config: { _id: string; [key: string]: unknown }) => ({ path: `${role}s/${config._id}.conf.json`, text: JSON.stringify(config), format: 'json' as const, role });
      const applied = await api.rt.setConfigFiles([
        file('system', { _id: 'crm', type: 'system:url', base_url: `http://127.0.0.1:${(down.address() as AddressInfo).port}/` }),
        file('pipe', { _id: 'crm-person', type: 'pipe', source: { type: 'json', system: 'crm', url: 'persons' } }),
        // Valid config that cannot be instantiated: a query needs a primary_key.
        file('system', { _id: 'erp', type: 'system:postgresql', host: '127.0.0.1', database: 'erp', username: 'ci', password: 'ci' }),
        file('pipe', { _id: 'erp-order', type: 'pipe', source: { type: 'sql', system: 'erp', query: 'select 1' } }),
        file('pipe', { _id: 'hr-person', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'p1' }] } }),
        file('pipe', { _id: 'person', type: 'pipe', source: { type: 'dataset', dataset: 'hr-person' } }),
      ]);
      expect(applied.ok).toBe(true);

      const tolerant = await api.call('POST', '/api/pipes/run-all-pipes?delete_input_datasets=False');
      expect(tolerant.json).toMatchObject({ status: 'success' });
      const log = (await api.call('GET', '/api/pipes/get-run-all-pipes-log')).json as { loglevel: string; logdata: string }[];
      expect(log.filter((l) => l.loglevel === 'WARNING' && /^Input pipe 'crm-person' failed/.test(l.logdata)).length).toBeGreaterThan(0);
      expect(log.filter((l) => l.loglevel === 'WARNING' && /^Input pipe 'erp-order' cannot run/.test(l.logdata)).length).toBe(1);
      expect(log.filter((l) => l.loglevel === 'ERROR')).toEqual([]);
      // Only the internal pipe is reset when the input datasets are kept.
      expect(log.map((l) => l.logdata)).toContainEqual(expect.stringMatching(/^Reset 1 pipe and deleted/));
      expect(await entities(api, 'person')).toBe(1);

      const checked = await api.call('POST', '/api/pipes/run-all-pipes?check_input_pipes=True');
      expect(checked.json).toMatchObject({ status: 'failed', additional_info: expect.stringMatching(/failed: crm-person, erp-order$/) });
    } finally {
      await new Promise((resolve) => down.close(resolve));
    }
  });

  it('is matched before /api/pipes/{id}, even for pipes with those ids', async () => {
    api = await startTestApi();
    const p = (id: string) => ({ path: `pipes/${id}.conf.json`, text: JSON.stringify({ _id: id, type: 'pipe', source: { type: 'embedded', entities: [] } }), format: 'json' as const, role: 'pipe' as const });
    await api.rt.setConfigFiles([p('get-run-all-pipes-log'), p('get-pipe-runner-status'), p('plain')]);
    expect((await api.call('GET', '/api/pipes/get-run-all-pipes-log')).json).toEqual([]);
    expect((await api.call('GET', '/api/pipes/get-pipe-runner-status')).json).toEqual({ status: 'not-running' });
    expect((await api.call('GET', '/api/pipes/plain')).json._id).toBe('plain');
    expect((await api.call('POST', '/api/pipes/run-all-pipes')).json.status).toBe('success');
    expect((await api.call('GET', '/api/pipes/get-pipe-runner-status')).json.status).toBe('success');
  });
});

describe('POST /api/pipes/delete-all-sink-datasets', () => {
  it('deletes the sink datasets and resets the pipes', async () => {
    api = await ordersApi();
    await api.call('POST', '/api/pipes/run-all-pipes?delete_input_datasets=False');
    const r = await api.call('POST', '/api/pipes/delete-all-sink-datasets');
    expect(r.status).toBe(200);
    expect(r.json.deleted).toEqual(expect.arrayContaining(['crm-customer', 'customer', 'erp-customer', 'order', 'order-enriched']));
    expect(await entities(api, 'customer')).toBe(0);
    expect((await api.call('GET', '/api/pipes/customer/pump')).json.runtime['last-seen']).toBe('');
  });
});

describe('POST /api/admin', () => {
  it('restart answers exactly {"message": "OK"}, changes node_start_time and keeps config and data', async () => {
    api = await ordersApi();
    await api.call('POST', '/api/pipes/run-all-pipes?delete_input_datasets=False');
    const before = (await api.call('GET', '/api/status')).json.node_start_time;
    const r = await api.call('POST', '/api/admin', form('operation=restart'));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ message: 'OK' });
    const after = (await api.call('GET', '/api/status')).json.node_start_time;
    expect(after).not.toBe(before);
    const pipes = (await api.call('GET', '/api/pipes')).json as { _id: string; runtime: { state: string } }[];
    expect(pipes).toHaveLength(8);
    expect(pipes.every((p) => p.runtime.state === 'Deployed')).toBe(true);
    expect(await entities(api, 'order-enriched')).toBe(4);
    expect((await api.call('POST', '/api/admin', { body: { operation: 'load_config' } })).json).toEqual({ message: 'OK' });
    expect((await api.call('GET', '/api/status')).json.node_start_time).not.toBe(after);
  });

  it('reset deletes data, config and env, then restarts', async () => {
    api = await ordersApi();
    await api.call('POST', '/api/pipes/run-all-pipes?delete_input_datasets=False');
    const r = await api.call('POST', '/api/admin', form('operation=reset'));
    expect(r.json).toEqual({ message: 'OK' });
    expect((await api.call('GET', '/api/pipes')).json).toEqual([]);
    expect((await api.call('GET', '/api/datasets')).json).toEqual([]);
    expect((await api.call('GET', '/api/env')).json).toEqual({});
    expect((await api.call('GET', '/api/config')).json).toEqual([]);
  });

  it('refuses unknown operations', async () => {
    api = await startTestApi();
    const r = await api.call('POST', '/api/admin', form('operation=explode'));
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/restart, reset, load_config/);
  });
});
