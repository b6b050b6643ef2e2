/**
 * `custom_auth` of REST systems: tokens fetched with one of the system's own operations
 * (`get_token_operation`, after `get_refresh_token_operation` when set), kept in the `token`
 * template variable with their expiry (`expires_at`, `expiry_date`, and the refresh token's), and
 * fetched again `refresh_window` seconds before they expire or when a request answers 401.
 */
import { castToString } from '../../../../compiler/dtl/functions/text.js';
import type { Value } from '../../../../compiler/values/types.js';
import type { RestClient } from './client.js';
import { exchange } from './exchange.js';
import { evaluate } from '../../jinja/jinja.js';
import { OperationSet, RestConfigError } from './operation.js';

export class CustomAuth {
  private token: Record<string, unknown>;
  private expiresAt: number | null = null;
  private refreshExpiresAt: number | null = null;
  private fetched = false;
  private refreshFetched = false;
  private pending: Promise<void> | null = null;
  private readonly windowMs: number;
  private readonly what: string;

  constructor(
    private readonly client: RestClient,
    private readonly config: Record<string, unknown>,
    private readonly now: () => number = Date.now,
  ) {
    this.what = `system "${client.id}": custom_auth`;
    if (typeof config.get_token_operation !== 'string') throw new RestConfigError(`${this.what} needs "get_token_operation"`);
    if (config.expires_at_expression === undefined && config.expires_in_expression === undefined) throw new RestConfigError(`${this.what} needs "expires_at_expression" or "expires_in_expression"`);
    this.token = { ...((config.initial_refresh_token ?? {}) as Record<string, unknown>) };
    this.windowMs = Number(config.refresh_window ?? 30) * 1000;
  }

  /** The template variables of the current token, fetching one first when it is missing or about to expire. */
  async context(signal?: AbortSignal): Promise<Record<string, unknown>> {
    if (!this.fetched || (this.expiresAt !== null && this.now() >= this.expiresAt - this.windowMs)) await this.renew(signal);
    return this.variables();
  }

  private variables(): Record<string, unknown> {
    const vars: Record<string, unknown> = { token: this.token };
    if (typeof this.config.access_token_property === 'string') vars.access_token = this.token[this.config.access_token_property];
    if (typeof this.config.refresh_token_property === 'string') vars.refresh_token = this.token[this.config.refresh_token_property];
    return vars;
  }

  renew(signal?: AbortSignal): Promise<void> {
    this.pending ??= this.fetch(signal).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetch(signal?: AbortSignal): Promise<void> {
    const refreshOp = this.config.get_refresh_token_operation;
    if (typeof refreshOp === 'string' && (!this.refreshFetched || (this.refreshExpiresAt !== null && this.now() >= this.refreshExpiresAt - this.windowMs))) {
      await this.call(refreshOp, signal);
      this.refreshFetched = true;
      this.refreshExpiresAt = this.expiry(this.config.refresh_token_expires_at_expression, this.config.refresh_token_expires_in_expression);
      if (this.refreshExpiresAt !== null) Object.assign(this.token, stamp('refresh_token_', this.refreshExpiresAt));
    }
    await this.call(this.config.get_token_operation as string, signal);
    this.fetched = true;
    this.expiresAt = this.expiry(this.config.expires_at_expression, this.config.expires_in_expression);
    if (this.expiresAt !== null) Object.assign(this.token, stamp('', this.expiresAt));
  }

  private async call(name: string, signal?: AbortSignal): Promise<void> {
    const op = new OperationSet(this.client.operations, {}, this.client.config, this.what).get(name);
    const what = `${this.what}: the token operation "${name}"`;
    for await (const page of exchange({ client: this.client, op, context: { token: this.token, properties: op.properties ?? {} }, payload: op.payload, paging: false, options: { signal, what }, authenticating: true })) {
      if (!page.json) this.token = { ...this.token, value: page.text.trim() };
      else if (page.result !== null && typeof page.result === 'object' && !Array.isArray(page.result)) this.token = { ...this.token, ...(page.result as Record<string, unknown>) };
      else throw new Error(`${what}: the response of ${page.request.method} ${page.href} is not a JSON object with the token`);
    }
  }

  /** The expiry (ms) the expressions give: `expires_at` (a date) wins over `expires_in` (seconds). */
  private expiry(atExpression: unknown, inExpression: unknown): number | null {
    const context = { token: this.token, ...this.variables() };
    if (typeof atExpression === 'string') {
      const v = evaluate(atExpression, context, `${this.what}: expires_at_expression`);
      const text = typeof v === 'string' ? v : v !== null && v !== undefined ? castToString(v as Value) : null;
      if (text) {
        const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) || !/T|\d:\d/.test(text) ? text : `${text}Z`);
        if (!Number.isNaN(ms)) return ms;
      }
    }
    if (typeof inExpression === 'string') {
      const secs = Number(evaluate(inExpression, context, `${this.what}: expires_in_expression`));
      if (Number.isFinite(secs)) return this.now() + secs * 1000;
    }
    return null;
  }
}

function stamp(prefix: string, ms: number): Record<string, unknown> {
  return { [`${prefix}expires_at`]: Math.floor(ms / 1000), [`${prefix}expiry_date`]: new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z') };
}
