/**
 * Keys for secondary indexes: one text key per scalar value such that values DTL considers equal
 * (1, 1.0 and ~f1; equal datetimes) get the same key, and values of different types never do.
 */
import { Bytes, DateTime, Decimal, DtlFloat, NI, Uri, Uuid, isDict, type Value } from '../../compiler/values/types.js';
import { stringifyValue } from '../../compiler/values/json.js';

function numberKey(v: number | bigint | DtlFloat | Decimal): string {
  if (v instanceof DtlFloat) v = v.value;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return 'n:' + v;
  if (typeof v === 'bigint') return 'n:' + v.toString();
  const d = v instanceof Decimal ? v : new Decimal(v);
  return 'n:' + (d.isInteger() ? d.toFixed(0) : d.toString());
}

/** The key of one scalar value, or null for values that are never indexed (null). */
export function indexKey(v: Value): string | null {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
      return 's:' + v;
    case 'number':
    case 'bigint':
      return numberKey(v);
    case 'boolean':
      return v ? 'b:1' : 'b:0';
  }
  if (v instanceof DtlFloat || v instanceof Decimal) return numberKey(v);
  if (v instanceof NI) return 'i:' + v.value;
  if (v instanceof Uri) return 'r:' + v.value;
  if (v instanceof Uuid) return 'u:' + v.value;
  if (v instanceof DateTime) return 't:' + v.ns.toString() + (v.dateOnly ? 'd' : '');
  if (v instanceof Bytes) return 'x:' + Buffer.from(v.data).toString('base64');
  if (Array.isArray(v) || isDict(v)) return 'j:' + stringifyValue(v, true);
  return null;
}

/** Keys for the value found at an index path: list values give one key per element. */
export function indexKeys(v: Value): string[] {
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const x of v) {
      const k = indexKey(x);
      if (k !== null && !out.includes(k)) out.push(k);
    }
    return out;
  }
  const k = indexKey(v);
  return k === null ? [] : [k];
}
