/**
 * Jinja templates of the mail sink, on the components' shared Jinja engine (components/jinja). The
 * engine renders undefined variables as empty text, so the sink's
 * `unhandled_template_variable_replacement` modes are applied here: the template's free variables
 * (names it reads but neither the entity nor the template itself defines) are found in its syntax
 * tree, then kept as `{{ name }}` text (debug), left empty (empty_string) or refused (strict).
 */
import { checkTemplate as checkJinja, freeVariables, renderText, TemplateError as JinjaError } from '../jinja/jinja.js';

export type UndefinedMode = 'debug' | 'empty_string' | 'strict';

export class TemplateError extends Error {
  readonly code = 'MAIL_TEMPLATE';
}

const WHAT = 'the mail sink';

/** The engine's reason for a failure, in the mail sink's words. */
function failure(err: unknown, prefix: string): TemplateError {
  return new TemplateError(`${prefix}: ${err instanceof JinjaError ? err.reason : (err as Error).message}`);
}

/** Renders `text` with the variables in `context`; undefined variables are handled as `mode` says. */
export function renderTemplate(text: string, context: Record<string, unknown>, mode: UndefinedMode): string {
  let free: string[];
  try {
    free = freeVariables(text, WHAT);
  } catch (err) {
    throw failure(err, 'invalid Jinja template');
  }
  const missing = free.filter((name) => !(name in context));
  let vars = context;
  if (missing.length) {
    if (mode === 'strict') throw new TemplateError(`the template uses ${missing.map((m) => `"${m}"`).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not defined`);
    if (mode === 'debug') vars = Object.assign({}, context, Object.fromEntries(missing.map((m) => [m, `{{ ${m} }}`])));
  }
  try {
    return renderText(text, vars, WHAT);
  } catch (err) {
    throw failure(err, 'the template failed');
  }
}

/** Checks that a template parses (config-time errors are reported before anything is sent). */
export function checkTemplate(text: string): void {
  try {
    checkJinja(text, WHAT);
  } catch (err) {
    throw failure(err, 'invalid Jinja template');
  }
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
