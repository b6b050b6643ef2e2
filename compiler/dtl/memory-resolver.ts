/** A HopsResolver over in-memory datasets (conformance vectors, `sluice eval`, unit tests). */
import type { Entity, Value } from '../values/types.js';
import type { HopsResolver } from './runtime.js';
import { getPath } from './runtime.js';
import { valuesEqual } from '../values/compare.js';

export class MemoryResolver implements HopsResolver {
  private readonly datasets = new Map<string, Entity[]>();

  constructor(datasets: Record<string, Entity[]> = {}) {
    for (const [id, entities] of Object.entries(datasets)) this.datasets.set(id, entities.filter((e) => e._deleted !== true));
  }

  lookup(dataset: string, id: string): Entity | null {
    return this.datasets.get(dataset)?.find((e) => e._id === id) ?? null;
  }

  find(dataset: string, path: string[], values: Value[]): Entity[] {
    const out: Entity[] = [];
    for (const e of this.datasets.get(dataset) ?? []) {
      const v = getPath(e, path);
      const candidates = Array.isArray(v) ? v : [v];
      if (candidates.some((c) => c !== null && values.some((x) => valuesEqual(c, x)))) out.push(e);
    }
    return out;
  }

  scan(dataset: string): Iterable<Entity> {
    return this.datasets.get(dataset) ?? [];
  }
}
