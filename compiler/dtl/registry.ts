/**
 * The one list of DTL function families. Adding a family means adding one import here; adding a
 * function means editing only its family's module.
 */
import type { FunctionKind, FunctionSpec } from './spec.js';
import transforms from './functions/transforms.js';
import conditionals from './functions/conditionals.js';
import booleans from './functions/booleans.js';
import comparisons from './functions/comparisons.js';
import strings from './functions/strings.js';
import lists from './functions/lists.js';
import sets from './functions/sets.js';
import dictionaries from './functions/dictionaries.js';
import math from './functions/math.js';
import numbers from './functions/numbers.js';
import nulls from './functions/nulls.js';
import datetime from './functions/datetime.js';
import namespaces from './functions/namespaces.js';
import uris from './functions/uris.js';
import uuids from './functions/uuids.js';
import bytes from './functions/bytes.js';
import json from './functions/json.js';
import encryption from './functions/encryption.js';
import phonenumbers from './functions/phonenumbers.js';
import misc from './functions/misc.js';
import hops from './functions/hops.js';

const families: FunctionSpec[][] = [
  transforms,
  conditionals,
  booleans,
  comparisons,
  strings,
  lists,
  sets,
  dictionaries,
  math,
  numbers,
  nulls,
  datetime,
  namespaces,
  uris,
  uuids,
  bytes,
  json,
  encryption,
  phonenumbers,
  misc,
  hops,
];

export class Registry {
  private readonly byKind: Record<FunctionKind, Map<string, FunctionSpec>> = { expression: new Map(), transform: new Map() };

  constructor(specs: Iterable<FunctionSpec>) {
    for (const s of specs) {
      const map = this.byKind[s.kind];
      if (map.has(s.name)) throw new Error(`DTL ${s.kind} function "${s.name}" is defined twice (families ${map.get(s.name)!.family} and ${s.family})`);
      map.set(s.name, s);
    }
  }

  get(name: string, kind: FunctionKind): FunctionSpec | undefined {
    return this.byKind[kind].get(name);
  }

  names(kind: FunctionKind): string[] {
    return [...this.byKind[kind].keys()];
  }

  all(): FunctionSpec[] {
    return [...this.byKind.transform.values(), ...this.byKind.expression.values()];
  }
}

export const registry = new Registry(families.flat());
