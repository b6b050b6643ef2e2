/**
 * Compaction of the embedded store after a first compaction looks only at the entities written
 * since (runtime/store/embedded/store.ts compactWrittenSince). It must leave exactly the versions
 * a compaction of the whole log leaves: here one store compacts as a long-running runtime does,
 * and a second store with the same writes is reopened before each compaction (so it always
 * compacts the whole log); their histories are compared after every step.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entity } from '../../compiler/values/types.js';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { tempDir } from '../support/runtime.js';

const dirs: string[] = [];
const open: EmbeddedStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newStore(dir = tempDir('sluice-compaction-')): EmbeddedStore {
  if (!dirs.includes(dir)) dirs.push(dir);
  const s = new EmbeddedStore({ dataDir: dir });
  open.push(s);
  return s;
}

const IDS = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('embedded store compaction after the first one', () => {
  it('leaves the same versions as compacting the whole log, whatever was written in between', async () => {
    const kept = newStore();
    const refDir = tempDir('sluice-compaction-ref-');
    let reference = newStore(refDir);
    const both = async (f: (s: EmbeddedStore) => Promise<unknown>) => {
      await f(kept);
      await f(reference);
    };
    const write = (entities: Entity[]) => both((s) => s.write('d', entities));
    const compact = async (options: { keepVersions: number; upTo?: number }) => {
      // The reference forgets what it compacted before: it compacts its whole log.
      await reference.close();
      open.splice(open.indexOf(reference), 1);
      reference = newStore(refDir);
      const removed = await kept.compact('d', options);
      expect(removed).toBe(await reference.compact('d', options));
      for (const id of IDS) {
        const versions = (s: EmbeddedStore) => s.history('d', id).then((h) => h.map((e) => [e._updated, e.n ?? null, e._deleted === true]));
        expect(await versions(kept), `${id} after compact(${JSON.stringify(options)})`).toEqual(await versions(reference));
      }
      expect((await kept.datasetInfo('d'))?.versionCount).toBe((await reference.datasetInfo('d'))?.versionCount);
      return removed;
    };

    await write(IDS.map((id) => ({ _id: id, n: 1 })));
    await compact({ keepVersions: 2 });
    // Entities written several times, once, deleted, or not at all since.
    for (let n = 2; n <= 5; n++) await write([{ _id: 'a', n }]);
    await write([{ _id: 'b', n: 2 }]);
    await write([{ _id: 'c', n: 1, _deleted: true }]);
    expect(await compact({ keepVersions: 2 })).toBe(3);
    // A limit holds versions back; the next compaction without one still reaches them.
    await write([{ _id: 'd', n: 2 }]);
    const upTo = (await kept.get('d', 'd'))!._updated;
    await write([{ _id: 'd', n: 3 }]);
    await write([{ _id: 'd', n: 4 }]);
    await compact({ keepVersions: 1, upTo });
    await compact({ keepVersions: 2 });
    // Fewer versions to keep reaches entities that were not written since.
    expect(await compact({ keepVersions: 1 })).toBeGreaterThan(0);
    await write([{ _id: 'e', n: 2 }, { _id: 'e', n: 3 }]);
    await write([{ _id: 'f', n: 2 }]);
    await compact({ keepVersions: 3 });
    await write([{ _id: 'e', n: 4 }]);
    await compact({ keepVersions: 1 });
    expect((await kept.history('d', 'e')).map((e) => e.n)).toEqual([4]);
  });
});
