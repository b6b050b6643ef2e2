/**
 * Secrets a pipe's own config names, as real projects write them: the key of a DTL `encrypt` that
 * protects personal data (`["encrypt", "$SECRET(hr-encryption-key)", ...]`). The pipe gets the
 * secret's value, never the reference text; without the secret it does not run at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, configure, openRuntime } from '../support/runtime.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';

let rt: SluiceRuntime;
afterEach(async () => rt?.close());

const staff = {
  _id: 'staff',
  type: 'pipe',
  source: { type: 'embedded', entities: [{ _id: 'e1', name: 'Ada', ssn: '01017012345' }] },
  transform: {
    type: 'dtl',
    rules: {
      default: [
        ['copy', '_id'],
        ['copy', 'name'],
        ['add', 'ssn', ['encrypt', '$SECRET(hr-encryption-key)', '_S.ssn']],
        // Only the secret's value opens what was encrypted with it.
        ['add', 'readable', ['decrypt', 'k"ey\\with quotes', '_T.ssn']],
      ],
    },
  },
};

async function latest(dataset: string): Promise<Record<string, unknown>[]> {
  return (await collect(rt.store.scan(dataset))) as Record<string, unknown>[];
}

describe('a secret named in a pipe', () => {
  it('is substituted when the pipe is built, also inside DTL string literals and whatever characters it holds', async () => {
    rt = await openRuntime();
    await rt.setSecrets({ 'hr-encryption-key': 'k"ey\\with quotes' }, false);
    await configure(rt, [staff]);
    const outcome = await rt.runPipe('staff');
    expect(outcome.status, outcome.error).toBe('completed');
    const [entity] = await latest('staff');
    expect(entity.readable).toBe('01017012345');
    // The plan keeps the reference; only the built pipe has the value.
    expect(JSON.stringify(rt.plan!.pipes[0].transforms[0].dtl)).toContain('$SECRET(hr-encryption-key)');
  });

  it('that is not set keeps the pipe from running, naming the secret; once set, the pipe runs', async () => {
    rt = await openRuntime();
    await configure(rt, [staff]);
    expect(rt.diagnostics.map((d) => `${d.severity} ${d.code}`)).toEqual(['warning CONFIG_SECRET_UNRESOLVED']);
    await expect(rt.runPipe('staff')).rejects.toThrow('pipe "staff": the secret "hr-encryption-key" is not set (set it with PUT /api/secrets)');
    expect(await latest('staff')).toEqual([]);
    await rt.setSecrets({ 'hr-encryption-key': 'k"ey\\with quotes' }, false);
    expect((await rt.runPipe('staff')).status).toBe('completed');
    expect((await latest('staff'))[0].readable).toBe('01017012345');
  });

  it('that changes rebuilds the pipe with the new value', async () => {
    rt = await openRuntime();
    await rt.setSecrets({ 'hr-encryption-key': 'k"ey\\with quotes' }, false);
    await configure(rt, [staff]);
    expect((await rt.runPipe('staff')).status).toBe('completed');
    await rt.setSecrets({ 'hr-encryption-key': 'rotated' }, false);
    await rt.pump('staff')!.operation('reset', {});
    const outcome = await rt.runPipe('staff');
    // The old key no longer opens what the pipe now encrypts.
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toContain('could not be decrypted');
  });
});
