/**
 * Entity values as REST templates and payloads see them: plain JSON values (datetimes, URIs, NIs and
 * UUIDs as their text, bytes as base64, decimals and integral floats as numbers), and dotted paths
 * into response bodies.
 */
import { castToString } from '../../../../compiler/dtl/functions/text.js';
import { encodeTyped } from '../../../../compiler/values/transit.js';
import { Bytes, DateTime, Decimal, DtlFloat, NI, Uri, Uuid, type Value } from '../../../../compiler/values/types.js';

/** A value without typed classes (the shape `json` payloads and Jinja contexts use). */
export function plainValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = plainValue(v[i]);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if ((v as object).constructor === Object) {
    let out: Record<string, unknown> | null = null;
    for (const k in v) {
      const x = (v as Record<string, unknown>)[k];
      const p = plainValue(x);
      if (p !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = p;
    }
    return out ?? v;
  }
  if (v instanceof DtlFloat) return v.value;
  if (v instanceof Decimal) return Number(v.toFixed());
  if (v instanceof DateTime || v instanceof Uri || v instanceof NI || v instanceof Uuid) return castToString(v);
  if (v instanceof Bytes) return Buffer.from(v.data).toString('base64');
  return v;
}

/**
 * The value at a dotted path of a response body. A key that contains the dots itself wins over the
 * path (`"a.b"` before `a` → `b`), as the REST components document for `payload_property`.
 */
export function valueAtPath(body: unknown, path: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const o = body as Record<string, unknown>;
  if (Object.hasOwn(o, path)) return o[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  for (let i = dot; i >= 0; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    if (Object.hasOwn(o, head)) {
      const v = valueAtPath(o[head], path.slice(i + 1));
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** Text of a scalar for a URL parameter, header or form field (typed values as transit text when asked). */
export function fieldText(v: unknown, transit: boolean): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'object') {
    if (Array.isArray(v) || (v as object).constructor === Object) return JSON.stringify(plainValue(v), bigintAsNumber);
    const typed = transit ? encodeTyped(v) : undefined;
    if (typed !== undefined) return typed;
  }
  return castToString(v as Value) ?? '';
}

export function bigintAsNumber(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}
