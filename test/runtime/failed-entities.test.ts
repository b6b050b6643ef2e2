/**
 * Entities a pipe cannot write are never dropped silently: the run counts them, the execution log
 * has each one with its id and the reason, the pipe's status says so, and `sluice test` shows it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configure, openRuntime, tempDir } from '../support/runtime.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { pipeView } from '../../runtime/service/views.js';
import { runLocalTest } from '../../runtime/testing/local.js';

let rt: SluiceRuntime;
afterEach(async () => rt?.close());

const members = { _id: 'members', type: 'pipe', source: { type: 'embedded', entities: [{ _id: 'm1', name: 'Ada' }, { _id: 'm2', name: 'Grace', number: '2' }, { _id: 'm3', name: 'Linus' }] } };
/** `_id` comes from a property only one member has: the other two end up without an id. */
const renumbered = {
  _id: 'renumbered',
  type: 'pipe',
  source: { type: 'dataset', dataset: 'members' },
  transform: { type: 'dtl', rules: { default: [['add', '_id', '_S.number'], ['add', 'name', '_S.name']] } },
};
const NO_ID = 'the target entity has no string "_id"';

async function runtimeMessage(id: string): Promise<string> {
  const view = (await pipeView(rt, id)) as unknown as { runtime: Record<string, unknown> };
  return String(view.runtime['last-message']);
}

describe('entities a pipe cannot write', () => {
  it('with the default pump settings fail the run, naming the entity and the reason', async () => {
    rt = await openRuntime();
    await configure(rt, [members, renumbered]);
    await rt.runPipe('members');
    const outcome = await rt.runPipe('renumbered');
    expect(outcome).toMatchObject({ status: 'failed', read: 3, failed: 1 });
    expect(outcome.error).toContain(`entity "m1"`);
    expect(outcome.error).toContain(NO_ID);
    expect(await runtimeMessage('renumbered')).toContain('entity "m1"');
    const log = await rt.log.entries('renumbered');
    expect(log.find((e) => e._id === 'write-error:m1')).toMatchObject({ event_type: 'write-error', entity: { _id: 'm1' } });
    expect(String(log.find((e) => e._id === 'write-error:m1')!.original_error_message)).toContain(NO_ID);
    expect(log.find((e) => e._id === 'pump-failed')).toMatchObject({ entities_failed: 1 });
  });

  it('that the pump puts aside for retries are counted, logged one by one and keep the status from saying OK', async () => {
    rt = await openRuntime();
    const tolerant = { ...renumbered, pump: { max_write_errors_in_retry_dataset: 10, max_consecutive_write_errors: 100 } };
    await configure(rt, [members, tolerant]);
    await rt.runPipe('members');
    const outcome = await rt.runPipe('renumbered');
    expect(outcome).toMatchObject({ status: 'completed', read: 3, written: 1, failed: 2 });
    expect(outcome.failures!.map((f) => f.entity)).toEqual(['m1', 'm3']);
    const message = await runtimeMessage('renumbered');
    expect(message).not.toBe('OK');
    expect(message).toMatch(/^2 failed: entity "m1": .*; entity "m3": /);
    const log = await rt.log.entries('renumbered');
    expect(log.filter((e) => e.event_type === 'write-error').map((e) => e._id).sort()).toEqual(['write-error:m1', 'write-error:m3']);
    expect(log.find((e) => e._id === 'pump-completed')).toMatchObject({ entities_failed: 2, retry_entities_exist: true });
  });

  it('are shown by sluice test', async () => {
    const dir = tempDir('sluice-failed-');
    mkdirSync(join(dir, 'pipes'));
    mkdirSync(join(dir, 'expected'));
    writeFileSync(join(dir, 'test-env.json'), '{}');
    const tolerant = { ...renumbered, pump: { max_write_errors_in_retry_dataset: 10, max_consecutive_write_errors: 100 } };
    const endpoint = { _id: 'renumbered-endpoint', type: 'pipe', source: { type: 'dataset', dataset: 'renumbered' }, sink: { type: 'http_endpoint' } };
    for (const p of [members, tolerant, endpoint]) writeFileSync(join(dir, 'pipes', `${p._id}.conf.json`), JSON.stringify(p));
    writeFileSync(join(dir, 'expected', 'renumbered-endpoint.json'), JSON.stringify([{ _id: '2', name: 'Grace' }]));
    const progress: string[] = [];
    const warnings: string[] = [];
    const result = await runLocalTest(dir, { progress: (l) => progress.push(l), report: { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined } });
    expect(progress.some((l) => /^Pipe 'renumbered' full run: read 3, written 1, 2 failed \(entity "m1": .*the target entity has no string "_id"/.test(l))).toBe(true);
    expect(warnings).toContain(`pipe 'renumbered': 2 entities failed to be written (see the pipe's execution log)`);
    expect(result.ok).toBe(true);
  });
});
