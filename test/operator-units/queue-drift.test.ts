import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../operator/queue.js';
import { conforms } from '../../operator/controllers/drift.js';
import { parseDuration, setCondition } from '../../operator/controllers/types.js';

describe('the work queue', () => {
  it('queues a key once however often it is added, and hands it to one worker at a time', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    expect(q.depth).toBe(2);
    const first = await q.get();
    expect(first).toBe('ns/a');
    // Added while being worked on: not handed out again until done, then once more.
    q.add('ns/a');
    expect(await q.get()).toBe('ns/b');
    expect(q.depth).toBe(0);
    q.done('ns/a');
    expect(await q.get()).toBe('ns/a');
    q.done('ns/a');
    q.done('ns/b');
    expect(q.depth).toBe(0);
    q.close();
    expect(await q.get()).toBeNull();
  });

  it('backs off exponentially after failures and forgets them after a success', async () => {
    // The delays are read from the queue, not from a clock: a loaded machine delays timers, never shortens them.
    const q = new WorkQueue(20, 100);
    const delivered = async () => {
      const key = await q.get();
      q.done(key!);
      return key;
    };
    expect(q.addRateLimited('k')).toBe(20);
    expect(await delivered()).toBe('k');
    expect(q.addRateLimited('k')).toBe(40);
    expect(q.addRateLimited('k')).toBe(80);
    expect(q.addRateLimited('k')).toBe(100);
    // Re-adding while a timer is pending keeps one entry: the key comes once.
    expect(await delivered()).toBe('k');
    expect(q.depth).toBe(0);
    q.forget('k');
    expect(q.addRateLimited('k')).toBe(20);
    expect(await delivered()).toBe('k');
    q.close();
  });
});

describe('drift', () => {
  it('a live object conforms when it holds everything desired (defaults may add keys; lists match item for item)', () => {
    const desired = { spec: { ports: [{ name: 'api', port: 9042 }], selector: { app: 'x' } } };
    expect(conforms({ spec: { ports: [{ name: 'api', port: 9042, protocol: 'TCP' }], selector: { app: 'x' }, clusterIP: '10.0.0.1' } }, desired)).toBe(true);
    expect(conforms({ spec: { ports: [{ name: 'api', port: 1234 }], selector: { app: 'x' } } }, desired)).toBe(false);
    expect(conforms({ spec: { ports: [{ name: 'api', port: 9042 }, { name: 'extra', port: 1 }], selector: { app: 'x' } } }, desired)).toBe(false);
    expect(conforms({ spec: { ports: [{ name: 'api', port: 9042 }] } }, desired)).toBe(false);
  });
});

describe('status helpers', () => {
  it('parses poll intervals', () => {
    expect([parseDuration('90', 60), parseDuration('45s', 60), parseDuration('5m', 60), parseDuration('1h', 60), parseDuration('500ms', 60), parseDuration(undefined, 60), parseDuration('soon', 60)]).toEqual([90, 45, 300, 3600, 0.5, 60, 60]);
  });

  it('keeps a condition\'s transition time while its status stays', () => {
    const a = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Starting', message: '' });
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'Still', message: 'x' });
    expect(b[0].lastTransitionTime).toBe(a[0].lastTransitionTime);
    expect(b[0].reason).toBe('Still');
  });
});
