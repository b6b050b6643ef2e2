/**
 * Dataset access for DTL joins. Compiled DTL is synchronous. The embedded store answers
 * synchronously, so joins read it directly through its indexes. Other stores answer through a
 * cache: a miss suspends the entity's evaluation (DtlSuspend) naming what it needs; the DTL
 * transform fetches everything a batch asked for in bulk and evaluates those entities again.
 */
import { DtlSuspend, type HopsResolver } from '../../compiler/dtl/runtime.js';
import type { Entity, Value } from '../../compiler/values/types.js';
import { getPath } from '../../compiler/dtl/runtime.js';
import { indexKey, indexKeys } from './index-key.js';
import { EmbeddedStore } from '../store/embedded/store.js';
import type { Store } from '../store/contract.js';

export type HopsRequest =
  | { kind: 'lookup'; dataset: string; ids: string[] }
  | { kind: 'find'; dataset: string; path: string[]; values: Value[] }
  | { kind: 'scan'; dataset: string };

/** A resolver that needs `fetch` between evaluation rounds. */
export interface AsyncHopsResolver extends HopsResolver {
  fetch(requests: HopsRequest[]): Promise<void>;
  clear(): void;
}

export function isAsyncResolver(r: HopsResolver | null): r is AsyncHopsResolver {
  return !!r && typeof (r as AsyncHopsResolver).fetch === 'function';
}

class CachingResolver implements AsyncHopsResolver {
  private entities = new Map<string, Entity | null>();
  private found = new Map<string, string[]>();
  private scans = new Map<string, Entity[]>();

  constructor(private readonly store: Store) {}

  clear(): void {
    this.entities.clear();
    this.found.clear();
    this.scans.clear();
  }

  lookup(dataset: string, id: string): Entity | null {
    const k = `${dataset}\u0000${id}`;
    if (!this.entities.has(k)) throw new DtlSuspend({ kind: 'lookup', dataset, ids: [id] } satisfies HopsRequest);
    const e = this.entities.get(k)!;
    return e && e._deleted !== true ? e : null;
  }

  find(dataset: string, path: string[], values: Value[]): Entity[] {
    const prefix = `${dataset}\u0000${JSON.stringify(path)}\u0000`;
    const missing: Value[] = [];
    const ids = new Set<string>();
    for (const v of values) {
      for (const key of indexKeys(v)) {
        const hit = this.found.get(prefix + key);
        if (hit === undefined) missing.push(v);
        else for (const id of hit) ids.add(id);
      }
    }
    if (missing.length) throw new DtlSuspend({ kind: 'find', dataset, path, values: missing } satisfies HopsRequest);
    const out: Entity[] = [];
    for (const id of ids) {
      const e = this.entities.get(`${dataset}\u0000${id}`);
      if (e && e._deleted !== true) out.push(e);
    }
    return out;
  }

  scan(dataset: string): Iterable<Entity> {
    const s = this.scans.get(dataset);
    if (!s) throw new DtlSuspend({ kind: 'scan', dataset } satisfies HopsRequest);
    return s;
  }

  async fetch(requests: HopsRequest[]): Promise<void> {
    const lookups = new Map<string, Set<string>>();
    const finds = new Map<string, { dataset: string; path: string[]; values: Value[] }>();
    for (const r of requests) {
      if (r.kind === 'lookup') {
        const set = lookups.get(r.dataset) ?? new Set();
        r.ids.forEach((id) => set.add(id));
        lookups.set(r.dataset, set);
      } else if (r.kind === 'find') {
        const k = `${r.dataset}\u0000${JSON.stringify(r.path)}`;
        const f = finds.get(k) ?? { dataset: r.dataset, path: r.path, values: [] };
        f.values.push(...r.values);
        finds.set(k, f);
      } else if (!this.scans.has(r.dataset)) {
        const all: Entity[] = [];
        for await (const e of this.store.scan(r.dataset, { deleted: false })) all.push(e);
        this.scans.set(r.dataset, all);
      }
    }
    for (const [dataset, ids] of lookups) {
      const got = await this.store.getMany(dataset, [...ids]);
      for (const id of ids) this.entities.set(`${dataset}\u0000${id}`, got.get(id) ?? null);
    }
    for (const { dataset, path, values } of finds.values()) {
      const prefix = `${dataset}\u0000${JSON.stringify(path)}\u0000`;
      const keys = [...new Set(values.flatMap((v) => indexKeys(v)))];
      for (const key of keys) this.found.set(prefix + key, []);
      for (const e of await this.store.lookup(dataset, path, values)) {
        this.entities.set(`${dataset}\u0000${e._id}`, e);
        const v = getPath(e, path);
        for (const x of Array.isArray(v) ? v : [v]) {
          const key = indexKey(x);
          if (key !== null) this.found.get(prefix + key)?.push(e._id as string);
        }
      }
    }
  }
}

export function hopsResolverFor(store: Store): HopsResolver {
  if (store instanceof EmbeddedStore) {
    return {
      lookup: (dataset, id) => {
        const e = store.getSync(dataset, id);
        return e && e._deleted !== true ? e : null;
      },
      find: (dataset, path, values) => store.lookupSync(dataset, path, values as Value[]),
      scan: function* (dataset): Iterable<Entity> {
        for (const page of store.scanPages(dataset, { deleted: false })) yield* page;
      },
    };
  }
  return new CachingResolver(store);
}
