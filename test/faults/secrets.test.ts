/**
 * Defect 3: secret values never surface. Secrets are planted in every place a config can hold one
 * (a system's URL user info and query string, headers, basic auth, a JWT, OAuth2 client
 * credentials), the pipes fail against a server that echoes what it got and against a closed port,
 * and then every API answer and every line the server logged is searched for the values, in every
 * spelling they could take (as is, percent-encoded, form-encoded, JSON-escaped). The JWT secret of
 * the API comes from a file and is searched for too. Tokens without an expiry are refused unless
 * allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { unzipSync } from 'fflate';
import { sluiceBin } from '../support/cli.js';
import { tempDir } from '../support/runtime.js';
import { freePort } from '../../scripts/test-services/ports.js';
import { startTestApi } from '../api/support.js';
import { startChild, type Child } from './child.js';

const secrets = {
  pass: 'Hunter2-pass@word',
  token: 'tok en/Quebec+7&x=1',
  key: 'Key-Bravo-"quoted"-9915',
  jwt: 'jwt.Charlie.0042',
  client: 'client Secret: Delta!',
};
const jwtSecret = 'the-api-signing-key-Echo-5541';

/** Every spelling a value could be written in. */
function spellings(value: string): string[] {
  const query = new URLSearchParams({ v: value }).toString().slice(2);
  const user = new URL('http://host/');
  user.password = value;
  const out = new Set([value, encodeURIComponent(value), encodeURI(value), query, user.password, Buffer.from(value).toString('base64')]);
  for (const v of [...out]) out.add(JSON.stringify(v).slice(1, -1));
  return [...out];
}

let echo: Server;
let child: Child;
let base: string;
let auth: Record<string, string>;
const seen: { what: string; text: string }[] = [];

async function get(path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<string> {
  const r = await fetch(base + path, { method: init.method ?? 'GET', body: init.body, headers: { ...auth, ...init.headers } });
  const type = r.headers.get('content-type') ?? '';
  let text: string;
  if (type.includes('zip')) {
    text = Object.entries(unzipSync(new Uint8Array(await r.arrayBuffer())))
      .map(([name, bytes]) => `${name}\n${new TextDecoder().decode(bytes)}`)
      .join('\n');
  } else text = await r.text();
  seen.push({ what: `${init.method ?? 'GET'} ${path} (${r.status})`, text });
  return text;
}

beforeAll(async () => {
  // Answers 500 with everything it was sent: an error message quoting the answer would carry it all.
  echo = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`you sent ${req.method} ${req.url} ${JSON.stringify(req.headers)} ${body}`);
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const port = (echo.address() as { port: number }).port;
  const closed = await freePort();

  const dir = tempDir('sluice-secrets-');
  mkdirSync(join(dir, 'pipes'));
  mkdirSync(join(dir, 'systems'));
  const system = (id: string, config: Record<string, unknown>) => writeFileSync(join(dir, 'systems', `${id}.conf.json`), JSON.stringify({ _id: id, type: 'system:url', ...config }, null, 2));
  system('echo', { url_pattern: `http://user:$SECRET(pass)@127.0.0.1:${port}/%s?token=$SECRET(token)`, headers: { 'X-Api-Key': '$SECRET(key)' } });
  system('bearer', { url_pattern: `http://127.0.0.1:${port}/%s`, authentication: 'jwt', jwt_token: '$SECRET(jwt)' });
  system('oauth', { url_pattern: `http://127.0.0.1:${port}/%s`, oauth2: { client_id: 'sluice', client_secret: '$SECRET(client)', token_url: `http://127.0.0.1:${port}/token?key=$SECRET(key)` } });
  system('closed', { url_pattern: `http://127.0.0.1:${closed}/%s?apikey=$SECRET(token)`, authentication: 'basic', username: 'u', password: '$SECRET(pass)' });
  for (const s of ['echo', 'bearer', 'oauth', 'closed']) {
    writeFileSync(join(dir, 'pipes', `from-${s}.conf.json`), JSON.stringify({ _id: `from-${s}`, type: 'pipe', source: { type: 'json', system: s, url: 'items' }, pump: { mode: 'manual' } }));
  }
  writeFileSync(join(dir, 'jwt-secret'), jwtSecret + '\n');
  child = startChild([sluiceBin, 'run', dir, '--port', '0', '--data-dir', join(dir, '.data'), '--jwt-secret-file', join(dir, 'jwt-secret'), '--log-level', 'debug']);
  base = `http://127.0.0.1:${/:(\d+)\/api/.exec(await child.line(/serving .* at http/))![1]}`;
  const token = await new SignJWT({ sub: 'tester' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(jwtSecret));
  auth = { authorization: `Bearer ${token}` };
}, 60_000);

afterAll(async () => {
  await child?.kill();
  await new Promise((r) => echo?.close(r));
});

describe('secret values', () => {
  it('appear in no API answer and no log line after the pipes using them failed', async () => {
    await get('/api/secrets', { method: 'PUT', body: JSON.stringify(secrets), headers: { 'content-type': 'application/json' } });
    const pipes = ['from-echo', 'from-bearer', 'from-oauth', 'from-closed'];
    for (const p of pipes) {
      await get(`/api/pipes/${p}/pump`, { method: 'POST', body: 'operation=start', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      for (;;) {
        const pump = JSON.parse(await get(`/api/pipes/${p}/pump`));
        if (pump.runtime['is-running'] === false && pump.runtime['last-run-status'] !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    for (const p of pipes) {
      await get(`/api/pipes/${p}`);
      await get(`/api/pipes/${p}/log?history=true`);
      await get(`/api/datasets/${encodeURIComponent(`system:pump_execution:${p}`)}/entities`);
      await get(`/api/pipes/${p}/entities`);
      await get(`/api/pipes/${p}/config`);
    }
    for (const s of ['echo', 'bearer', 'oauth', 'closed']) {
      await get(`/api/systems/${s}`);
      await get(`/api/systems/${s}/config`);
    }
    for (const path of ['/api', '/api/status', '/api/pipes', '/api/systems', '/api/datasets', '/api/config', '/api/env', '/api/secrets', '/metrics']) await get(path);
    await get('/api/config', { headers: { accept: 'application/zip' } });

    // The failures happened, and their messages were kept (with the secrets masked).
    const message = (pipe: string) => JSON.parse(seen.find((s) => s.what.startsWith(`GET /api/pipes/${pipe} (`))!.text).runtime['last-message'] as string;
    expect(message('from-echo')).toContain('token=********');
    expect(message('from-bearer')).toMatch(/answered 500.*"authorization":"Bearer \*{8}"/);

    const logged = child.lines.join('\n') + '\n' + child.stderr();
    expect(logged).toMatch(/pipe run failed/);
    const places = [...seen, { what: 'the server log', text: logged }];
    for (const value of [...Object.values(secrets), jwtSecret]) {
      for (const spelling of spellings(value)) {
        const leaks = places.filter((p) => p.text.includes(spelling)).map((p) => p.what);
        expect(leaks, `"${spelling}" (a spelling of a secret) was found in`).toEqual([]);
      }
    }
  }, 120_000);
});

describe('tokens', () => {
  it('without an expiry are refused unless allowed', async () => {
    const key = 'a-signing-key-for-tokens';
    const sign = (exp: boolean) => {
      const jwt = new SignJWT({ sub: 'someone' }).setProtectedHeader({ alg: 'HS256' });
      return (exp ? jwt.setExpirationTime('5m') : jwt).sign(new TextEncoder().encode(key));
    };
    const strict = await startTestApi({ auth: { jwtSecret: key } });
    try {
      const refused = await strict.call('GET', '/api/pipes', { headers: { authorization: `Bearer ${await sign(false)}` } });
      expect(refused.status).toBe(401);
      expect(refused.json.error.message).toMatch(/the token has no expiry \("exp" claim\).*--allow-tokens-without-expiry/);
      expect((await strict.call('GET', '/api/pipes', { headers: { authorization: `Bearer ${await sign(true)}` } })).status).toBe(200);
    } finally {
      await strict.close();
    }
    const lenient = await startTestApi({ auth: { jwtSecret: key, allowTokensWithoutExpiry: true } });
    try {
      expect((await lenient.call('GET', '/api/pipes', { headers: { authorization: `Bearer ${await sign(false)}` } })).status).toBe(200);
    } finally {
      await lenient.close();
    }
  });

  it('are checked against a JWT secret from the environment', async () => {
    const dir = tempDir('sluice-jwt-env-');
    mkdirSync(join(dir, 'pipes'));
    const key = 'key-from-the-environment';
    const c = startChild([sluiceBin, 'run', dir, '--port', '0', '--data-dir', join(dir, '.data'), '--no-watch'], { env: { SLUICE_JWT_SECRET: key } });
    try {
      const url = `http://127.0.0.1:${/:(\d+)\/api/.exec(await c.line(/serving .* at http/))![1]}/api/pipes`;
      expect((await fetch(url)).status).toBe(401);
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(key));
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await c.kill();
    }
  }, 60_000);
});
