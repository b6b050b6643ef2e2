/**
 * How a DTL function is declared. Each function family (strings, lists, dates, ...) is one module
 * exporting its specs; registry.ts is the only place that lists the families. A spec states its
 * argument kinds (which drive checking and code generation), its documentation, and how it emits
 * JavaScript. Emitted code calls the family's own helper functions through `e.use(helper)`.
 */
import type { Arg, Call } from './ir.js';
import type { Value } from '../values/types.js';
import type { PNode } from '../parse/tree.js';
import type { DiagnosticBag } from '../diagnostics.js';

/**
 * - `expr`: a value expression, evaluated once.
 * - `fn`: a function expression, evaluated per value with `_` bound (filter, map, sorted, ...).
 * - `transforms`: one transform or a list of them (THEN/ELSE).
 * - `rule`: the name of a rule in the same DTL transform.
 * - `raw`: JSON that is not evaluated (comment, literal).
 * - `hops`: a HOPS_SPEC dictionary.
 */
export type ArgKind = 'expr' | 'fn' | 'transforms' | 'rule' | 'raw' | 'hops';

export type FunctionKind = 'expression' | 'transform';

export interface CodegenOptions {
  /** The pipe's namespaced-identifier settings, when enabled. */
  namespaces: { identity: string; property: string } | null;
  /** Fail on targets and created entities without a string `_id` (the dtl transform's `id_required`). */
  idRequired: boolean;
  /** The pipe's id (the default namespace of `ni` and `apply-ns`). */
  pipeId?: string;
}

export interface EmitContext {
  readonly call: Call;
  readonly count: number;
  readonly options: CodegenOptions;
  /** JS code for argument i: an expression for `expr`, an arrow function for `fn`, statements for `transforms`, a function name for `rule`, a constant for `raw`. */
  arg(i: number): string;
  /** Code for arguments from `from` on. */
  args(from?: number): string[];
  /** The IR of argument i. */
  ir(i: number): Arg;
  /** The value of argument i when it is a literal (constant), else undefined. */
  literal(i: number): { value: Value } | undefined;
  /** Registers a constant (a helper function, a compiled regex, a typed literal) and returns its identifier. */
  use(value: unknown): string;
  /** A fresh local identifier (statements only). */
  temp(hint?: string): string;
  /** Compiles an IR expression with extra variables bound (hops aliases), optionally rebinding `_`. */
  compile(expr: Arg, bindings?: Record<string, string>, underscore?: string): string;
  /** Identifiers of the evaluation context in scope. */
  readonly vars: { S: string; T: string; P: string; R: string; X: string; U: string };
}

export interface CheckContext {
  readonly call: Call;
  readonly node: PNode & { kind: 'array' };
  readonly diagnostics: DiagnosticBag;
  /** Positioned argument nodes (without the function name). */
  readonly argNodes: PNode[];
  literal(i: number): { value: Value } | undefined;
}

export interface FunctionSpec {
  name: string;
  kind: FunctionKind;
  family: string;
  /** One paragraph: what it does (shown by `sluice docs` and in did-you-mean help). */
  doc: string;
  /** Allowed argument counts. */
  minArgs: number;
  maxArgs: number;
  /** Kind of each argument for a call with `n` arguments. */
  argKinds(n: number): ArgKind[];
  /** Expression functions return a JS expression; transforms return JS statements. */
  emit(e: EmitContext): string;
  /** Extra static checks beyond arity and argument kinds. */
  check?(c: CheckContext): void;
  /** Argument that names a dataset (recorded in the dependency graph when it is a literal). */
  datasetArg?: number;
}

export interface FunctionSpecInput {
  name: string;
  doc: string;
  /** Fixed kinds, or a function of the argument count. Defaults to all `expr`. */
  args?: ArgKind[] | ((n: number) => ArgKind[]);
  min?: number;
  max?: number;
  emit(e: EmitContext): string;
  check?(c: CheckContext): void;
  datasetArg?: number;
}

function makeSpec(kind: FunctionKind, family: string, s: FunctionSpecInput): FunctionSpec {
  const fixed = Array.isArray(s.args) ? s.args : undefined;
  const min = s.min ?? (fixed ? fixed.length : 0);
  const max = s.max ?? (fixed ? fixed.length : Infinity);
  const argKinds = typeof s.args === 'function' ? s.args : (n: number) => Array.from({ length: n }, (_, i) => fixed?.[Math.min(i, fixed.length - 1)] ?? 'expr');
  return { name: s.name, kind, family, doc: s.doc, minArgs: min, maxArgs: max, argKinds, emit: s.emit, check: s.check, datasetArg: s.datasetArg };
}

/** Declares a family of functions. */
export function family(name: string, build: (def: { expression(s: FunctionSpecInput): void; transform(s: FunctionSpecInput): void }) => void): FunctionSpec[] {
  const out: FunctionSpec[] = [];
  build({
    expression: (s) => out.push(makeSpec('expression', name, s)),
    transform: (s) => out.push(makeSpec('transform', name, s)),
  });
  return out;
}

/** Emit helper: a call of a helper function with the arguments' code. */
export function callHelper(e: EmitContext, helper: (...a: never[]) => unknown, args: string[] = e.args()): string {
  return `${e.use(helper)}(${args.join(', ')})`;
}

/** Argument kinds for "an optional leading function expression, then values" (sorted, min, filter, ...). */
export function optionalFnThenValues(n: number): ArgKind[] {
  return n >= 2 ? ['fn', ...Array<ArgKind>(n - 1).fill('expr')] : ['expr'];
}
