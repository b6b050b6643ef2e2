/**
 * A pipe's `add_namespaces` (before the first transform) and `remove_namespaces` (after the last):
 * prefixing `_id` with the identity namespace and property names with the property namespace, and
 * taking such prefixes off again, including inside namespaced-identifier values.
 */
import { NI, isDict, type Entity, type Value } from '../../compiler/values/types.js';

export function addNamespaces(e: Entity, ns: { identity: string; property: string }): Entity {
  const out: Entity = {};
  for (const k in e) {
    const v = e[k];
    if (k === '_id' && typeof v === 'string') out._id = v.includes(':') ? v : `${ns.identity}:${v}`;
    else if (k.startsWith('_') || k.startsWith('$') || k.includes(':')) out[k] = v;
    else out[`${ns.property}:${k}`] = v;
  }
  return out;
}

function stripName(name: string): string {
  const i = name.lastIndexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

function stripValue(v: Value): Value {
  if (v instanceof NI) return stripName(v.value);
  if (Array.isArray(v)) return v.map(stripValue);
  if (isDict(v)) {
    const out: Entity = {};
    for (const k in v) out[k.startsWith('_') || k.startsWith('$') ? k : stripName(k)] = stripValue(v[k]);
    return out;
  }
  return v;
}

export function removeNamespaces(e: Entity): Entity {
  const out: Entity = {};
  for (const k in e) {
    const v = e[k];
    if (k === '_id' && typeof v === 'string') out._id = stripName(v);
    else out[k.startsWith('_') || k.startsWith('$') ? k : stripName(k)] = stripValue(v);
  }
  return out;
}
