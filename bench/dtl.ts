/**
 * bench dtl: one realistic transform (copy, concat of names, sum over orders, lower-case, remove,
 * a case expression, a datetime parse) over generated entities on one core, three ways: compiled
 * DTL, the same logic hand-written in JavaScript, and the same logic in JSONata.
 */
import jsonata from 'jsonata';
import { DiagnosticBag, formatDiagnostic } from '../compiler/diagnostics.js';
import { fromPlain } from '../compiler/parse/tree.js';
import { DtlAnalyzer } from '../compiler/dtl/analyze.js';
import { CompiledDtl } from '../compiler/dtl/compiled.js';
import { DtlContext } from '../compiler/dtl/runtime.js';
import type { Entity } from '../compiler/values/types.js';
import { log, option, round } from './util.js';

export const RULES = {
  default: [
    ['copy', '*', 'tmp_*'],
    ['add', 'name', ['concat', '_S.first_name', ' ', '_S.last_name']],
    ['add', 'total', ['sum', '_S.orders.amount']],
    ['add', 'email', ['lower', '_S.email']],
    ['remove', 'orders'],
    ['add', 'tier', ['case', ['gte', '_T.total', 1000], 'gold', ['gte', '_T.total', 300], 'silver', 'bronze']],
    ['add', 'created', ['datetime-parse', '%Y-%m-%d %H:%M:%S', '_S.created']],
  ],
};

export function generateEntities(n: number): Entity[] {
  const out: Entity[] = [];
  for (let i = 0; i < n; i++) {
    const orders = [];
    for (let j = 0; j < 1 + (i % 5); j++) orders.push({ id: `o${i}-${j}`, amount: ((i * 7 + j * 13) % 500) + 1 });
    const day = 1 + (i % 28);
    out.push({
      _id: `c${i}`,
      first_name: `First${i % 1000}`,
      last_name: `Last${i % 777}`,
      email: `User.${i}@Example.COM`,
      orders,
      created: `2024-03-${String(day).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:07`,
      tmp_note: 'scratch',
      active: i % 3 !== 0,
    });
  }
  return out;
}

/** The same logic written by hand, as a developer would without DTL. */
export function handwritten(s: Record<string, unknown>): Record<string, unknown> {
  const t: Record<string, unknown> = {};
  for (const k in s) if (!k.startsWith('tmp_')) t[k] = s[k];
  t.name = `${s.first_name} ${s.last_name}`;
  let total = 0;
  for (const o of s.orders as { amount: number }[]) total += o.amount;
  t.total = total;
  t.email = (s.email as string).toLowerCase();
  delete t.orders;
  t.tier = total >= 1000 ? 'gold' : total >= 300 ? 'silver' : 'bronze';
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s.created as string);
  t.created = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
  return t;
}

const JSONATA_EXPR = `$merge([
  $sift($, function($v, $k) { $not($contains($k, /^tmp_/)) and $k != "orders" }),
  {
    "name": first_name & " " & last_name,
    "total": $sum(orders.amount),
    "email": $lowercase(email),
    "tier": $sum(orders.amount) >= 1000 ? "gold" : ($sum(orders.amount) >= 300 ? "silver" : "bronze"),
    "created": $toMillis(created, "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01]")
  }
])`;

export function compileBenchRules(): CompiledDtl {
  const bag = new DiagnosticBag();
  const analyzed = new DtlAnalyzer(bag).analyzeRules(fromPlain(RULES, { file: 'bench', line: 1, column: 1 }));
  if (!analyzed || bag.hasErrors) throw new Error(bag.items.map(formatDiagnostic).join('\n'));
  return new CompiledDtl(analyzed.program, { idRequired: true });
}

function rate(n: number, seconds: number): number {
  return round(n / seconds);
}

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = option(args, 'entities', 200_000);
  const jsonataN = option(args, 'jsonata-entities', Math.min(n, 20_000));
  log(`generating ${n} entities`);
  const entities = generateEntities(n);
  const dtl = compileBenchRules();
  const X = new DtlContext();
  let sink = 0;
  // Warm-up lets V8 optimise both variants before they are timed.
  for (let i = 0; i < 20_000; i++) {
    sink += dtl.transform(entities[i % n], X).length;
    sink += Object.keys(handwritten(entities[i % n])).length;
  }
  const compiledSeconds = time(() => {
    for (let i = 0; i < n; i++) sink += dtl.transform(entities[i], X).length;
  });
  const handSeconds = time(() => {
    for (let i = 0; i < n; i++) sink += handwritten(entities[i]) === null ? 0 : 1;
  });
  log(`compiled DTL: ${rate(n, compiledSeconds)} entities/s; hand-written: ${rate(n, handSeconds)} entities/s`);
  const expr = jsonata(JSONATA_EXPR);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < jsonataN; i++) sink += (await expr.evaluate(entities[i])) ? 1 : 0;
  const jsonataSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const result = {
    bench: 'dtl',
    entities: n,
    compiled_per_s: rate(n, compiledSeconds),
    handwritten_per_s: rate(n, handSeconds),
    jsonata_per_s: rate(jsonataN, jsonataSeconds),
  };
  log(`JSONata (${jsonataN} entities): ${result.jsonata_per_s} entities/s`);
  log(`compiled / hand-written = ${round(result.compiled_per_s / result.handwritten_per_s, 3)}; compiled / JSONata = ${round(result.compiled_per_s / result.jsonata_per_s, 1)}`);
  if (sink < 0) log('');
  return result;
}
