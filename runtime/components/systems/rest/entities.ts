/**
 * Entities made from REST responses (sources, and transforms that replace or enrich entities):
 * `response_property`, `response_headers_property`, `response_status_property`,
 * `response_include_content_type`, and `_id` / `_updated` from `id_expression` / `updated_expression`.
 */
import type { Entity } from '../../../../compiler/values/types.js';
import type { RestPage } from './exchange.js';
import { expression, type Scope } from '../../jinja/jinja.js';
import type { Operation } from './operation.js';
import { bigintAsNumber, plainValue } from './values.js';

export interface EntityShape {
  responseProperty?: string;
  headersProperty?: string;
  statusProperty?: string;
  includeContentType: boolean;
  idExpression?: string;
  updatedExpression?: string;
}

export function entityShape(op: Operation, config: Record<string, unknown>, defaultResponseProperty?: string): EntityShape {
  return {
    responseProperty: (op.setting('response_property') as string | undefined) ?? defaultResponseProperty,
    headersProperty: op.setting('response_headers_property') as string | undefined,
    statusProperty: op.setting('response_status_property') as string | undefined,
    includeContentType: config.response_include_content_type === true,
    idExpression: op.setting('id_expression') as string | undefined,
    updatedExpression: op.setting('updated_expression') as string | undefined,
  };
}

/** The response headers as a plain dict (the `Link` header as its text). */
export function plainHeaders(page: RestPage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(page.headers)) out[k] = typeof v === 'string' ? v : k === 'link' ? '' : String(v);
  return out;
}

/** Adds the response's headers, status and content type where the shape asks for them. */
export function addResponseDetails(entity: Entity, page: RestPage, shape: EntityShape): Entity {
  if (shape.headersProperty) entity[shape.headersProperty] = plainHeaders(page);
  if (shape.statusProperty) entity[shape.statusProperty] = page.status;
  if (shape.includeContentType) entity['content-type'] = page.contentType;
  return entity;
}

type Compiled = (scope: Scope) => unknown;

/** An item's variables: `entity` (the item), its properties, then `extra`, then the page's. */
class ItemScope implements Scope {
  constructor(
    private readonly plain: unknown,
    private readonly own: Record<string, unknown>,
    private readonly extra: Record<string, unknown>,
    private readonly page: RestPage,
  ) {}

  get(name: string): unknown {
    if (name === 'entity') return this.plain;
    if (Object.hasOwn(this.own, name)) return this.own[name];
    return Object.hasOwn(this.extra, name) ? this.extra[name] : this.page.context[name];
  }

  all(): Record<string, unknown> {
    return Object.assign({}, this.page.context, this.extra, this.own, { entity: this.plain });
  }
}
const compiledExpressions = new WeakMap<EntityShape, { id?: Compiled; updated?: Compiled }>();

function compiledFor(shape: EntityShape, what: string): { id?: Compiled; updated?: Compiled } {
  let c = compiledExpressions.get(shape);
  if (!c) {
    c = {
      id: shape.idExpression ? expression(shape.idExpression, `${what}: id_expression`) : undefined,
      updated: shape.updatedExpression ? expression(shape.updatedExpression, `${what}: updated_expression`) : undefined,
    };
    compiledExpressions.set(shape, c);
  }
  return c;
}

/**
 * Sets `_id` and `_updated` from the shape's expressions over an item of a response. The item's
 * properties are variables beside `entity` (the item), the page's variables and `extra`.
 */
export function applyExpressions(entity: Entity, item: unknown, page: RestPage, shape: EntityShape, extra: Record<string, unknown>, what: string): void {
  if (!shape.idExpression && !shape.updatedExpression) return;
  const compiled = compiledFor(shape, what);
  const plain = plainValue(item);
  const own = plain !== null && typeof plain === 'object' && !Array.isArray(plain) ? (plain as Record<string, unknown>) : {};
  const scope = new ItemScope(plain, own, extra, page);
  if (compiled.id) {
    const id = compiled.id(scope);
    if (id === undefined || id === null || id === '') throw new Error(`${what}: the id_expression ${JSON.stringify(shape.idExpression)} gave no value for item ${JSON.stringify(plain, bigintAsNumber)?.slice(0, 200)} of ${page.request.method} ${page.href}`);
    entity._id = typeof id === 'string' ? id : typeof id === 'object' ? JSON.stringify(id, bigintAsNumber) : String(id);
  }
  if (compiled.updated) {
    const updated = compiled.updated(scope);
    if (updated !== undefined && updated !== null && updated !== '') entity._updated = updated as Entity[string];
  }
}

/** The entities a source (or a replacing transform) emits for one response page. */
export function pageEntities(page: RestPage, shape: EntityShape, extra: Record<string, unknown>, what: string, fallbackId: () => string): Entity[] {
  const out: Entity[] = [];
  if (!page.json) {
    const entity: Entity = { [shape.responseProperty ?? 'response']: page.text };
    applyExpressions(entity, {}, page, shape, extra, what);
    entity._id ??= fallbackId();
    out.push(addResponseDetails(entity, page, shape));
    return out;
  }
  page.items.forEach((item, i) => {
    let entity: Entity;
    if (shape.responseProperty) entity = { [shape.responseProperty]: item as Entity[string] };
    // Object.assign, not a spread: _id and _updated are added next (see entityRequest).
    else if (item !== null && typeof item === 'object' && !Array.isArray(item)) entity = Object.assign({}, item as Entity);
    else throw new Error(`${what}: item ${i + 1} of the response of ${page.request.method} ${page.href} is not a JSON object but ${JSON.stringify(item)?.slice(0, 100)} (set response_property to keep such values)`);
    if (shape.responseProperty && item !== null && typeof item === 'object' && !Array.isArray(item) && typeof (item as Entity)._id === 'string') entity._id = (item as Entity)._id;
    applyExpressions(entity, item, page, shape, extra, what);
    if (typeof entity._id !== 'string' || entity._id === '') {
      if (entity._id !== undefined && entity._id !== null && typeof entity._id !== 'object') entity._id = String(entity._id);
      else throw new Error(`${what}: item ${i + 1} of the response of ${page.request.method} ${page.href} has no "_id" (set id_expression, e.g. "{{ id }}")`);
    }
    out.push(addResponseDetails(entity, page, shape));
  });
  return out;
}

/**
 * What one entity sends to a sink's or transform's operation: its `properties` (else the component's,
 * else the operation's), its `payload` (else the component's, else the operation's), and the template
 * variables (the entity's properties, `entity` and `properties`).
 */
export function entityRequest(e: Entity, component: Record<string, unknown>, op: Operation): { payload: unknown; context: Record<string, unknown> } {
  const entity = plainValue(e) as Record<string, unknown>;
  const own = entity.properties;
  const properties = own !== null && typeof own === 'object' && !Array.isArray(own) ? own : (component.properties ?? op.properties ?? {});
  const payload = e.payload !== undefined ? e.payload : component.payload !== undefined ? component.payload : op.payload;
  // Object.assign rather than a spread: the sink adds the request's variables to this object, and
  // adding properties to a spread copy of a parsed entity is two orders of magnitude slower in V8.
  const context: Record<string, unknown> = Object.assign({}, entity);
  context.entity = entity;
  context.properties = properties;
  return { payload, context };
}
