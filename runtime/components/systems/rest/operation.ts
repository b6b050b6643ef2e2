/**
 * Named operations of REST systems and the settings of one operation as a component uses it: the
 * component's own value wins over the operation's, which wins over the system's (rate limiting).
 */
import { checkTemplate } from '../../jinja/jinja.js';
import { unsetSecret } from '../lookup.js';

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
export const PAYLOAD_TYPES = ['text', 'json', 'json-transit', 'form', 'multipart-form'] as const;
export const TERMINATION_STRATEGIES = ['empty-result', 'same-next-page-link', 'next-page-link-empty', 'same-next-page-request', 'same-response', 'not-full-page'] as const;
export type TerminationStrategy = (typeof TERMINATION_STRATEGIES)[number];
const DEFAULT_TERMINATION: TerminationStrategy[] = ['next-page-link-empty', 'same-next-page-request', 'same-response'];

/** Settings a component may give itself or leave to the operation. */
const OVERRIDABLE = [
  'payload_property',
  'response_property',
  'response_headers_property',
  'response_status_property',
  'id_expression',
  'updated_expression',
  'error_expression',
  'since_property_name',
  'since_property_location',
  'allowed_status_codes',
  'ignored_status_codes',
  'next_page_link',
  'next_page_termination_strategy',
  'page_size',
  'rate_limiting_retries',
  'rate_limiting_delay',
] as const;
type Overridable = (typeof OVERRIDABLE)[number];

export class RestConfigError extends Error {
  readonly code = 'REST_CONFIG';
}

/** An HTTP status code expression: "200-299", "404,444-450". */
export function statusMatcher(expr: unknown, what: string): ((status: number) => boolean) | null {
  if (expr === undefined || expr === null) return null;
  if (typeof expr !== 'string' || !/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(expr)) throw new RestConfigError(`${what}: the status code expression ${JSON.stringify(expr)} is not a comma separated list of codes and ranges such as "200-299,404" (no spaces)`);
  const ranges = expr.split(',').map((part) => {
    const [a, b] = part.split('-').map(Number);
    if (b !== undefined && b < a) throw new RestConfigError(`${what}: the status code range "${part}" ends before it starts`);
    return [a, b ?? a] as const;
  });
  return (s) => ranges.some(([a, b]) => s >= a && s <= b);
}

export interface Operation {
  name: string;
  method: (typeof METHODS)[number];
  url: string;
  headers: Record<string, unknown>;
  params: Record<string, unknown> | undefined;
  payloadType: (typeof PAYLOAD_TYPES)[number];
  /** The operation's own `payload` and `properties` (the lowest precedence). */
  payload: unknown;
  properties: Record<string, unknown> | undefined;
  setting<K extends Overridable>(name: K): unknown;
  termination: Set<TerminationStrategy>;
  allowed: (status: number) => boolean;
  ignored: ((status: number) => boolean) | null;
  rateLimitRetries: number;
  rateLimitDelay: number;
  /** A secret the operation's settings name that is not set: sending it fails until it is. */
  unsetSecret: string | null;
}

/**
 * Builds the operations a component can use: its own `operations` win over the system's by name.
 * Operations are checked (method, url, templates) when first used, and cached.
 */
export class OperationSet {
  private readonly cache = new Map<string, Operation>();

  constructor(
    private readonly systemOperations: Record<string, Record<string, unknown>>,
    private readonly component: Record<string, unknown>,
    private readonly system: Record<string, unknown>,
    private readonly what: string,
  ) {}

  names(): string[] {
    return [...new Set([...Object.keys((this.component.operations ?? {}) as object), ...Object.keys(this.systemOperations)])];
  }

  get(name: unknown): Operation {
    if (typeof name !== 'string' || name === '') throw new RestConfigError(`${this.what}: no operation given (set "operation" on the component or in the entity)`);
    let op = this.cache.get(name);
    if (!op) {
      op = this.build(name);
      this.cache.set(name, op);
    }
    return op;
  }

  private build(name: string): Operation {
    const own = (this.component.operations as Record<string, Record<string, unknown>> | undefined)?.[name];
    const config = own ?? this.systemOperations[name];
    const at = `${this.what}: operation "${name}"`;
    if (!config) {
      const known = this.names();
      throw new RestConfigError(`${this.what}: the operation "${name}" is not defined on the component or its system (${known.length ? `defined: ${known.join(', ')}` : 'no operations are defined'})`);
    }
    const method = config.method;
    if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) throw new RestConfigError(`${at}: "method" must be one of ${METHODS.join(', ')} (case sensitive), not ${JSON.stringify(method)}`);
    if (typeof config.url !== 'string') throw new RestConfigError(`${at}: needs a "url"`);
    const payloadType = (config['payload-type'] ?? 'json') as Operation['payloadType'];
    if (!(PAYLOAD_TYPES as readonly string[]).includes(payloadType)) throw new RestConfigError(`${at}: "payload-type" must be one of ${PAYLOAD_TYPES.join(', ')}`);
    const setting = (key: Overridable): unknown => this.component[key] ?? config[key];
    for (const key of ['url', 'next_page_link', 'id_expression', 'updated_expression', 'error_expression'] as const) checkTemplate(key === 'url' ? config.url : setting(key), `${at}: ${key}`);
    const rawTermination = setting('next_page_termination_strategy') ?? DEFAULT_TERMINATION;
    const termination = new Set((Array.isArray(rawTermination) ? rawTermination : [rawTermination]) as TerminationStrategy[]);
    for (const t of termination) if (!(TERMINATION_STRATEGIES as readonly string[]).includes(t)) throw new RestConfigError(`${at}: unknown next_page_termination_strategy ${JSON.stringify(t)} (known: ${TERMINATION_STRATEGIES.join(', ')})`);
    if (termination.has('not-full-page') && typeof setting('page_size') !== 'number') throw new RestConfigError(`${at}: the "not-full-page" termination strategy needs "page_size"`);
    const allowed = statusMatcher(setting('allowed_status_codes'), at) ?? ((s: number) => s >= 200 && s < 300);
    const ignored = statusMatcher(setting('ignored_status_codes'), at);
    if (ignored) for (let s = 100; s < 600; s++) if (ignored(s) && allowed(s)) throw new RestConfigError(`${at}: the status code ${s} is both allowed and ignored; allowed_status_codes and ignored_status_codes may not overlap`);
    const number = (key: 'rate_limiting_retries' | 'rate_limiting_delay'): number | undefined => {
      const v = this.component[key] ?? config[key] ?? this.system[key];
      return typeof v === 'number' ? v : undefined;
    };
    return {
      name,
      method: method as Operation['method'],
      url: config.url,
      headers: (config.headers ?? {}) as Record<string, unknown>,
      params: config.params as Record<string, unknown> | undefined,
      payloadType,
      payload: config.payload,
      properties: config.properties as Record<string, unknown> | undefined,
      setting: setting as Operation['setting'],
      termination,
      allowed,
      ignored,
      rateLimitRetries: number('rate_limiting_retries') ?? 0,
      rateLimitDelay: number('rate_limiting_delay') ?? 1,
      unsetSecret: unsetSecret(config),
    };
  }
}
