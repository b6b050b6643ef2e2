/**
 * DTL intermediate representation: what the compiler checks, stores in the execution plan and the
 * runtime turns into JavaScript. JSON-serialisable; literals are kept as JSON text so integral
 * floats (`1.0`), big integers and typed (transit) values survive a round trip unchanged.
 */

export interface DtlProgram {
  /** Named rules; `default` is applied to every source entity. */
  rules: Record<string, Stmt[]>;
}

/** A transform function call (rule-level statement). */
export type Stmt = Call;

export interface Call {
  t: 'call';
  fn: string;
  args: Arg[];
  /** `file:line:col` of the call, for runtime error reports. */
  at: string;
}

export interface Lit {
  t: 'lit';
  /** JSON text with transit encoding (see values/json.ts). */
  json: string;
}

export interface Path {
  t: 'path';
  /** `_S`, `_T`, `_P`, `_R`, `_B`, `_`, or a hops dataset alias. */
  v: string;
  keys: string[];
}

export type Expr = Lit | Path | Call;

/** A function expression: evaluated per value with `_` bound to it. */
export interface Fn {
  t: 'fn';
  body: Expr;
}

/** A list of transforms (THEN/ELSE of `if`, branches of `case`). */
export interface Block {
  t: 'block';
  stmts: Stmt[];
}

/** A reference to a named rule (`apply`, `apply-hops`). */
export interface RuleRef {
  t: 'rule';
  name: string;
}

/** JSON that is never evaluated (`comment`, `literal`, HOPS_SPEC pieces kept verbatim). */
export interface Raw {
  t: 'raw';
  json: string;
}

/** A join specification (`hops`, `apply-hops`), with its `where` and `return` compiled. */
export interface HopsSpec {
  t: 'hops';
  datasets: { dataset: string; alias: string }[];
  where: Expr[];
  return?: { aliases: string[] } | { expr: Expr };
  recurse: boolean;
  excludeRoot: boolean;
  maxDepth: number | null;
  trackDependencies: boolean;
  subsets?: Record<string, Expr>;
  trace?: string;
}

export type Arg = Expr | Fn | Block | RuleRef | Raw | HopsSpec;

export function isExpr(a: Arg): a is Expr {
  return a.t === 'lit' || a.t === 'path' || a.t === 'call';
}

/** Whether any rule of the program calls the DTL function `name`, at any depth. */
export function usesFunction(program: DtlProgram, name: string): boolean {
  const visit = (a: Arg): boolean => {
    switch (a.t) {
      case 'call':
        return a.fn === name || a.args.some(visit);
      case 'fn':
        return visit(a.body);
      case 'block':
        return a.stmts.some(visit);
      case 'hops':
        return a.where.some(visit) || (a.return !== undefined && 'expr' in a.return && visit(a.return.expr));
      default:
        return false;
    }
  };
  return Object.values(program.rules).some((stmts) => stmts.some(visit));
}

/** The program with the JSON text of every literal (`lit`, `raw`) passed through `map`. */
export function mapLiteralTexts(program: DtlProgram, map: (json: string) => string): DtlProgram {
  const visit = <A extends Arg>(a: A): A => {
    switch (a.t) {
      case 'lit':
      case 'raw':
        return { ...a, json: map(a.json) };
      case 'call':
        return { ...a, args: a.args.map(visit) };
      case 'fn':
        return { ...a, body: visit(a.body) };
      case 'block':
        return { ...a, stmts: a.stmts.map(visit) };
      case 'hops': {
        const ret = a.return !== undefined && 'expr' in a.return ? { expr: visit(a.return.expr) } : a.return;
        const subsets = a.subsets ? Object.fromEntries(Object.entries(a.subsets).map(([k, e]) => [k, visit(e)])) : undefined;
        return { ...a, where: a.where.map(visit), ...(ret !== undefined ? { return: ret } : {}), ...(subsets ? { subsets } : {}) };
      }
      default:
        return a;
    }
  };
  return { ...program, rules: Object.fromEntries(Object.entries(program.rules).map(([name, stmts]) => [name, stmts.map(visit)])) };
}
