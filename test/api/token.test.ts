import { afterEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { parseDuration } from '../../cli/commands/token.js';
import { sluice } from '../support/cli.js';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
afterEach(async () => api?.close());

const secret = 'a-node-secret-that-is-long-enough-for-hs256';

describe('sluice token', () => {
  it('mints a token the node started with --jwt-secret accepts, always with an expiry', async () => {
    const r = sluice(['token', '--jwt-secret', secret, '--sub', 'ada@example.org', '--expires', '2h', '--claim', 'role=dev']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const token = r.stdout.trim();
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 'ada@example.org', role: 'dev' });
    expect(claims.exp! - claims.iat!).toBe(7200);

    api = await startTestApi({ auth: { jwtSecret: secret } });
    expect((await api.call('GET', '/api/pipes', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const other = sluice(['token'], { env: { SLUICE_JWT_SECRET: 'some-other-secret-of-a-good-length!!' } }).stdout.trim();
    expect((await api.call('GET', '/api/pipes', { headers: { authorization: `Bearer ${other}` } })).status).toBe(401);
  });

  it('refuses a missing secret and a bad duration', () => {
    const none = sluice(['token'], { env: { SLUICE_JWT_SECRET: '' } });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/--jwt-secret/);
    const bad = sluice(['token', '--jwt-secret', secret, '--expires', 'forever']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/not a duration/);
    expect([parseDuration('30d'), parseDuration('15m'), parseDuration('90'), parseDuration('0s'), parseDuration('1y')]).toEqual([2_592_000, 900, 90, null, null]);
  });
});
