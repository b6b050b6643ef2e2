/** The runtime's side of the Studio over real sockets: serving the app, auth gating, and the /api/studio endpoints. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { compile } from '../../compiler/compile.js';
import { readConfigFolder } from '../../compiler/load/files.js';
import { publicAssets, studioDistDir } from '../../runtime/api/studio.js';
import { startStudioRuntime, type StudioRuntime } from './fixture.js';

let s: StudioRuntime;
beforeAll(async () => {
  s = await startStudioRuntime();
});
afterAll(async () => s?.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function json(path: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(s.base + path, init);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** The status of a request, with the body read so that the connection is free again. */
async function statusOf(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

const postJson = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('serving the Studio', () => {
  it('answers the app and its deep links with index.html, and leaves /api alone', async () => {
    const index = readFileSync(join(studioDistDir()!, 'index.html'), 'utf8');
    for (const path of ['/', '/pipes', '/pipes/person', '/pipes/a%3Ab', '/datasets', '/datasets/person', '/graph', '/systems', '/config']) {
      const res = await fetch(s.base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toBe(index);
    }
    expect((await json('/api/status')).body.node_id).toBeDefined();
    expect(await statusOf(s.base + '/nothing-here')).toBe(404);
    // The OpenAPI document lists the support endpoints and not the app's paths.
    const paths = Object.keys((await json('/api/openapi.json')).body.paths);
    expect(paths).toContain('/api/studio/validate');
    expect(paths).not.toContain('/pipes');
  });

  it('serves built assets with long caching', async () => {
    const file = readdirSync(join(studioDistDir()!, 'assets')).find((f) => f.endsWith('.js'))!;
    const res = await fetch(`${s.base}/assets/${file}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/immutable/);
    await res.arrayBuffer();
    expect(await statusOf(`${s.base}/assets/missing-file.js`)).toBe(404);
  });
});

describe('with --jwt-secret', () => {
  const secret = 'a-studio-test-secret-of-enough-length';
  let locked: StudioRuntime;
  beforeAll(async () => {
    locked = await startStudioRuntime({ auth: { jwtSecret: secret } });
  });
  afterAll(async () => locked?.close());

  it('serves only the sign-in entry without a token, the rest with the token cookie', async () => {
    const dist = studioDistDir()!;
    const open = publicAssets(dist);
    expect([...open].some((f) => f.endsWith('.js'))).toBe(true);
    const all = readdirSync(join(dist, 'assets')).map((f) => `/assets/${f}`);
    const closed = all.filter((f) => !open.has(f));
    expect(closed.length).toBeGreaterThan(0);
    expect(await statusOf(locked.base + '/pipes')).toBe(200);
    for (const f of open) expect(await statusOf(locked.base + f), f).toBe(200);
    for (const f of closed) expect(await statusOf(locked.base + f), f).toBe(401);
    const token = await new SignJWT({ sub: 'studio' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(secret));
    for (const f of closed) expect(await statusOf(locked.base + f, { headers: { cookie: `sluice_token=${token}` } }), f).toBe(200);
    expect(await statusOf(locked.base + closed[0], { headers: { cookie: 'sluice_token=not-a-token' } })).toBe(401);
    // The API itself wants the bearer token, not the cookie.
    expect(await statusOf(locked.base + '/api/studio/graph', { headers: { cookie: `sluice_token=${token}` } })).toBe(401);
    expect(await statusOf(locked.base + '/api/studio/graph', { headers: { authorization: `Bearer ${token}` } })).toBe(200);
  });
});

describe('/api/studio', () => {
  it('validates edited config text with the same codes and positions as the compiler', async () => {
    const text = readFileSync(join(s.configDir, 'pipes/person.conf.json'), 'utf8').replace('"dataset": "crm-person"', '"dataset": "crm-persn"').replace('"lower"', '"lowr"');
    const r = await json('/api/studio/validate', postJson({ files: [{ path: 'pipes/person.conf.json', text }] }));
    expect(r.status).toBe(200);
    const files = readConfigFolder(s.configDir).map((f) => (f.path === 'pipes/person.conf.json' ? { ...f, text } : f));
    const expected = compile(files).diagnostics.map((d) => ({ file: d.file, line: d.line, column: d.column, severity: d.severity, code: d.code, message: d.message }));
    expect(r.body.diagnostics).toEqual(expected);
    expect(r.body.diagnostics.map((d: { code: string }) => d.code)).toContain('DTL_UNKNOWN_FUNCTION');
    expect(r.body.ok).toBe(false);
    expect(r.body.impact).toBeNull();
    const bad = await json('/api/studio/validate', postJson({ files: [{ path: '../etc/passwd', text: '' }] }));
    expect(bad.status).toBe(400);
  });

  it('previews the impact of a change: changed pipes, rescans, datasets no longer produced', async () => {
    const person = JSON.parse(readFileSync(join(s.configDir, 'pipes/person.conf.json'), 'utf8'));
    person.transform.rules.default.push(['add', 'source', 'crm']);
    const orders = JSON.parse(readFileSync(join(s.configDir, 'pipes/crm-contacts.conf.json'), 'utf8'));
    orders.rescan_when_config_changes = true;
    orders.source.url = '/contacts?all=1';
    const r = await json('/api/studio/validate', postJson({ files: [{ path: 'pipes/person.conf.json', text: JSON.stringify(person) }, { path: 'pipes/crm-contacts.conf.json', text: JSON.stringify(orders) }], removed: ['pipes/orders.conf.json'] }));
    expect(r.body.ok).toBe(true);
    const impact = r.body.impact;
    expect(impact.removed).toEqual(['orders']);
    expect(impact.changed).toEqual([
      { id: 'crm-contacts', parts: ['rescan_when_config_changes', 'source'], effect: 'rescan' },
      { id: 'person', parts: ['transform'], effect: 'reset-advised' },
    ]);
    expect(impact.datasetsNoLongerProduced).toEqual(['orders']);
    expect(impact.orphanedReaders).toEqual([{ pipe: 'person-orders', dataset: 'orders' }]);
  });

  it('lists pipes with state, last run and queue, and the flow graph with hops edges and failing pipes', async () => {
    const rows = (await json('/api/studio/pipes')).body as { id: string; state: string; last_run: { read: number; written: number } | null; queue: number | null }[];
    expect(rows.map((r) => r.id)).toEqual(['crm-contacts', 'crm-export', 'crm-person', 'legacy-import', 'orders', 'person', 'person-orders']);
    expect(rows.find((r) => r.id === 'legacy-import')!.state).toBe('failed');
    expect(rows.find((r) => r.id === 'person')!).toMatchObject({ state: 'ok', queue: 0, last_run: { read: 3, written: 3 } });
    const graph = (await json('/api/studio/graph')).body as { nodes: { id: string; state?: string }[]; edges: { from: string; to: string; kind: string }[] };
    expect(graph.edges).toContainEqual({ from: 'dataset:orders', to: 'pipe:person-orders', kind: 'hops' });
    expect(graph.edges).toContainEqual({ from: 'system:crm-api', to: 'pipe:crm-contacts', kind: 'source' });
    expect(graph.edges).toContainEqual({ from: 'pipe:crm-export', to: 'system:crm-api', kind: 'sink' });
    expect(graph.nodes.find((n) => n.id === 'pipe:legacy-import')!.state).toBe('failed');
  });

  it("answers an entity's history and 404s for unknown ones", async () => {
    const h = await json('/api/studio/datasets/customers/history?entity_id=c1');
    expect(h.body.map((v: { name: string }) => v.name)).toEqual(['Ada Byron', 'Ada Lovelace']);
    expect(h.body[1]._previous).toBe(h.body[0]._updated);
    expect((await json('/api/studio/datasets/customers/history?entity_id=c2')).body.map((v: { _deleted?: boolean }) => v._deleted ?? false)).toEqual([false, true]);
    expect((await json('/api/studio/datasets/customers/history?entity_id=nope')).status).toBe(404);
    expect((await json('/api/studio/datasets/nope/history?entity_id=c1')).status).toBe(404);
  });

  it('previews a pipe on its source, on a pasted entity, and with edited config', async () => {
    const first = await json('/api/studio/pipes/person/preview', postJson({}));
    expect(first.body.steps[0].entities).toEqual([{ _id: '1', name: 'Ada Lovelace', email: 'ada@example.org', region: 'Rest of world' }]);
    const pasted = await json('/api/studio/pipes/person/preview', postJson({ entities: JSON.stringify({ _id: 'x', first_name: 'Ole', last_name: 'Dahl', email: 'O@X.NO', country: 'NO' }) }));
    expect(pasted.body.steps[0].entities[0]).toEqual({ _id: 'x', name: 'Ole Dahl', email: 'o@x.no', region: 'Nordics' });
    const config = readFileSync(join(s.configDir, 'pipes/person.conf.json'), 'utf8').replace('"lower"', '"upper"');
    expect(config).toContain('upper');
    const edited = await json('/api/studio/pipes/person/preview', postJson({ config, entities: '{"_id": "y", "email": "a@b.c"}' }));
    expect(edited.body.steps[0].entities[0].email).toBe('A@B.C');
    const broken = await json('/api/studio/pipes/person/preview', postJson({ config: config.replace('"upper"', '"uper"') }));
    expect(broken.status).toBe(400);
    expect(broken.body.diagnostics[0].code).toBe('DTL_UNKNOWN_FUNCTION');
  });

  it('gives the config files as text and says they can be edited here', async () => {
    const c = (await json('/api/studio/config')).body;
    expect(c.source).toEqual({ kind: 'files', editable: true });
    expect(c.files.map((f: { path: string }) => f.path)).toContain('pipes/person.conf.json');
    expect(c.entities).toContainEqual({ id: 'person', type: 'pipe', file: 'pipes/person.conf.json' });
  });
});
