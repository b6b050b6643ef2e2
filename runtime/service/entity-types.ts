/**
 * Schema inference: entity types (JSON Schemas) inferred from the data a pipe reads and writes
 * (`infer_pipe_entity_types`, on unless the pipe or `global_defaults` turns it off), and the
 * schema definitions of `generate-schema-definition`. A sink entity type is inferred from the
 * pipe's sink dataset and kept up to date incrementally: the versions written since the last
 * inference are merged into the stored schema. A source entity type comes from the source
 * datasets, or from a sample of the source when it is not a dataset.
 */
import { encodeTyped } from '../../compiler/values/transit.js';
import type { Entity, Value } from '../../compiler/values/types.js';
import { previewEntities, PreviewError } from './preview.js';
import type { SluiceRuntime } from './runtime.js';
import { entityTypesDocument } from './pipe-cleanup.js';

export type JsonSchema = Record<string, unknown>;

/** What schema inference remembers of a value's shape. */
interface Shape {
  types: Set<string>;
  formats: Set<string>;
  properties?: Map<string, Shape>;
  /** How many objects had each property (for `required`). */
  seen?: Map<string, number>;
  objects?: number;
  items?: Shape;
}

const FORMATS: Record<string, string> = { t: 'date-time', u: 'uuid', r: 'uri', f: 'decimal', ':': 'namespaced-identifier', b: 'bytes' };

function emptyShape(): Shape {
  return { types: new Set(), formats: new Set() };
}

function addFormat(shape: Shape, transit: string | undefined): void {
  const format = transit !== undefined && transit.charCodeAt(0) === 126 /* ~ */ ? FORMATS[transit[1]] : undefined;
  if (format) shape.formats.add(format);
}

function addValue(shape: Shape, v: Value | undefined): void {
  if (v === null || v === undefined) return void shape.types.add('null');
  if (Array.isArray(v)) {
    shape.types.add('array');
    shape.items ??= emptyShape();
    for (const x of v) addValue(shape.items, x);
    return;
  }
  switch (typeof v) {
    case 'string': {
      shape.types.add('string');
      addFormat(shape, v);
      return;
    }
    case 'boolean':
      return void shape.types.add('boolean');
    case 'number':
      return void shape.types.add(Number.isInteger(v) ? 'integer' : 'number');
    case 'bigint':
      return void shape.types.add('integer');
    case 'object':
      if (Object.getPrototypeOf(v) !== Object.prototype) {
        // Typed values (dates, decimals, ...) travel as transit strings.
        shape.types.add('string');
        addFormat(shape, encodeTyped(v as object));
        return;
      }
      addObject(shape, v as Record<string, Value>);
      return;
    default:
      shape.types.add('string');
  }
}

function addObject(shape: Shape, o: Record<string, Value>): void {
  shape.types.add('object');
  shape.properties ??= new Map();
  shape.seen ??= new Map();
  shape.objects = (shape.objects ?? 0) + 1;
  for (const [k, v] of Object.entries(o)) {
    let p = shape.properties.get(k);
    if (!p) shape.properties.set(k, (p = emptyShape()));
    shape.seen.set(k, (shape.seen.get(k) ?? 0) + 1);
    addValue(p, v);
  }
}

function toSchema(shape: Shape): JsonSchema {
  const types = [...shape.types].sort();
  // An integer property that also holds fractions is a number.
  const merged = types.includes('number') ? types.filter((t) => t !== 'integer') : types;
  const out: JsonSchema = merged.length === 1 ? { type: merged[0] } : merged.length ? { type: merged } : {};
  if (shape.formats.size === 1 && merged.includes('string')) out.format = [...shape.formats][0];
  if (shape.properties) {
    out.properties = Object.fromEntries([...shape.properties.keys()].sort().map((k) => [k, toSchema(shape.properties!.get(k)!)]));
    const required = [...shape.seen!.entries()].filter(([, n]) => n === shape.objects).map(([k]) => k).sort();
    if (required.length) out.required = required;
  }
  if (shape.items) out.items = toSchema(shape.items);
  return out;
}

function fromSchema(s: JsonSchema): Shape {
  const shape = emptyShape();
  for (const t of Array.isArray(s.type) ? (s.type as string[]) : s.type ? [s.type as string] : []) shape.types.add(t);
  if (typeof s.format === 'string') shape.formats.add(s.format);
  const count = typeof s['x-count'] === 'number' ? (s['x-count'] as number) : 1;
  if (s.properties) {
    shape.properties = new Map(Object.entries(s.properties as Record<string, JsonSchema>).map(([k, v]) => [k, fromSchema(v)]));
    const required = new Set((s.required as string[] | undefined) ?? []);
    shape.objects = count;
    shape.seen = new Map([...shape.properties.keys()].map((k) => [k, required.has(k) ? count : 0]));
  }
  if (s.items) shape.items = fromSchema(s.items as JsonSchema);
  return shape;
}

/** Entity properties as inference sees them: the dataset's bookkeeping fields are left out. */
function content(e: Entity): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(e)) if (k === '_id' || !k.startsWith('_')) out[k] = v as Value;
  return out;
}

/** The JSON Schema of a set of entities (properties sorted; `required` lists those every entity has). */
export function inferSchema(entities: Iterable<Entity>, start?: JsonSchema): JsonSchema {
  const shape = start ? fromSchema(start) : emptyShape();
  for (const e of entities) addObject(shape, content(e));
  const schema = toSchema(shape.types.size ? shape : { ...shape, types: new Set(['object']) });
  return { ...schema, type: 'object', 'x-count': shape.objects ?? 0 };
}

/** The property names of a schema, nested ones as dotted paths, sorted. */
export function schemaKeys(schema: JsonSchema, prefix = ''): string[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  return Object.keys(props)
    .sort()
    .flatMap((k) => [prefix + k, ...schemaKeys(props[k], `${prefix}${k}.`), ...(props[k].items ? schemaKeys(props[k].items as JsonSchema, `${prefix}${k}.`) : [])]);
}

export class EntityTypeError extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export function inferenceEnabled(rt: SluiceRuntime, pipeId: string): boolean {
  return rt.pipe(pipeId)?.effective.infer_pipe_entity_types !== false;
}

interface Stored {
  offsets: Record<string, number>;
  schema: JsonSchema;
}

/** Merges the versions of `datasets` written since the stored offsets into the stored schema. */
async function datasetsSchema(rt: SluiceRuntime, key: string, datasets: string[]): Promise<JsonSchema> {
  // Kept as JSON text: entity properties such as "$ids" are not field names document stores accept.
  const text = await rt.store.getMeta<string>(key);
  const stored: Stored = text ? (JSON.parse(text) as Stored) : { offsets: {}, schema: inferSchema([]) };
  let schema = stored.schema;
  const offsets = { ...stored.offsets };
  let changed = false;
  for (const ds of datasets) {
    const info = await rt.store.datasetInfo(ds);
    const from = offsets[ds];
    if (!info || info.lastOffset === from) continue;
    const batch: Entity[] = [];
    for await (const e of rt.store.scan(ds, { since: from, history: true, deleted: false })) {
      batch.push(e);
      if (batch.length >= 1000) schema = inferSchema(batch.splice(0), schema);
    }
    schema = inferSchema(batch, schema);
    offsets[ds] = info.lastOffset;
    changed = true;
  }
  if (changed) await rt.store.setMeta(key, JSON.stringify({ offsets, schema }));
  return schema;
}

function entityType(pipeId: string, side: 'source' | 'sink', schema: JsonSchema): JsonSchema {
  return { $id: `${pipeId}:${side}`, $schema: 'http://json-schema.org/draft-07/schema#', title: `${pipeId} (${side})`, ...schema };
}

/** The entity type of what pipe `pipeId` reads (`source`) or writes (`sink`). */
export async function pipeEntityType(rt: SluiceRuntime, pipeId: string, side: 'source' | 'sink'): Promise<JsonSchema> {
  const pipe = rt.pipe(pipeId);
  if (!pipe) throw new EntityTypeError(404, `no pipe "${pipeId}"`);
  if (!inferenceEnabled(rt, pipeId)) throw new EntityTypeError(404, `pipe "${pipeId}" has no entity types: infer_pipe_entity_types is false`);
  const datasets = side === 'sink' ? (pipe.writes ? [pipe.writes] : []) : (rt.pump(pipeId)?.inst.source.datasets ?? pipe.reads);
  if (datasets.length) return entityType(pipeId, side, await datasetsSchema(rt, entityTypesDocument[side](pipeId), datasets));
  return entityType(pipeId, side, await sampleSchema(rt, pipeId, side === 'source' ? 'source' : 'sink', 1000));
}

/** The schema of up to `sampleSize` entities of the pipe at `stage`, computed from its source. */
export async function sampleSchema(rt: SluiceRuntime, pipeId: string, stage: 'source' | 'sink', sampleSize: number): Promise<JsonSchema> {
  try {
    return inferSchema(await previewEntities(rt, pipeId, stage, { limit: sampleSize }));
  } catch (err) {
    if (err instanceof PreviewError) throw new EntityTypeError(err.status === 404 ? 404 : 409, err.message);
    throw err;
  }
}

/** The schema of up to `sampleSize` latest entities of a dataset. */
export async function datasetSchema(rt: SluiceRuntime, dataset: string, sampleSize: number): Promise<JsonSchema> {
  if (!(await rt.store.datasetInfo(dataset))) throw new EntityTypeError(404, `no dataset "${dataset}"`);
  const sample: Entity[] = [];
  for await (const e of rt.store.scan(dataset, { history: false, deleted: false, limit: sampleSize })) sample.push(e);
  return inferSchema(sample);
}
