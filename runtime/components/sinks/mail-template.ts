/**
 * Jinja templates of the mail sink. The engine is @huggingface/jinja: a maintained,
 * dependency-free Jinja implementation in TypeScript (nunjucks, the other candidate, pins an old
 * chokidar as a peer and conflicts with ours). It renders undefined variables as empty text, so
 * the sink's `unhandled_template_variable_replacement` modes are applied here: the template's free
 * variables (names it reads but neither the entity nor the template itself defines) are found in
 * its syntax tree, then kept as `{{ name }}` text (debug), left empty (empty_string) or refused
 * (strict).
 */
import { Template } from '@huggingface/jinja';

export type UndefinedMode = 'debug' | 'empty_string' | 'strict';

export class TemplateError extends Error {
  readonly code = 'MAIL_TEMPLATE';
}

interface Compiled {
  template: Template;
  /** Names read by the template that it does not define itself. */
  free: string[];
}

/** Names the engine provides. */
const BUILTINS = new Set(['range', 'namespace', 'raise_exception', 'strftime_now', 'true', 'false', 'none', 'True', 'False', 'None', 'loop', 'caller']);

type Node = { type?: string; [k: string]: unknown };

function boundNames(target: unknown, into: Set<string>): void {
  const n = target as Node | null;
  if (!n || typeof n !== 'object') return;
  if (n.type === 'Identifier') into.add(n.value as string);
  else if (Array.isArray(n.value)) for (const x of n.value) boundNames(x, into);
}

/** The free variables of a parsed template (a name bound anywhere by set, for or macro counts as defined). */
function freeVariables(program: unknown): string[] {
  const read = new Set<string>();
  const bound = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value instanceof Map) {
      for (const [k, v] of value) (visit(k), visit(v));
      return;
    }
    const n = value as Node | null;
    if (!n || typeof n !== 'object') return;
    switch (n.type) {
      case 'Identifier':
        read.add(n.value as string);
        return;
      case 'MemberExpression':
        visit(n.object);
        if (n.computed) visit(n.property);
        return;
      case 'FilterExpression':
        visit(n.operand);
        // The filter's name is not a variable; its call arguments are.
        if ((n.filter as Node).type === 'CallExpression') visit((n.filter as Node).args);
        return;
      case 'FilterStatement':
        if ((n.filter as Node).type === 'CallExpression') visit((n.filter as Node).args);
        visit(n.body);
        return;
      case 'TestExpression':
        visit(n.operand);
        return;
      case 'KeywordArgumentExpression':
        visit(n.value);
        return;
      case 'For':
        boundNames(n.loopvar, bound);
        visit(n.iterable);
        visit(n.body);
        visit(n.defaultBlock);
        return;
      case 'Set':
        boundNames(n.assignee, bound);
        visit(n.value);
        visit(n.body);
        return;
      case 'Macro':
        boundNames(n.name, bound);
        for (const a of n.args as Node[]) boundNames(a.type === 'KeywordArgumentExpression' ? a.key : a, bound);
        visit(n.body);
        return;
      default:
        for (const [k, v] of Object.entries(n)) if (k !== 'type') visit(v);
    }
  };
  visit(program);
  return [...read].filter((name) => !bound.has(name) && !BUILTINS.has(name));
}

const cache = new Map<string, Compiled>();

function compileTemplate(text: string): Compiled {
  let c = cache.get(text);
  if (!c) {
    let template: Template;
    try {
      template = new Template(text);
    } catch (err) {
      throw new TemplateError(`invalid Jinja template: ${(err as Error).message}`);
    }
    c = { template, free: freeVariables(template.parsed) };
    if (cache.size > 500) cache.delete(cache.keys().next().value as string);
    cache.set(text, c);
  }
  return c;
}

/** Renders `text` with the variables in `context`; undefined variables are handled as `mode` says. */
export function renderTemplate(text: string, context: Record<string, unknown>, mode: UndefinedMode): string {
  const { template, free } = compileTemplate(text);
  const missing = free.filter((name) => !(name in context));
  let vars = context;
  if (missing.length) {
    if (mode === 'strict') throw new TemplateError(`the template uses ${missing.map((m) => `"${m}"`).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not defined`);
    if (mode === 'debug') vars = { ...context, ...Object.fromEntries(missing.map((m) => [m, `{{ ${m} }}`])) };
  }
  try {
    return template.render(vars);
  } catch (err) {
    throw new TemplateError(`the template failed: ${(err as Error).message}`);
  }
}

/** Checks that a template parses (config-time errors are reported before anything is sent). */
export function checkTemplate(text: string): void {
  compileTemplate(text);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** A best-effort plain-text version of an HTML body, for the text part of a multipart message. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<\/(p|div|h[1-6]|tr|table|ul|ol|li|blockquote|pre)\s*>/gi, '\n')
    .replace(/<a\b[^>]*href\s*=\s*["']([^"']+)["'][^>]*>([\s\S]*?)<\/a\s*>/gi, (_m, href: string, label: string) => (label.trim() && label.trim() !== href ? `${label} (${href})` : href))
    .replace(/<[^>]+>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Whether a body looks like HTML (then it is sent as the HTML part). */
export function looksLikeHtml(text: string): boolean {
  return /<\/?[a-z][a-z0-9]*\b[^>]*>/i.test(text);
}
