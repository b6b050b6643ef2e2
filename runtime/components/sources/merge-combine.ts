/**
 * How the merge source turns a group of entities that are the same thing into one entity: its id
 * (`identity`), its properties (`strategy`) and `$ids`.
 *
 * The parts of a group are ordered by the position of their dataset in `datasets`, then by entity
 * id; that order gives deterministic ids and property value order.
 *
 * - identity "composite": `<dataset position>|<id>` of every part joined by "|" (e.g. `0|a1|1|b1`);
 *   "first": the id of the first part.
 * - strategy "default": the union of the property values (a property found in several parts gets
 *   the list of all their values, lists flattened one level, duplicates and nulls kept);
 *   "compact": the same, then duplicates removed, empty lists dropped and one-element lists
 *   unwrapped; "list": `$merged` holds the parts (root properties starting with "_" other than
 *   `_id` left out unless `include_internal_properties`).
 * - `$ids`: a part's own `$ids` values if it has that property, otherwise its `_id` as a namespaced
 *   identifier; without duplicates, and always a list. Root properties starting with "_" never
 *   become properties of the merged entity.
 */
import { valuesEqual } from '../../../compiler/values/compare.js';
import { NI, type Entity, type Value } from '../../../compiler/values/types.js';

export interface MergePart {
  /** Position of the part's dataset in `datasets`. */
  index: number;
  id: string;
  entity: Entity;
}

export interface CombineOptions {
  identity: 'composite' | 'first';
  strategy: 'default' | 'compact' | 'list';
  includeInternal: boolean;
}

export function compareParts(a: MergePart, b: MergePart): number {
  return a.index - b.index || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function mergedId(sorted: MergePart[], identity: CombineOptions['identity']): string {
  if (identity === 'first') return sorted[0].id;
  return sorted.map((p) => `${p.index}|${p.id}`).join('|');
}

function asList(v: Value): Value[] {
  return Array.isArray(v) ? v : [v];
}

function distinct(values: Value[]): Value[] {
  const out: Value[] = [];
  for (const v of values) if (!out.some((o) => valuesEqual(o, v))) out.push(v);
  return out;
}

function idsOf(parts: MergePart[]): Value[] {
  const all: Value[] = [];
  for (const p of parts) {
    if (Object.prototype.hasOwnProperty.call(p.entity, '$ids')) {
      for (const v of asList(p.entity.$ids as Value)) if (v !== null) all.push(v);
    } else all.push(new NI(p.id));
  }
  return distinct(all);
}

/** The merged entity of parts already in order (`deleted`: a deleted entity standing alone). */
export function combineParts(sorted: MergePart[], options: CombineOptions, deleted: boolean): Entity {
  const out: Entity = { _id: mergedId(sorted, options.identity), $ids: idsOf(sorted) };
  if (options.strategy === 'list') {
    out.$merged = sorted.map((p) => {
      if (options.includeInternal) return { ...p.entity };
      const e: Entity = {};
      for (const k of Object.keys(p.entity)) if (k.charCodeAt(0) !== 95 || k === '_id') e[k] = p.entity[k];
      return e;
    });
  } else {
    const props = new Map<string, Value>();
    const multi = new Set<string>();
    for (const p of sorted) {
      for (const k of Object.keys(p.entity)) {
        if (k.charCodeAt(0) === 95 /* _ */ || k === '$ids') continue;
        const v = p.entity[k];
        if (v === undefined) continue;
        const prev = props.get(k);
        if (prev === undefined) {
          props.set(k, v);
          continue;
        }
        props.set(k, multi.has(k) ? [...(prev as Value[]), ...asList(v)] : [...asList(prev), ...asList(v)]);
        multi.add(k);
      }
    }
    for (let [k, v] of props) {
      if (options.strategy === 'compact') {
        const values = distinct(asList(v));
        if (values.length === 0) continue;
        v = values.length === 1 ? values[0] : values;
      }
      out[k] = v;
    }
  }
  if (deleted) out._deleted = true;
  return out;
}
