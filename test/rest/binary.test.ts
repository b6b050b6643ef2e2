/** The binary source reading another Sluice node's dataset over its API. */
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startApi } from '../../runtime/api/app.js';
import { configure, quietLogger } from '../support/runtime.js';
import { latest, onCleanup, runtime } from './support.js';

describe('binary source', () => {
  it('reads a remote dataset in pages and continues from _updated', async () => {
    const remote = await runtime();
    const app = await startApi(remote, { port: 0, host: '127.0.0.1', logger: quietLogger, processMetrics: false });
    onCleanup(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api`;
    const people = (entities: Record<string, unknown>[]) => ({ _id: 'people', type: 'pipe', source: { type: 'embedded', entities } });
    await configure(remote, [people([{ _id: 'a', kind: 'x' }, { _id: 'b', kind: 'y' }, { _id: 'c', kind: 'x' }])]);
    expect(await remote.runPipe('people')).toMatchObject({ status: 'completed', written: 3 });

    const local = await runtime();
    await configure(local, [
      { _id: 'remote', type: 'system:url', url_pattern: `${base}/%s` },
      { _id: 'copy', type: 'pipe', source: { type: 'binary', system: 'remote', url: 'datasets/people/entities', page_size: 2 } },
    ]);
    expect(await local.runPipe('copy')).toMatchObject({ status: 'completed', read: 3 });
    expect((await latest(local, 'copy')).map((e) => e._id)).toEqual(['a', 'b', 'c']);
    await configure(remote, [people([{ _id: 'a', kind: 'x' }, { _id: 'b', kind: 'z' }, { _id: 'c', kind: 'x' }])]);
    expect(await remote.runPipe('people')).toMatchObject({ status: 'completed', written: 1 });
    expect(await local.runPipe('copy')).toMatchObject({ status: 'completed', read: 1 });
    expect((await local.store.get('copy', 'b'))!.kind).toBe('z');
  });
});
