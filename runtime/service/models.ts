/**
 * Models: named sets of entity types. Explicit models are uploaded through the API (kept in the
 * store); implicit ones group the sink entity types of the pipes: "Global" (pipes whose metadata
 * says `global`), "Input" (pipes that read from outside), "Output" (pipes that write outside), and
 * one per pipe id prefix (the id up to the first "-"), or the models named in `metadata.models`.
 */
import type { PlanPipe } from '../../compiler/plan/types.js';
import { inferenceEnabled, pipeEntityType, schemaKeys, type JsonSchema } from './entity-types.js';
import type { SluiceRuntime } from './runtime.js';

export interface Model {
  _id: string;
  name?: string;
  description?: string;
  entity_types: JsonSchema[];
  [key: string]: unknown;
}

const META_MODELS = 'models';

export class ModelError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

// Kept as JSON text: JSON Schemas have keys such as "$id" that document stores refuse as field names.
export async function explicitModels(rt: SluiceRuntime): Promise<Model[]> {
  const text = await rt.store.getMeta<string>(META_MODELS);
  return text ? (JSON.parse(text) as Model[]) : [];
}

async function saveModels(rt: SluiceRuntime, models: Model[]): Promise<void> {
  await rt.store.setMeta(META_MODELS, JSON.stringify(models));
}

/** Checks posted models: each an object with a string `_id` and a list of entity types with string `$id`s. */
export function validateModels(body: unknown): Model[] {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) throw new ModelError(400, 'send a JSON array of models');
  return list.map((m, i) => {
    const at = `model ${i + 1} of ${list.length}`;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new ModelError(400, `${at} is not a JSON object`);
    const model = m as Record<string, unknown>;
    if (typeof model._id !== 'string' || model._id === '') throw new ModelError(400, `${at} needs a non-empty string "_id"`);
    const types = model.entity_types ?? [];
    if (!Array.isArray(types)) throw new ModelError(400, `model "${model._id}": "entity_types" must be a list of JSON Schemas`);
    types.forEach((t, j) => {
      if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new ModelError(400, `model "${model._id}": entity type ${j + 1} is not a JSON Schema object`);
      if (typeof (t as JsonSchema).$id !== 'string') throw new ModelError(400, `model "${model._id}": entity type ${j + 1} needs a string "$id"`);
    });
    return { ...model, _id: model._id, name: typeof model.name === 'string' ? model.name : model._id, entity_types: types as JsonSchema[] };
  });
}

/** Adds or replaces models by `_id`. */
export async function addModels(rt: SluiceRuntime, models: Model[]): Promise<Model[]> {
  const byId = new Map((await explicitModels(rt)).map((m) => [m._id, m]));
  for (const m of models) byId.set(m._id, m);
  await saveModels(rt, [...byId.values()]);
  return models;
}

export async function deleteModel(rt: SluiceRuntime, id: string): Promise<Model> {
  const all = await explicitModels(rt);
  const found = all.find((m) => m._id === id);
  if (!found) throw new ModelError(404, `no explicit model "${id}" (implicit models follow the pipes and cannot be deleted)`);
  await saveModels(
    rt,
    all.filter((m) => m !== found),
  );
  return found;
}

function isDatasetBased(component: { type: string }): boolean {
  return ['dataset', 'merge', 'merge_datasets', 'union_datasets', 'diff_datasets'].includes(component.type);
}

/** The implicit models a pipe's sink entity type belongs to. */
export function implicitModelsOf(pipe: PlanPipe): string[] {
  const meta = (pipe.effective.metadata ?? {}) as Record<string, unknown>;
  const out: string[] = [];
  const source = pipe.effective.source as { type: string };
  const sink = pipe.effective.sink as { type: string };
  if (meta.global === true) out.push('Global');
  else if (!isDatasetBased(source)) out.push('Input');
  if (sink.type !== 'dataset') out.push('Output');
  if (Array.isArray(meta.models) && meta.models.every((m) => typeof m === 'string')) out.push(...(meta.models as string[]));
  else out.push(pipe.id.split('-')[0]);
  return [...new Set(out)];
}

export async function implicitModels(rt: SluiceRuntime): Promise<Model[]> {
  const models = new Map<string, Model>();
  for (const pipe of rt.plan?.pipes ?? []) {
    if (pipe.id.startsWith('system:') || !inferenceEnabled(rt, pipe.id)) continue;
    const type = await pipeEntityType(rt, pipe.id, 'sink');
    for (const id of implicitModelsOf(pipe)) {
      let m = models.get(id);
      if (!m) models.set(id, (m = { _id: id, name: id, implicit: true, entity_types: [] }));
      m.entity_types.push(type);
    }
  }
  return [...models.values()].sort((a, b) => a._id.localeCompare(b._id));
}

export interface ModelQuery {
  effective?: boolean;
  verbose?: boolean;
  with_property?: string;
}

/** Explicit models, plus implicit ones (merged into explicit models of the same id with `effective`). */
export async function listModels(rt: SluiceRuntime, q: ModelQuery = {}): Promise<Model[]> {
  const explicit = await explicitModels(rt);
  const implicit = await implicitModels(rt);
  let out: Model[];
  if (q.effective) {
    const byId = new Map<string, Model>(implicit.map((m) => [m._id, { ...m, entity_types: [...m.entity_types] }]));
    for (const m of explicit) {
      const base = byId.get(m._id);
      if (!base) byId.set(m._id, m);
      else {
        const types = new Map(base.entity_types.map((t) => [t.$id as string, t]));
        for (const t of m.entity_types) types.set(t.$id as string, t);
        byId.set(m._id, { ...base, ...m, implicit: false, entity_types: [...types.values()] });
      }
    }
    out = [...byId.values()].sort((a, b) => a._id.localeCompare(b._id));
  } else out = [...explicit, ...implicit];
  if (q.with_property) out = out.filter((m) => m.entity_types.some((t) => schemaKeys(t).includes(q.with_property!)));
  return q.verbose === false ? out.map(brief) : out;
}

function brief(m: Model): Model {
  return { _id: m._id, name: m.name ?? m._id, entity_types: m.entity_types.map((t) => ({ $id: t.$id, ...(t.title ? { title: t.title } : {}) })) };
}

export async function getModel(rt: SluiceRuntime, id: string, q: ModelQuery = {}): Promise<Model> {
  const found = (await listModels(rt, { effective: q.effective, verbose: q.verbose })).find((m) => m._id === id);
  if (!found) throw new ModelError(404, `no model "${id}"`);
  return found;
}

export async function getEntityType(rt: SluiceRuntime, modelId: string, typeId: string, q: ModelQuery = {}): Promise<JsonSchema> {
  const model = await getModel(rt, modelId, { effective: q.effective });
  const t = model.entity_types.find((x) => x.$id === typeId);
  if (!t) throw new ModelError(404, `model "${modelId}" has no entity type "${typeId}"`);
  return t;
}
