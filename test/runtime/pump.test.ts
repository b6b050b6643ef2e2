import { afterEach, describe, expect, it } from 'vitest';
import { collect, configure, openRuntime, openTestStore } from '../support/runtime.js';
import type { Store } from '../../runtime/store/contract.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { nextCronTime, parseCron, validateCron } from '../../compiler/plan/cron.js';

let rt: SluiceRuntime;
afterEach(async () => rt?.close());

const source = (entities: unknown[], extra: Record<string, unknown> = {}) => ({ _id: 'src', type: 'pipe', source: { type: 'embedded', entities }, pump: { schedule_interval: 3600 }, ...extra });
const copyPipe = (extra: Record<string, unknown> = {}) => ({
  _id: 'copy',
  type: 'pipe',
  source: { type: 'dataset', dataset: 'src' },
  transform: { type: 'dtl', rules: { default: [['copy', '*']] } },
  pump: { schedule_interval: 3600 },
  ...extra,
});

async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pumps and scheduling', () => {
  it('runs a never-run pipe at once and signals downstream pipes when their input changes', async () => {
    rt = await openRuntime({ schedule: true });
    await configure(rt, [source([{ _id: 'a' }, { _id: 'b' }]), copyPipe()]);
    await until(async () => (await rt.store.datasetInfo('copy'))?.entityCount === 2);
    // Now a change upstream reaches the copy through a signal, long before its hourly schedule.
    await configure(rt, [source([{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }]), copyPipe()]);
    await rt.runPipe('src');
    await until(async () => (await rt.store.datasetInfo('copy'))?.entityCount === 3);
  });

  it('keeps a signal that arrives while a finished run reads back its state', async () => {
    const store = await openTestStore();
    let onCopyState: (() => void) | null = null;
    // A store that is slow to answer the pipe state gives the signal a window to arrive in.
    const slow = new Proxy(store, {
      get(target, key) {
        if (key === 'getPipeState') {
          return async (id: string) => {
            if (id === 'copy') onCopyState?.();
            await new Promise((r) => setTimeout(r, 100));
            return target.getPipeState(id);
          };
        }
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Store;
    rt = await openRuntime({ store: slow, schedule: true });
    await configure(rt, [source([{ _id: 'a' }]), copyPipe()]);
    const pump = rt.pump('copy')!;
    await until(async () => (await rt.store.datasetInfo('copy'))?.entityCount === 1 && !pump.active && !rt.pump('src')!.active);
    const completed = async () => (await rt.log.entries('copy', { limit: 100 })).filter((e) => e.event_type === 'pump-completed').length;
    const before = pump.lastOutcome;
    onCopyState = () => {
      // Only the read after the run has ended: the run's outcome is known by then.
      if (pump.lastOutcome === before) return;
      onCopyState = null;
      rt.scheduler.signal('src');
    };
    await rt.runPipe('copy');
    const afterManualRun = await completed();
    // The signal runs the copy again now, not at its hourly schedule.
    await until(async () => (await completed()) > afterManualRun, 5000);
    expect(onCopyState).toBeNull();
  });

  it('runs on its interval and not while disabled', async () => {
    rt = await openRuntime({ schedule: true });
    await configure(rt, [source([{ _id: 'a' }], { pump: { schedule_interval: 0.3 } })]);
    await until(async () => (await rt.log.entries('src', { limit: 100 })).filter((e) => e.event_type === 'pump-completed').length >= 3);
    await rt.pump('src')!.operation('disable', {});
    await until(() => !rt.pump('src')!.running);
    const before = (await rt.log.entries('src', { limit: 1000 })).filter((e) => e.event_type === 'pump-completed').length;
    await new Promise((r) => setTimeout(r, 1000));
    const after = (await rt.log.entries('src', { limit: 1000 })).filter((e) => e.event_type === 'pump-completed').length;
    expect(after).toBe(before);
    await rt.pump('src')!.operation('enable', {});
    await until(async () => (await rt.log.entries('src', { limit: 1000 })).filter((e) => e.event_type === 'pump-completed').length > after);
  });

  it('fails the run on an entity error by default, without moving the offset past it', async () => {
    rt = await openRuntime();
    await configure(rt, [source([{ _id: 'a', ok: true }, { _id: 'b', ok: false }, { _id: 'c', ok: true }]), copyPipe({ transform: { type: 'dtl', rules: { default: [['if', '_S.ok', ['copy', '*']]] } } })]);
    await rt.runPipe('src');
    const outcome = await rt.runPipe('copy');
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toContain('entity "b"');
    const log = await rt.log.entries('copy');
    expect(log[0]).toMatchObject({ event_type: 'pump-failed' });
    expect(log.some((e) => e._id === 'write-error:b')).toBe(true);
    expect((await rt.store.getPipeState('copy'))!.last_seen).toBeNull();
  });

  it('keeps failing entities for retries and then moves them to the dead letter dataset', async () => {
    rt = await openRuntime();
    const pump = { schedule_interval: 3600, max_write_errors_in_retry_dataset: 10, max_retries_per_entity: 2, dead_letter_dataset: 'copy-dead' };
    await configure(rt, [source([{ _id: 'a', ok: true }, { _id: 'b', ok: false }]), copyPipe({ pump, transform: { type: 'dtl', rules: { default: [['if', '_S.ok', ['copy', '*']]] } } })]);
    await rt.runPipe('src');
    const first = await rt.runPipe('copy');
    expect(first).toMatchObject({ status: 'completed', failed: 1 });
    expect((await rt.store.getPipeState('copy'))!.retries).toHaveLength(1);
    await rt.runPipe('copy');
    await rt.runPipe('copy');
    expect((await rt.store.getPipeState('copy'))!.retries).toHaveLength(0);
    expect((await rt.store.get('copy-dead', 'b'))).toMatchObject({ _id: 'b', ok: false });
    const events = await rt.log.entries('copy', { limit: 100 });
    expect(events.find((e) => e._id === 'write-error:b' && e.dead === true)).toBeTruthy();
  });

  it('resets to a full rescan that deletes what the source no longer has', async () => {
    rt = await openRuntime();
    await rt.setEnv({ hidden: 'none' }, true);
    await configure(rt, [source([{ _id: 'a' }, { _id: 'b' }]), copyPipe({ transform: { type: 'dtl', rules: { default: [['copy', '*'], ['filter', ['neq', '_S._id', '$ENV(hidden)']]] } } })]);
    await rt.runPipe('src');
    await rt.runPipe('copy');
    expect((await rt.store.datasetInfo('copy'))!.entityCount).toBe(2);
    await rt.setEnv({ hidden: 'b' }, true);
    await rt.pump('copy')!.operation('reset', {});
    const r = await rt.runPipe('copy');
    expect(r.syncType).toBe('full');
    expect((await rt.store.get('copy', 'b'))!._deleted).toBe(true);
    expect((await rt.store.get('copy', 'a'))!._deleted).toBe(false);
  });

  it('compacts the sink dataset to the configured number of versions', async () => {
    rt = await openRuntime();
    for (let v = 1; v <= 4; v++) {
      await configure(rt, [{ ...source([{ _id: 'a', v }]), compaction: { keep_versions: 2 } }]);
      await rt.runPipe('src');
    }
    expect((await rt.store.history('src', 'a')).map((e) => e.v)).toEqual([3, 4]);
  });

  it('answers update-last-seen and refuses an unknown operation', async () => {
    rt = await openRuntime();
    await configure(rt, [source([{ _id: 'a' }]), copyPipe()]);
    await rt.runPipe('src');
    await rt.pump('copy')!.operation('update-last-seen', { 'last-seen': '1' });
    expect((await rt.runPipe('copy')).read).toBe(0);
    await expect(rt.pump('copy')!.operation('explode', {})).rejects.toThrow(/doesn't support the operation/);
    expect((await collect(rt.store.scan('system:pump_execution:copy', { history: true }))).some((e) => e.event_type === 'pump-offset-set')).toBe(true);
  });
});

describe('cron expressions', () => {
  it('finds the next time in UTC, with lists, ranges, steps, names and L', () => {
    const next = (expr: string, from: string) => nextCronTime(parseCron(expr), new Date(from))!.toISOString();
    expect(next('0 12 * * ?', '2024-03-05T13:00:00Z')).toBe('2024-03-06T12:00:00.000Z');
    expect(next('0/5 14,18 * * ?', '2024-03-05T14:07:30Z')).toBe('2024-03-05T14:10:00.000Z');
    expect(next('15 10 ? * MON-FRI', '2024-03-08T11:00:00Z')).toBe('2024-03-11T10:15:00.000Z');
    expect(next('15 10 L * ?', '2024-02-01T00:00:00Z')).toBe('2024-02-29T10:15:00.000Z');
    expect(next('15 10 ? * 5L', '2024-03-01T00:00:00Z')).toBe('2024-03-29T10:15:00.000Z');
    expect(next('15 10 * * ? 2030', '2024-03-01T00:00:00Z')).toBe('2030-01-01T10:15:00.000Z');
    expect(validateCron('61 * * * *')).toMatch(/outside/);
    expect(validateCron('* * * *')).toMatch(/5 or 6 fields/);
    expect(validateCron('0 0 1W * ?')).toMatch(/not supported/);
  });
});
