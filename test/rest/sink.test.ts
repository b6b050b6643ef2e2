/** The REST sink against the REST fixture service over real sockets. */
import { describe, expect, it } from 'vitest';
import { configure } from '../support/runtime.js';
import { fixture, restSystem, runtime } from './support.js';

const operations = {
  'put-json': { method: 'PUT', url: 'records/{{ _id }}', 'payload-type': 'json' },
  'put-transit': { method: 'PUT', url: 'records/{{ _id }}', 'payload-type': 'json-transit' },
  'post-form': { method: 'POST', url: 'records/{{ properties.key }}', 'payload-type': 'form' },
  'post-multipart': { method: 'POST', url: 'records/{{ properties.key }}', 'payload-type': 'multipart-form' },
  'post-text': { method: 'POST', url: 'records/{{ _id }}', 'payload-type': 'text', headers: { 'Content-Type': 'application/xml' } },
  delete: { method: 'DELETE', url: 'records/{{ entity._id }}', headers: { 'X-Reason': '{{ properties.reason | default("gone") }}' } },
  patch: { method: 'PATCH', url: 'records/{{ _id }}', payload: { name: '{{ entity.name | upper }}', note: '{% if entity.note is defined %}{{ entity.note }}{% else %}sesam:markskip{% endif %}', count: '{{ entity.count }}sesam:markjson' } },
};

describe('rest sink', () => {
  it('sends each entity with its operation, properties and payload in every payload type', async () => {
    const f = await fixture();
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { headers: { 'X-Client': 'sluice-{{ properties.tenant | default("none") }}' }, operations }),
      {
        _id: 'push',
        type: 'pipe',
        source: {
          type: 'embedded',
          entities: [
            { _id: 'a', operation: 'put-json', payload: { name: 'Ada', born: '~t1815-12-10T00:00:00Z', tags: ['x'] } },
            { _id: 'b', operation: 'put-transit', payload: { born: '~t1815-12-10T00:00:00Z' } },
            { _id: 'c', operation: 'post-form', properties: { key: 'form-1', tenant: 't1' }, payload: { name: 'Grace Hopper', n: 3, when: '~t2020-01-01T00:00:00Z' } },
            { _id: 'd', operation: 'post-multipart', properties: { key: 'mp-1' }, payload: { name: 'Ada', n: 1 } },
            { _id: 'e', operation: 'post-text', payload: '<person id="e"/>' },
            { _id: 'f', operation: 'delete' },
            { _id: 'g', operation: 'patch', name: 'lin', count: 4 },
          ],
        },
        sink: { type: 'rest', system: 'api' },
      },
    ]);
    expect(rt.plan?.pipes.find((p) => p.id === 'push')?.effective.batch_size).toBe(1);
    expect(await rt.runPipe('push')).toMatchObject({ status: 'completed', written: 7 });
    const w = Object.fromEntries(f.writes.map((x) => [x.id, x]));
    expect(w.a).toMatchObject({ method: 'PUT', contentType: 'application/json' });
    expect(JSON.parse(w.a.body)).toEqual({ name: 'Ada', born: '1815-12-10T00:00:00Z', tags: ['x'] });
    expect(JSON.parse(w.b.body)).toEqual({ born: '~t1815-12-10T00:00:00Z' });
    expect(w['form-1']).toMatchObject({ method: 'POST', contentType: 'application/x-www-form-urlencoded' });
    expect(Object.fromEntries(new URLSearchParams(w['form-1'].body))).toEqual({ name: 'Grace Hopper', n: '3', when: '~t2020-01-01T00:00:00Z' });
    expect(w['mp-1'].contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(w['mp-1'].body).toMatch(/Content-Disposition: form-data; name="name"\r\n\r\nAda\r\n/);
    expect(w.e).toMatchObject({ contentType: 'application/xml', body: '<person id="e"/>' });
    expect(w.f).toMatchObject({ method: 'DELETE', body: '' });
    expect(JSON.parse(w.g.body)).toEqual({ name: 'LIN', count: 4 });
    const seen = (path: string) => f.seen.find((s) => s.path === path)!;
    expect(seen('/records/f').headers['x-reason']).toBe('gone');
    expect(seen('/records/form-1').headers['x-client']).toBe('sluice-t1');
    expect(seen('/records/a').headers['x-client']).toBe('sluice-none');
  });

  it('takes the operation, properties and payload from the sink when the entity has none', async () => {
    const f = await fixture();
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      {
        _id: 'push',
        type: 'pipe',
        source: { type: 'embedded', entities: [{ _id: 'x' }, { _id: 'y', payload: { own: true } }] },
        sink: { type: 'rest', system: 'api', operation: 'post-form', properties: { key: 'from-sink' }, payload: { from: 'sink', id: '{{ entity._id }}' } },
      },
    ]);
    expect(await rt.runPipe('push')).toMatchObject({ status: 'completed', written: 2 });
    expect(f.writes.map((w) => [w.id, Object.fromEntries(new URLSearchParams(w.body))])).toEqual([
      ['from-sink', { from: 'sink', id: 'x' }],
      ['from-sink', { own: 'true' }],
    ]);
  });

  it('sends a batch many requests at a time, pipelined on max_connections, in order per _id', async () => {
    const f = await fixture();
    const rt = await runtime();
    const total = 64;
    const entities = Array.from({ length: total }, (_, i) => ({ _id: `e${i}`, payload: { n: i } }));
    for (const [at, version] of [[0, 1], [5, 2], [10, 3]]) entities[at] = { _id: 'dup', payload: { n: version } };
    // Answers are held until 8 requests wait (or all came): a sink sending one at a time never gets one.
    let held: (() => void)[] = [];
    let received = 0;
    let peak = 0;
    const sockets = new Set<unknown>();
    f.overrides.push(async (req, res) => {
      received++;
      // A pipelined request's response has no socket until its turn: the request has it.
      sockets.add(res.req.socket);
      const answered = new Promise<void>((resolve) => held.push(resolve));
      peak = Math.max(peak, held.length);
      if (held.length >= 8 || received === total) {
        for (const release of held) release();
        held = [];
      }
      await answered;
      f.writes.push({ method: req.method, id: req.path.split('/')[2], contentType: String(req.headers['content-type']), body: req.body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return true;
    });
    await configure(rt, [
      restSystem('api', f.base, { operations, pipelining: 8, max_connections: 2 }),
      { _id: 'push', type: 'pipe', batch_size: total, source: { type: 'embedded', entities }, sink: { type: 'rest', system: 'api', operation: 'put-json' } },
    ]);
    expect(await rt.runPipe('push')).toMatchObject({ status: 'completed', written: total });
    expect(f.writes).toHaveLength(total);
    expect(f.writes.filter((w) => w.id === 'dup').map((w) => JSON.parse(w.body).n)).toEqual([1, 2, 3]);
    expect(peak).toBeGreaterThanOrEqual(8);
    expect(peak).toBeLessThanOrEqual(16);
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('fails the run with a clear error on 500s and unknown operations, after sending what came before', async () => {
    const f = await fixture();
    f.fail('/records/b', 500, 100, { 'content-type': 'text/plain' }, 'cannot store b');
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { operations }),
      { _id: 'push', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }] }, sink: { type: 'rest', system: 'api', operation: 'put-json' } },
      { _id: 'unknown', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a', operation: 'nope' }] }, sink: { type: 'rest', system: 'api' } },
    ]);
    const r = await rt.runPipe('push');
    expect(r.status).toBe('failed');
    expect(r.error).toContain(`pipe "push": the rest sink: entity "b": PUT ${f.base}/records/b answered 500 Internal Server Error: cannot store b`);
    expect(f.writes.map((w) => w.id)).toEqual(['a']);
    const u = await rt.runPipe('unknown');
    expect(u.error).toContain('pipe "unknown": the rest sink: the operation "nope" is not defined on the component or its system (defined: put-json, put-transit, post-form, post-multipart, post-text, delete, patch)');
    expect(f.writes).toHaveLength(1);
  });

  it('fails clearly when the service does not answer in time, and does not care what a success answers', async () => {
    const f = await fixture();
    f.overrides.push((req, res) => {
      if (req.path === '/records/slow') return true; // never answers
      if (req.path === '/records/garbage') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>oops</html>');
        return true;
      }
      return false;
    });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { read_timeout: 1, operations }),
      { _id: 'slow', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'slow' }] }, sink: { type: 'rest', system: 'api', operation: 'put-json' } },
      { _id: 'garbage', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'garbage' }] }, sink: { type: 'rest', system: 'api', operation: 'put-json' } },
    ]);
    const slow = await rt.runPipe('slow');
    expect(slow.error).toContain(`pipe "slow": the rest sink: entity "slow": PUT ${f.base}/records/slow timed out: no response within 1 s (the system's read_timeout)`);
    expect(await rt.runPipe('garbage')).toMatchObject({ status: 'completed', written: 1 });
    expect((await rt.store.getPipeState('slow'))?.last_seen ?? null).toBeNull();
  });

  it('retries 429 answers (Retry-After 0) and sends basic and JWT authentication', async () => {
    const f = await fixture();
    f.authorization = `Basic ${Buffer.from('user:secret').toString('base64')}`;
    f.fail('/records/a', 429, 2, { 'retry-after': '0' });
    const rt = await runtime();
    await configure(rt, [
      restSystem('api', f.base, { authentication: 'basic', username: 'user', password: 'secret', rate_limiting_retries: 3, operations }),
      restSystem('jwt', f.base, { authentication: 'jwt', jwt_token: 'tok', operations }),
      { _id: 'push', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }] }, sink: { type: 'rest', system: 'api', operation: 'put-json' } },
      { _id: 'push-jwt', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'j' }] }, sink: { type: 'rest', system: 'jwt', operation: 'put-json' } },
    ]);
    expect(await rt.runPipe('push')).toMatchObject({ status: 'completed', written: 1 });
    expect(f.seen.filter((s) => s.path === '/records/a')).toHaveLength(3);
    const jwt = await rt.runPipe('push-jwt');
    expect(jwt.error).toContain(`PUT ${f.base}/records/j answered 401 Unauthorized`);
    f.authorization = 'Bearer tok';
    expect(await rt.runPipe('push-jwt')).toMatchObject({ status: 'completed', written: 1 });
  });

  it('refuses a config without a REST system or operations, and a bad template, before sending anything', async () => {
    const f = await fixture();
    const rt = await runtime();
    await configure(rt, [
      { _id: 'url', type: 'system:url', url_pattern: `${f.base}/%s` },
      restSystem('bare', f.base),
      restSystem('api', f.base, { operations: { bad: { method: 'PUT', url: 'records/{{ _id' } } }),
      { _id: 'p-url', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }] }, sink: { type: 'rest', system: 'url', operation: 'x' } },
      { _id: 'p-bare', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }] }, sink: { type: 'rest', system: 'bare', operation: 'x' } },
      { _id: 'p-bad', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a' }] }, sink: { type: 'rest', system: 'api', operation: 'bad' } },
    ]);
    // Components are created when the config loads: such pipes do not run at all.
    await expect(rt.runPipe('p-url')).rejects.toThrow('pipe "p-url": the rest sink needs a REST system (type "system:rest"), but system "url" has type "system:url"');
    await expect(rt.runPipe('p-bare')).rejects.toThrow('pipe "p-bare": the rest sink: neither the component nor system "bare" defines "operations"');
    await expect(rt.runPipe('p-bad')).rejects.toThrow(/pipe "p-bad": the rest sink: operation "bad": url: the template "records\/\{\{ _id" is not valid Jinja: .*expected variable end/);
    expect(f.seen).toHaveLength(0);
  });
});
