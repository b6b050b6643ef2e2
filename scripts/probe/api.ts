/**
 * `npm run probe -- [--json]`: starts a runtime (embedded store in a temporary folder, the API on a
 * free port, a small HTTP server for a URL system to reach) and tries every operation of Sesam's
 * published API description with a valid request and with invalid input.
 *
 * - A valid request answers as documented when its status is one of the operation's success
 *   statuses in this node's OpenAPI document and its body matches the documented schema (or
 *   content type).
 * - An invalid request is refused cleanly when it answers 4xx with the error object
 *   `{"error": {"code", "message"}}`; the node's config, env, secrets, models, datasets and pumps
 *   are compared before and after it, and any difference counts as written by a refused request.
 *
 * The last line is `{"probe":"api","operations":N,"answer_as_documented":N,"bad_inputs":N,"refused_cleanly":N,"written_by_refused":N}`.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import pino from 'pino';
import { startApi } from '../../runtime/api/app.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { freePort } from '../test-services/ports.js';
import { OPERATIONS, type Call, type ProbeContext } from './operations.js';

const asJson = process.argv.includes('--json');
const verbose = process.argv.includes('--verbose');

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>; components: { schemas: Record<string, unknown> } };

function fixture(echoPort: number): unknown[] {
  const people = { _id: 'people', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a', name: 'Ada', kind: 'x' }, { _id: 'b', name: 'Bob', kind: 'y' }, { _id: 'c', name: 'Cy', kind: 'x' }] } };
  const fromPeople = (id: string, sink: Record<string, unknown>) => ({ _id: id, type: 'pipe', source: { type: 'dataset', dataset: 'people' }, sink });
  return [
    people,
    { _id: 'names', type: 'pipe', source: { type: 'dataset', dataset: 'people' }, transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'upper', ['upper', '_S.name']]] } } },
    { _id: 'things', type: 'pipe', source: { type: 'dataset', dataset: 'people' }, sink: { type: 'dataset', indexes: ['_S.kind'] } },
    fromPeople('people-json', { type: 'http_endpoint' }),
    fromPeople('people-csv', { type: 'csv_endpoint', columns: ['_id', 'name'] }),
    { ...fromPeople('people-xml', { type: 'xml_endpoint', wrapper: 'people' }), transform: { type: 'dtl', rules: { default: [['add', '<person>', '_S.name']] } } },
    { _id: 'inbox', type: 'pipe', source: { type: 'http_endpoint' } },
    { _id: 'guarded-source', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'a', v: 1 }, { _id: 'b', v: 1 }] } },
    { _id: 'guarded', type: 'pipe', source: { type: 'dataset', dataset: 'guarded-source' }, sink: { type: 'dataset', circuit_breaker_threshold_count: 1 }, pump: { mode: 'manual' } },
    { _id: 'echo', type: 'system:url', url_pattern: `http://127.0.0.1:${echoPort}/api/%s` },
  ];
}

/** A stand-in for the server behind the URL system: answers every request with what it got. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body }));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-probe-'));
  const { server, port: echoPort } = await echoServer();
  const logger = pino({ level: 'silent' });
  const rt = await SluiceRuntime.open({ store: new EmbeddedStore({ dataDir }), logger, schedule: false });
  const port = await freePort();
  const app = await startApi(rt, { port, host: '127.0.0.1', logger });
  const base = `http://127.0.0.1:${port}`;

  const call: ProbeContext['call'] = async (c: Call) => {
    const headers: Record<string, string> = { ...c.headers };
    let body: string | Uint8Array | undefined;
    if (c.raw) {
      headers['content-type'] = c.raw.type;
      body = c.raw.data;
    } else if (c.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(c.body);
    }
    const res = await fetch(base + c.path, { method: c.method, headers, body });
    const type = res.headers.get('content-type') ?? '';
    const text = /json|text|xml|csv/.test(type) ? await res.text() : `<${(await res.arrayBuffer()).byteLength} bytes>`;
    return { status: res.status, type, text };
  };
  const run = async (pipe: string) => {
    await call({ method: 'POST', path: `/api/pipes/${encodeURIComponent(pipe)}/pump`, raw: { type: 'application/x-www-form-urlencoded', data: 'operation=start' } });
    for (;;) {
      const pump = JSON.parse((await call({ method: 'GET', path: `/api/pipes/${encodeURIComponent(pipe)}/pump` })).text) as { runtime: { 'is-running': boolean } };
      if (!pump.runtime['is-running']) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const ctx: ProbeContext = { call, run };

  /** What a refused request must not change. */
  const snapshot = async (): Promise<string> => {
    const parts = await Promise.all(['/api/config-all', '/api/env', '/api/secrets', '/api/systems/echo/secrets', '/api/models', '/api/metadata'].map(async (p) => (await call({ method: 'GET', path: p })).text));
    const datasets = JSON.parse((await call({ method: 'GET', path: '/api/datasets' })).text) as { _id: string; runtime: Record<string, unknown> }[];
    const pipes = JSON.parse((await call({ method: 'GET', path: '/api/pipes' })).text) as { _id: string; runtime: Record<string, unknown> }[];
    return JSON.stringify([parts, datasets.map((d) => [d._id, d.runtime['last-offset'], d.runtime['count-index-exists']]), pipes.map((p) => [p._id, p.runtime['is-disabled']])]);
  };

  try {
    const put = await call({ method: 'PUT', path: '/api/config', body: fixture(echoPort) });
    if (put.status !== 200) throw new Error(`the probe's config was refused: ${put.text}`);
    for (const p of ['people', 'names', 'things', 'guarded-source', 'guarded']) await run(p);

    const doc = JSON.parse((await call({ method: 'GET', path: '/api/openapi.json' })).text) as Doc;
    const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
    ajv.addSchema({ $id: 'sluice-openapi', components: doc.components });
    const validators = new Map<string, ValidateFunction>();
    const validatorFor = (schema: unknown): ValidateFunction => {
      const key = JSON.stringify(schema);
      let v = validators.get(key);
      if (!v) validators.set(key, (v = ajv.compile(JSON.parse(key.replace(/"#\/components\//g, '"sluice-openapi#/components/')) as object)));
      return v;
    };
    /** The documented success answers of the Sluice route behind a request. */
    const documentedFor = (method: string, path: string) => {
      const route = Object.keys(doc.paths).find((p) => new RegExp(`^${p.replace(/\{rest_of_path\}/, '.+').replace(/\{[^}]+\}/g, '[^/]+')}/?$`).test(path.split('?')[0]) && doc.paths[p][method.toLowerCase()]);
      return route ? doc.paths[route][method.toLowerCase()].responses : null;
    };

    const counts = { operations: 0, answer_as_documented: 0, bad_inputs: 0, refused_cleanly: 0, written_by_refused: 0 };
    const leftOut: { op: string; why: string }[] = [];
    const problems: string[] = [];
    for (const o of OPERATIONS) {
      if (o.leftOut) {
        leftOut.push({ op: o.op, why: o.leftOut });
        continue;
      }
      counts.operations++;
      await o.setup?.(ctx);
      const valid = o.valid!;
      const r = await call(valid);
      const documented = documentedFor(valid.method, valid.path);
      const answer = documented?.[String(r.status)];
      let ok = !!answer && r.status < 300;
      let why = ok ? '' : `status ${r.status} is not a documented success`;
      const content = answer?.content;
      if (ok && content) {
        const [type, { schema }] = Object.entries(content)[0];
        if (type === 'application/json') {
          let value: unknown;
          try {
            value = JSON.parse(r.text);
          } catch {
            ok = false;
            why = 'the body is not JSON';
          }
          const check = ok ? validatorFor(schema) : null;
          if (check && !check(value)) {
            ok = false;
            why = `the body does not match the documented schema: ${ajv.errorsText(check.errors)}`;
          }
        } else if (!r.type.startsWith(type)) {
          ok = false;
          why = `content type ${r.type}, documented ${type}`;
        }
      }
      if (ok) counts.answer_as_documented++;
      else problems.push(`${o.op}: ${valid.method} ${valid.path}: ${why} (${r.text.slice(0, 200)})`);
      if (verbose && !asJson) console.log(`${ok ? 'ok  ' : 'FAIL'} ${o.op} -> ${r.status}`);

      for (const bad of o.invalid ?? []) {
        counts.bad_inputs++;
        const before = await snapshot();
        const b = await call(bad);
        const after = await snapshot();
        let clean = b.status >= 400 && b.status < 500;
        if (clean) {
          try {
            const e = (JSON.parse(b.text) as { error?: { code?: unknown; message?: unknown } }).error;
            clean = typeof e?.code === 'string' && typeof e.message === 'string' && e.message.length > 0;
          } catch {
            clean = false;
          }
        }
        if (clean) counts.refused_cleanly++;
        else problems.push(`${o.op}: invalid ${bad.method} ${bad.path} answered ${b.status}: ${b.text.slice(0, 200)}`);
        if (before !== after) {
          counts.written_by_refused++;
          problems.push(`${o.op}: invalid ${bad.method} ${bad.path} changed the node`);
        }
      }
    }

    if (!asJson) {
      console.log(`Sesam's published API description: ${OPERATIONS.length} operations; ${counts.operations} apply to a Sluice node, ${leftOut.length} are left out:`);
      for (const l of leftOut) console.log(`  - ${l.op}: ${l.why}`);
    }
    for (const p of problems) console.log(`problem: ${p}`);
    console.log(JSON.stringify({ probe: 'api', ...counts }));
    process.exitCode = problems.length ? 1 : 0;
  } finally {
    await app.close();
    await rt.close();
    server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
