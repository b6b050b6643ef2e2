/**
 * DTL back end: IR → JavaScript source → functions. Each rule becomes one JS function; paths and
 * function calls become direct JS expressions and helper calls, so evaluating an entity involves
 * no interpretation of the rule tree. Constants (helpers, compiled regexes, typed literals) are
 * passed in through an array rather than stringified into the source.
 */
import type { Arg, Call, DtlProgram, Expr, Stmt } from './ir.js';
import type { CodegenOptions, EmitContext, FunctionSpec } from './spec.js';
import { registry, type Registry } from './registry.js';
import { decodeLiteral, literalValue } from './analyze.js';
import { getPath, getProp } from './runtime.js';
import { dynamicIds, getPathNs, getPropNs } from './functions/ns-util.js';

export interface GeneratedCode {
  source: string;
  consts: unknown[];
}

const SIMPLE_IDENT = /^[A-Za-z_$][\w$]*$/;

class Generator {
  readonly consts: unknown[] = [];
  private constIds = new Map<unknown, string>();
  private tempCounter = 0;
  private ruleIds = new Map<string, string>();

  constructor(
    readonly options: CodegenOptions,
    private readonly reg: Registry,
    ruleNames: string[],
  ) {
    ruleNames.forEach((r, i) => this.ruleIds.set(r, `rule${i}`));
  }

  ruleId(name: string): string {
    const id = this.ruleIds.get(name);
    if (!id) throw new Error(`unknown rule ${name}`);
    return id;
  }

  use(value: unknown): string {
    let id = this.constIds.get(value);
    if (!id) {
      id = `k${this.consts.length}`;
      this.consts.push(value);
      this.constIds.set(value, id);
    }
    return id;
  }

  temp(hint = 't'): string {
    return `${hint.replace(/\W/g, '')}_${this.tempCounter++}`;
  }

  spec(call: Call, kind: 'expression' | 'transform'): FunctionSpec {
    const s = this.reg.get(call.fn, kind);
    if (!s) throw new Error(`${call.at}: no DTL ${kind} function "${call.fn}" in this version (the plan was compiled by a different one)`);
    return s;
  }
}

interface Scope {
  U: string;
  bindings: Record<string, string>;
}

function emitContext(g: Generator, call: Call, spec: FunctionSpec, scope: Scope): EmitContext {
  const kinds = spec.argKinds(call.args.length);
  const arg = (i: number): string => {
    const a = call.args[i];
    switch (a.t) {
      case 'fn': {
        const u = g.temp('u');
        return `((${u}) => ${expr(g, a.body, { ...scope, U: u })})`;
      }
      case 'block':
        return a.stmts.map((s) => stmt(g, s, scope)).join('\n');
      case 'rule':
        return g.ruleId(a.name);
      case 'raw':
        return g.use(decodeLiteral(a.json));
      case 'hops':
        return g.use(a);
      default:
        if (kinds[i] === 'fn') {
          const u = g.temp('u');
          return `((${u}) => ${expr(g, a, { ...scope, U: u })})`;
        }
        return expr(g, a, scope);
    }
  };
  return {
    call,
    count: call.args.length,
    options: g.options,
    arg,
    args: (from = 0) => call.args.slice(from).map((_, i) => arg(i + from)),
    ir: (i) => call.args[i],
    literal: (i) => literalValue(call.args[i]),
    use: (v) => g.use(v),
    temp: (h) => g.temp(h),
    compile: (a, bindings = {}, underscore) => {
      const inner: Scope = { U: underscore ?? scope.U, bindings: { ...scope.bindings, ...bindings } };
      return a.t === 'fn' ? expr(g, a.body, inner) : expr(g, a as Expr, inner);
    },
    vars: { S: 'S', T: 'T', P: 'P', R: 'R', X: 'X', U: scope.U },
  };
}

function literalCode(g: Generator, json: string): string {
  const c = json.charCodeAt(0);
  // Plain JSON scalars can be inlined; typed values, bigints, integral floats and composites are constants.
  if (json === 'null' || json === 'true' || json === 'false') return json;
  if (c === 34 /* " */ && json.charCodeAt(1) !== 126 /* ~ */) return json;
  if ((c === 45 || (c >= 48 && c <= 57)) && /^-?\d{1,15}(\.\d*[1-9]\d*)?$/.test(json) && !/\.\d*0$/.test(json)) {
    return json.startsWith('-') ? `(${json})` : json;
  }
  return g.use(decodeLiteral(json));
}

function variableCode(v: string, scope: Scope): string {
  switch (v) {
    case '_S':
      return 'S';
    case '_T':
      return 'T';
    case '_P':
      return 'P';
    case '_R':
      return 'R';
    case '_B':
      return 'X.bindings';
    case '_':
      return scope.U;
    default: {
      const b = scope.bindings[v];
      if (!b) throw new Error(`unbound DTL variable ${v}`);
      return b;
    }
  }
}

export function expr(g: Generator, e: Expr, scope: Scope): string {
  switch (e.t) {
    case 'lit':
      return literalCode(g, e.json);
    case 'path': {
      let base = variableCode(e.v, scope);
      let keys = e.keys;
      const ns = g.options.namespaces;
      if (e.v === '_S' && keys[0] === '$ids') {
        base = `${g.use(dynamicIds)}(${base}, ${ns ? g.use(ns) : 'null'})`;
        keys = keys.slice(1);
      }
      if (keys.length === 0) return base;
      // A path string is the path function: under namespaced identifiers both match names the same way.
      if (ns) return keys.length === 1 ? `${g.use(getPropNs)}(${base}, ${JSON.stringify(keys[0])}, ${g.use(ns)})` : `${g.use(getPathNs)}(${base}, ${g.use(keys)}, ${g.use(ns)})`;
      if (keys.length === 1) return `${g.use(getProp)}(${base}, ${JSON.stringify(keys[0])})`;
      return `${g.use(getPath)}(${base}, ${g.use(keys)})`;
    }
    case 'call': {
      const spec = g.spec(e, 'expression');
      return spec.emit(emitContext(g, e, spec, scope));
    }
  }
}

function stmt(g: Generator, s: Stmt, scope: Scope): string {
  const spec = g.spec(s, 'transform');
  const body = spec.emit(emitContext(g, s, spec, scope));
  if (spec.name === 'comment' || body.trim() === '') return body;
  return `try {\n${body}\n} catch (err) { throw X.locate(err, ${JSON.stringify(s.at)}, ${JSON.stringify(s.fn)}); }`;
}

function ruleSource(g: Generator, name: string, stmts: Stmt[]): string {
  const scope: Scope = { U: 'null', bindings: {} };
  const body = stmts.map((s) => stmt(g, s, scope)).join('\n');
  return `function ${g.ruleId(name)}(S, T, P, R, X) {\n${body}\nreturn 0;\n}`;
}

function assemble(g: Generator, functions: string[], exportsCode: string): GeneratedCode {
  const header = g.consts.map((_, i) => `const k${i} = K[${i}];`).join('\n');
  return { source: `"use strict";\n${header}\n${functions.join('\n')}\nreturn ${exportsCode};`, consts: g.consts };
}

/** Generates JS for all rules of a program; the result evaluates to `{ [ruleName]: fn }`. */
export function generateProgram(program: DtlProgram, options: CodegenOptions, reg: Registry = registry): GeneratedCode {
  const names = Object.keys(program.rules);
  const g = new Generator(options, reg, names);
  const fns = names.map((n) => ruleSource(g, n, program.rules[n]));
  const exportsCode = `{ ${names.map((n) => `${SIMPLE_IDENT.test(n) ? n : JSON.stringify(n)}: ${g.ruleId(n)}`).join(', ')} }`;
  return assemble(g, fns, exportsCode);
}

/** Generates JS for one expression evaluated in a rule context; evaluates to `fn(S, T, P, R, X)`. */
export function generateExpression(e: Expr, program: DtlProgram, options: CodegenOptions, reg: Registry = registry): GeneratedCode {
  const names = Object.keys(program.rules);
  const g = new Generator(options, reg, names);
  const fns = names.map((n) => ruleSource(g, n, program.rules[n]));
  const body = expr(g, e, { U: 'null', bindings: {} });
  fns.push(`function expression(S, T, P, R, X) {\nreturn ${body};\n}`);
  return assemble(g, fns, 'expression');
}

export function link<T>(code: GeneratedCode): T {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('K', code.source)(code.consts) as T;
}

export type { Arg };
