/**
 * The Jinja engine of the components that take Jinja templates: the REST family (urls, headers,
 * params, payloads, next_page_link, id/updated/error expressions, custom_auth expressions) and the
 * mail sink (subjects, bodies; its undefined-variable modes use `freeVariables`).
 *
 * Why nunjucks: it is the long-standing, widely used Jinja2 port for JavaScript (Mozilla), it compiles
 * each template once to a JavaScript function (REST sources render several templates per entity, so
 * an interpreter such as @huggingface/jinja is several times slower), it takes custom filters and
 * globals (the documented `bytes`, `base64_encode`, `datetime`, ... filters), and its Jinja
 * compatibility mode adds Python's `True`/`None`, slices and dict/list methods. What it lacks of
 * Jinja2's Python semantics that configs use (string methods such as `strip()`, Python's text for
 * `True`/`None` and JSON text for lists and dicts in output) is added here, in one place.
 */
import nunjucks from 'nunjucks';
import { dtlBase64Decode, dtlBase64Encode, dtlBytes } from '../../../compiler/dtl/functions/bytes.js';
import { datetimeValues, formatDynamic } from '../../../compiler/dtl/functions/datetime.js';
import { castToString } from '../../../compiler/dtl/functions/text.js';
import { Bytes, DateTime, type Value } from '../../../compiler/values/types.js';
import { plainValue } from '../systems/rest/values.js';

export class TemplateError extends Error {
  readonly code = 'JINJA_TEMPLATE';

  constructor(
    message: string,
    /** What the engine said, without the template and who uses it. */
    readonly reason: string = message,
  ) {
    super(message);
  }
}

type Runtime = { suppressValue(v: unknown, autoescape: boolean): unknown; memberLookup(obj: unknown, key: unknown, ...rest: unknown[]): unknown };

/** Python's str methods that Jinja templates call on strings (JavaScript's own methods stay reachable). */
const STRING_METHODS: Record<string, (this: string, ...args: unknown[]) => unknown> = {
  strip(chars) {
    return typeof chars === 'string' ? trimChars(this, chars, true, true) : this.trim();
  },
  lstrip(chars) {
    return typeof chars === 'string' ? trimChars(this, chars, true, false) : this.trimStart();
  },
  rstrip(chars) {
    return typeof chars === 'string' ? trimChars(this, chars, false, true) : this.trimEnd();
  },
  lower() {
    return this.toLowerCase();
  },
  upper() {
    return this.toUpperCase();
  },
  startswith(prefix) {
    return Array.isArray(prefix) ? prefix.some((p) => this.startsWith(String(p))) : this.startsWith(String(prefix));
  },
  endswith(suffix) {
    return Array.isArray(suffix) ? suffix.some((p) => this.endsWith(String(p))) : this.endsWith(String(suffix));
  },
  split(sep, max) {
    const parts = sep === undefined || sep === null ? this.trim().split(/\s+/).filter((s) => s !== '') : this.split(String(sep));
    if (typeof max !== 'number' || max < 0 || parts.length <= max + 1) return parts;
    return [...parts.slice(0, max), parts.slice(max).join(sep === undefined || sep === null ? ' ' : String(sep))];
  },
  replace(old, replacement) {
    return this.split(String(old)).join(String(replacement));
  },
  format(...args) {
    let i = 0;
    return this.replace(/\{(\d*)\}/g, (_m, n: string) => render(args[n === '' ? i++ : Number(n)]));
  },
};

function trimChars(s: string, chars: string, start: boolean, end: boolean): string {
  let a = 0;
  let b = s.length;
  while (start && a < b && chars.includes(s[a])) a++;
  while (end && b > a && chars.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

/** The text Jinja2 (Python) writes for a value: `True`, `None`, numbers; lists and dicts as JSON. */
function render(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return '';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (v instanceof DateTime || v instanceof Bytes) return castToString(v) ?? '';
  if (typeof v === 'object' && !(v instanceof nunjucks.runtime.SafeString)) return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
  return String(v);
}

let installed = false;
function installPythonSemantics(): void {
  if (installed) return;
  installed = true;
  nunjucks.installJinjaCompat();
  const runtime = nunjucks.runtime as unknown as Runtime;
  const lookup = runtime.memberLookup;
  runtime.memberLookup = function (obj: unknown, key: unknown, ...rest: unknown[]) {
    if (typeof obj === 'string' && typeof key === 'string' && Object.hasOwn(STRING_METHODS, key)) return STRING_METHODS[key].bind(obj);
    return lookup.call(this, obj, key, ...rest);
  };
  runtime.suppressValue = (v: unknown) => (v instanceof nunjucks.runtime.SafeString ? v : render(v));
}

/** Where the `__raw` filter leaves the value of a single-expression template. */
let captured: unknown;

function createEnvironment(): nunjucks.Environment {
  installPythonSemantics();
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
  const value = (v: unknown): Value => (v === undefined ? null : (v as Value));
  env.addFilter('bytes', (v: unknown) => dtlBytes(value(v)));
  env.addFilter('base64_encode', (v: unknown) => dtlBase64Encode(value(v)));
  env.addFilter('base64_decode', (v: unknown) => {
    const b = dtlBase64Decode(value(v));
    return b instanceof Bytes ? Buffer.from(b.data).toString('utf8') : b;
  });
  env.addFilter('datetime', (v: unknown) => datetimeValues(value(v)));
  env.addFilter('datetime_format', (v: unknown, format: unknown = '%Y-%m-%dT%H:%M:%SZ') => formatDynamic(undefined, value(format), datetimeValues(value(v))));
  env.addFilter('tojson', (v: unknown) => new nunjucks.runtime.SafeString(JSON.stringify(plainValue(value(v)))));
  env.addFilter('__raw', (v: unknown) => {
    captured = v;
    return '';
  });
  env.addGlobal('now', () => new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
  return env;
}

let environment: nunjucks.Environment | null = null;

/**
 * A compiled template. `quick` renders templates made only of text and `{{ name.path }}` without
 * the engine (a sink renders its url for every entity); it answers NEEDS_ENGINE when a value is one
 * the engine must see (missing, a function, a method of a string), and the engine renders it.
 */
interface Compiled {
  template: nunjucks.Template;
  raw: boolean;
  quick: ((context: Record<string, unknown>) => unknown) | null;
  /** The names the template reads without defining them (made when first asked). */
  free?: string[];
}
const compiled = new Map<string, Compiled>();
const MAX_COMPILED = 2000;
const NEEDS_ENGINE = Symbol('needs the engine');

const HAS_TEMPLATE = /\{\{|\{%/;
/** A template that is exactly one `{{ expression }}`: its value is the expression's value, not text. */
const SINGLE_EXPRESSION = /^\s*\{\{((?:(?!\}\}|\{\{)[\s\S])*)\}\}\s*$/;
const INTERPOLATION = /\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}/g;

/** The value at a dotted path of the context, when reading it needs none of the engine's rules. */
function lookup(context: Record<string, unknown>, path: string[]): unknown {
  if (!(path[0] in context)) return NEEDS_ENGINE;
  let v = context[path[0]];
  for (let i = 1; i < path.length; i++) {
    if (v === null || typeof v !== 'object') return NEEDS_ENGINE;
    const ctor = (v as object).constructor;
    if (ctor !== Object && ctor !== Array && ctor !== undefined) return NEEDS_ENGINE;
    v = (v as Record<string, unknown>)[path[i]];
  }
  return v === undefined || typeof v === 'function' ? NEEDS_ENGINE : v;
}

function quickTemplate(text: string, raw: boolean): Compiled['quick'] {
  const literal = text.split(INTERPOLATION);
  // split() leaves the captured paths at the odd indexes; any other Jinja syntax needs a brace.
  for (let i = 0; i < literal.length; i += 2) if (/[{}]/.test(literal[i])) return null;
  const parts = literal.map((part, i) => (i % 2 === 1 ? part.split('.') : part));
  if (raw) {
    if (parts.length !== 3) return null;
    const path = parts[1] as string[];
    return (context) => lookup(context, path);
  }
  return (context) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (typeof part === 'string') out += part;
      else {
        const v = lookup(context, part);
        if (v === NEEDS_ENGINE) return NEEDS_ENGINE;
        out += render(v);
      }
    }
    return out;
  };
}

export function isTemplate(text: string): boolean {
  return HAS_TEMPLATE.test(text);
}

/** Whether the template reads the variable `name` (a rough look at its expressions). */
export function mentionsVariable(text: string, name: string): boolean {
  const re = new RegExp(`(?:\\{\\{|\\{%)[^}]*(?<![.\\w])${name.replace(/[^\w]/g, '\\$&')}(?![\\w])`);
  return re.test(text);
}

function compile(text: string, what: string): Compiled {
  let c = compiled.get(text);
  if (c) return c;
  environment ??= createEnvironment();
  const single = SINGLE_EXPRESSION.exec(text);
  const source = single ? `{{ (${single[1]}) | __raw }}` : text;
  try {
    c = { template: nunjucks.compile(source, environment), raw: single !== null, quick: quickTemplate(text, single !== null) };
    // Compile now so that syntax errors surface when the component is created.
    (c.template as unknown as { compile(): void }).compile();
  } catch (err) {
    if (single) return compileText(text, what);
    throw new TemplateError(`${what}: the template ${JSON.stringify(text)} is not valid Jinja: ${firstLine(err)}`, firstLine(err));
  }
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(text, c);
  return c;
}

function compileText(text: string, what: string): Compiled {
  environment ??= createEnvironment();
  try {
    const template = nunjucks.compile(text, environment);
    (template as unknown as { compile(): void }).compile();
    const c: Compiled = { template, raw: false, quick: null };
    compiled.set(text, c);
    return c;
  } catch (err) {
    throw new TemplateError(`${what}: the template ${JSON.stringify(text)} is not valid Jinja: ${firstLine(err)}`, firstLine(err));
  }
}

function firstLine(err: unknown): string {
  return String((err as Error).message ?? err)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^\(unknown path\)/.test(l))
    .join(' ');
}

/** Checks a template's syntax (at component creation), so that a bad template fails before any request. */
export function checkTemplate(text: unknown, what: string): void {
  if (typeof text === 'string' && isTemplate(text)) compile(text, what);
}

/** A template that only reads a variable or a dotted path of one: `{{ id }}`, `{{ entity.meta.updated }}`. */
const SIMPLE_PATH = /^\s*\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}\s*$/;

/** The variables of an expression: one looked up by name (undefined when not set), or all of them. */
export interface Scope {
  get(name: string): unknown;
  all(): Record<string, unknown>;
}

/**
 * A template as a function of a scope. Simple paths are read directly (REST sources evaluate
 * id and updated expressions for every entity); anything else renders with all the scope's variables.
 */
export function expression(text: string, what: string): (scope: Scope) => unknown {
  const simple = SIMPLE_PATH.exec(text);
  if (simple) {
    const [head, ...rest] = simple[1].split('.');
    return (scope) => {
      let v = scope.get(head);
      for (const key of rest) {
        if (v === null || v === undefined || typeof v !== 'object') return undefined;
        v = (v as Record<string, unknown>)[key];
      }
      return v;
    };
  }
  checkTemplate(text, what);
  return (scope) => evaluate(text, scope.all(), what);
}

/**
 * The value of a template: a single `{{ expression }}` gives the expression's value (a number stays a
 * number, a missing value is undefined), anything else the rendered text. Plain strings are themselves.
 */
export function evaluate(text: string, context: Record<string, unknown>, what: string): unknown {
  if (!isTemplate(text)) return text;
  return run(compile(text, what), text, context, what);
}

function run(c: Compiled, text: string, context: Record<string, unknown>, what: string): unknown {
  if (c.quick) {
    const v = c.quick(context);
    if (v !== NEEDS_ENGINE) return v;
  }
  try {
    if (!c.raw) return c.template.render(context);
    captured = undefined;
    c.template.render(context);
    const v = captured;
    captured = undefined;
    return v;
  } catch (err) {
    throw new TemplateError(`${what}: rendering ${JSON.stringify(text)} failed: ${firstLine(err)}`, firstLine(err));
  }
}

/** The text of a template (a single expression's value rendered as Jinja writes it). */
export function renderText(text: string, context: Record<string, unknown>, what: string): string {
  if (!isTemplate(text)) return text;
  const c = compile(text, what);
  const v = run(c, text, context, what);
  return c.raw ? render(v) : (v as string);
}

const MARK_SKIP = 'sesam:markskip';
const MARK_JSON = /(?:sesam|system):markjson/;

/** A rendered string with its markers applied: undefined when it asks to be skipped, parsed JSON when marked so. */
function applyMarkers(text: string, what: string): unknown {
  if (text.includes(MARK_SKIP)) return undefined;
  if (!MARK_JSON.test(text)) return text;
  const json = text.replace(MARK_JSON, '').trim();
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new TemplateError(`${what}: the text marked with sesam:markjson is not JSON: ${JSON.stringify(json.slice(0, 200))}`);
  }
}

/**
 * Renders a tree of templates (a payload, headers or params object): keys and string values are
 * templates; `sesam:markskip` in a key or value drops the property, `sesam:markjson` parses the rendered
 * text as JSON. Values that are not strings are kept.
 */
export function renderTree(tree: unknown, context: Record<string, unknown>, what: string): unknown {
  if (typeof tree === 'string') {
    if (!isTemplate(tree) && !tree.includes('sesam:mark') && !tree.includes('system:mark')) return tree;
    return applyMarkers(renderText(tree, context, what), what);
  }
  if (Array.isArray(tree)) {
    const out: unknown[] = [];
    for (const x of tree) {
      const v = renderTree(x, context, what);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  if (tree !== null && typeof tree === 'object' && (tree as object).constructor === Object) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(tree)) {
      const key = isTemplate(k) || k.includes(MARK_SKIP) ? applyMarkers(renderText(k, context, what), what) : k;
      if (key === undefined) continue;
      const v = renderTree(x, context, what);
      if (v !== undefined) out[String(key)] = v;
    }
    return out;
  }
  return tree;
}

/** Names a template may read that no context has to give: the engine's globals and Jinja's own. */
const PROVIDED = new Set(['range', 'cycler', 'joiner', 'now', 'True', 'False', 'None', 'loop', 'caller', 'super', 'varargs', 'kwargs']);

type AstNode = { typename?: string; fields?: string[]; value?: unknown; children?: unknown[]; [field: string]: unknown };

/** Names that `target` binds: a symbol, or the symbols of a list or tuple of them. */
function bindings(target: unknown, into: Set<string>): void {
  const n = target as AstNode | null;
  if (!n || typeof n !== 'object') return;
  if (Array.isArray(n)) return n.forEach((x) => bindings(x, into));
  if (n.typename === 'Symbol') into.add(n.value as string);
  else if (Array.isArray(n.children)) n.children.forEach((x) => bindings(x, into));
}

/**
 * The variables a template reads that neither the engine nor the template itself defines (a name
 * bound anywhere by set, for, macro or import counts as defined), each once.
 * Filter and test names, keyword argument names and dict keys written as names are not variables;
 * a name read only to test it (`x is defined`, `x is undefined`) or to give it a default
 * (`x | default(...)`) is not counted either: the template handles its absence itself.
 */
export function freeVariables(text: string, what: string): string[] {
  const c = compile(text, what);
  if (c.free) return c.free;
  const read: string[] = [];
  const bound = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    const n = value as AstNode | null;
    if (!n || typeof n !== 'object' || typeof n.typename !== 'string') return;
    switch (n.typename) {
      case 'Symbol':
        if (!read.includes(n.value as string)) read.push(n.value as string);
        return;
      case 'Filter':
      case 'FilterAsync': {
        // The filter's name is not a variable; its arguments are.
        const args = ((n.args as AstNode | undefined)?.children ?? []) as AstNode[];
        const name = (n.name as AstNode | undefined)?.value;
        const guarded = (name === 'default' || name === 'd') && args[0]?.typename === 'Symbol';
        return visit(guarded ? args.slice(1) : args);
      }
      case 'Is': {
        // `x is defined`, `x is divisibleby(3)`: the test's name is not a variable.
        const right = n.right as AstNode | null;
        const test = (right?.name as AstNode | undefined)?.value ?? right?.value;
        const left = n.left as AstNode | null;
        if (!(left?.typename === 'Symbol' && (test === 'defined' || test === 'undefined'))) visit(left);
        return visit(right?.args);
      }
      case 'KeywordArgs':
      case 'Dict':
        for (const pair of (n.children ?? []) as AstNode[]) visit(pair.typename === 'Pair' ? pair.value : pair);
        return;
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll':
        bindings(n.name, bound);
        visit(n.arr);
        visit(n.body);
        return visit(n.else_);
      case 'Set':
        bindings(n.targets, bound);
        return visit(n.value);
      case 'Macro':
      case 'Caller':
        bindings(n.name, bound);
        for (const arg of ((n.args as AstNode | undefined)?.children ?? []) as AstNode[]) {
          if (arg.typename === 'KeywordArgs') for (const pair of (arg.children ?? []) as AstNode[]) (bindings(pair.key, bound), visit(pair.value));
          else bindings(arg, bound);
        }
        return visit(n.body);
      case 'Import':
        return bindings(n.target, bound);
      case 'FromImport':
        for (const name of ((n.names as AstNode | undefined)?.children ?? []) as AstNode[]) bindings(name.typename === 'Pair' ? name.value : name, bound);
        return;
    }
    for (const field of n.fields ?? []) visit(n[field]);
  };
  visit((nunjucks as unknown as { parser: { parse(src: string, extensions: unknown[], opts: object): unknown } }).parser.parse(text, [], {}));
  c.free = read.filter((name) => !bound.has(name) && !PROVIDED.has(name));
  return c.free;
}
