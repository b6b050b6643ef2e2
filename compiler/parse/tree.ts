/**
 * The positioned value tree: what the config parsers (JSON, YAML) produce. Every node keeps the
 * file, line and column where it starts, so any later stage can point at the exact spot.
 */
import type { SourceLocation } from '../diagnostics.js';
import { numberFromText } from '../values/lossless-json.js';
import { DtlFloat } from '../values/types.js';

export type Loc = SourceLocation;

export type PNode = PObject | PArray | PString | PNumber | PBoolean | PNull;

export interface PObject {
  kind: 'object';
  loc: Loc;
  entries: PEntry[];
  /**
   * Properties that a `$conditional_properties` block whose condition holds an unresolved
   * `$ENV(...)` might set: until the variable is set, the object's shape is undecided.
   */
  pendingKeys?: string[];
}
export interface PEntry {
  key: string;
  keyLoc: Loc;
  value: PNode;
}
export interface PArray {
  kind: 'array';
  loc: Loc;
  items: PNode[];
}
export interface PString {
  kind: 'string';
  loc: Loc;
  value: string;
  /**
   * The string still holds a `$ENV(...)` reference that could not be resolved. That is reported
   * once where it is written; checks of the value itself (its type, format, a cron expression, the
   * system or dataset it names) wait until the variable is set.
   */
  unresolved?: true;
}
export interface PNumber {
  kind: 'number';
  loc: Loc;
  /** The source text, so that `1.0` stays a float and big integers stay exact. */
  text: string;
}
export interface PBoolean {
  kind: 'boolean';
  loc: Loc;
  value: boolean;
}
export interface PNull {
  kind: 'null';
  loc: Loc;
}

export function entry(obj: PObject, key: string): PEntry | undefined {
  for (let i = obj.entries.length - 1; i >= 0; i--) if (obj.entries[i].key === key) return obj.entries[i];
  return undefined;
}

/** Whether a value still holds an unresolved `$ENV(...)` reference (see PString.unresolved). */
export function isUnresolved(node: PNode | undefined): boolean {
  return node?.kind === 'string' && node.unresolved === true;
}

export function child(node: PNode | undefined, key: string | number): PNode | undefined {
  if (!node) return undefined;
  if (node.kind === 'object') return entry(node, String(key))?.value;
  if (node.kind === 'array') return node.items[Number(key)];
  return undefined;
}

/**
 * Finds the node a JSON pointer (as ajv reports in `instancePath`) refers to. Returns the deepest
 * node that exists, so a pointer into a missing property still lands on its parent.
 */
export function nodeAtPointer(root: PNode, pointer: string): { node: PNode; keyLoc?: Loc } {
  if (!pointer) return { node: root };
  let node = root;
  let keyLoc: Loc | undefined;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node.kind === 'object') {
      const e = entry(node, seg);
      if (!e) break;
      node = e.value;
      keyLoc = e.keyLoc;
    } else if (node.kind === 'array') {
      const n = node.items[Number(seg)];
      if (!n) break;
      node = n;
      keyLoc = undefined;
    } else break;
  }
  return { node, keyLoc };
}

/** Location of a property's key (for "unknown property" errors), falling back to the value. */
export function keyLocAtPointer(root: PNode, pointer: string, property: string): Loc {
  const { node } = nodeAtPointer(root, pointer);
  if (node.kind === 'object') {
    const e = entry(node, property);
    if (e) return e.keyLoc;
  }
  return node.loc;
}

export interface PlainOptions {
  /** Keep integral floats written as `1.0` as DtlFloat (DTL literals need this; config does not). */
  keepFloats?: boolean;
}

/** Converts to a plain JS value (numbers exact where possible; bigints past 2^53). */
export function toPlain(node: PNode, opts: PlainOptions = {}): unknown {
  switch (node.kind) {
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const e of node.entries) o[e.key] = toPlain(e.value, opts);
      return o;
    }
    case 'array':
      return node.items.map((n) => toPlain(n, opts));
    case 'string':
      return node.value;
    case 'number': {
      const n = numberFromText(node.text);
      return n instanceof DtlFloat && !opts.keepFloats ? n.value : n;
    }
    case 'boolean':
      return node.value;
    case 'null':
      return null;
  }
}

/** Builds a positioned tree from a plain value, all nodes at one location (for generated config). */
export function fromPlain(value: unknown, loc: Loc): PNode {
  if (value === null || value === undefined) return { kind: 'null', loc };
  if (Array.isArray(value)) return { kind: 'array', loc, items: value.map((v) => fromPlain(v, loc)) };
  switch (typeof value) {
    case 'string':
      return { kind: 'string', loc, value };
    case 'number':
    case 'bigint':
      return { kind: 'number', loc, text: String(value) };
    case 'boolean':
      return { kind: 'boolean', loc, value };
    case 'object': {
      if (value instanceof DtlFloat) return { kind: 'number', loc, text: Number.isInteger(value.value) ? `${value.value}.0` : String(value.value) };
      return {
        kind: 'object',
        loc,
        entries: Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, keyLoc: loc, value: fromPlain(v, loc) })),
      };
    }
  }
  return { kind: 'null', loc };
}
