/**
 * Endpoints Sluice Studio needs beyond Sesam's API, under /api/studio (public like the rest of
 * the API, so whatever the Studio shows a script can read too):
 *
 * - GET  /studio/config                 the config files as text, whether they can be edited here,
 *                                       and where a managed plan came from (git revision)
 * - POST /studio/validate               compiles the config with some files replaced: the
 *                                       compiler's diagnostics and the impact of saving it
 * - GET  /studio/pipes                  one compact row per pipe for the pipes list: state, last run
 *                                       (when, how long, entities in and out, errors), queue, next run
 * - GET  /studio/graph                  systems, pipes and datasets with their edges and pipe states
 * - GET  /studio/datasets/{id}/history  every stored version of one entity
 * - POST /studio/pipes/{id}/preview     a pipe's transforms applied to given entities, optionally
 *                                       with edited config (nothing is written)
 */
import { documentOperations, schemaHelpers } from './api-schemas.js';
import type { FastifyPluginAsync } from 'fastify';
import { compile } from '../../compiler/compile.js';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { formatOf, type SourceFile } from '../../compiler/load/files.js';
import type { ExecutionPlan, PlanPipe } from '../../compiler/plan/types.js';
import { parseEntityJson, stringifyValue } from '../../compiler/values/json.js';
import type { Entity, Value } from '../../compiler/values/types.js';
import { components } from '../components/registry.js';
import type { RunInfo } from '../components/types.js';
import { hopsResolverFor } from '../datasets/hops-resolver.js';
import { addNamespaces, removeNamespaces } from '../executor/namespaces.js';
import { previewEntities, PreviewError } from '../service/preview.js';
import { pipeIds, pumpRuntime } from '../service/views.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { entitiesInFiles } from './config-upload.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { configImpact } from './studio-impact.js';
import { idParams, jsonText, param, querySchema, sendJsonText, stringParam, intParam } from './util.js';

type PipeState = 'running' | 'failed' | 'disabled' | 'ok' | 'never-run' | 'invalid' | 'not-deployed';

interface GraphNode {
  id: string;
  kind: 'pipe' | 'dataset' | 'system';
  name: string;
  state?: PipeState;
  type?: string;
}

interface GraphEdge {
  from: string;
  to: string;
  /** source: what a pipe reads; sink: what it writes; hops: datasets it joins; transform: systems its transforms call. */
  kind: 'source' | 'sink' | 'hops' | 'transform';
}

function roleFor(path: string): SourceFile['role'] {
  return /^node-metadata\.conf\./.test(path) ? 'node-metadata' : path.startsWith('systems/') ? 'system' : 'pipe';
}

/** The running files with `changes` applied (replaced or added) and `removed` dropped. */
function proposedFiles(current: SourceFile[], changes: { path: string; text: string }[], removed: string[]): SourceFile[] {
  const out = current.filter((f) => !removed.includes(f.path) && !changes.some((c) => c.path === f.path));
  for (const c of changes) out.push({ path: c.path, text: c.text.replace(/\r\n?/g, '\n'), format: formatOf(c.path), role: roleFor(c.path) });
  return out;
}

function diagnosticJson(d: Diagnostic) {
  return { file: d.file, line: d.line, column: d.column, severity: d.severity, code: d.code, message: d.message };
}

export function pipeState(rt: SluiceRuntime, id: string): PipeState {
  if (!rt.pipe(id)) return 'invalid';
  const pump = rt.pump(id);
  if (!pump) return rt.instantiationErrors.has(id) ? 'failed' : 'not-deployed';
  if (pump.running) return 'running';
  if (pump.lastOutcome?.status === 'failed') return 'failed';
  if (pump.disabled) return 'disabled';
  return pump.lastOutcome ? 'ok' : 'never-run';
}

function systemOf(config: Record<string, unknown>): string | null {
  return typeof config.system === 'string' ? config.system : null;
}

export function flowGraph(rt: SluiceRuntime): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const plan = rt.plan;
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const add = (n: GraphNode) => nodes.get(n.id) ?? (nodes.set(n.id, n), n);
  for (const s of plan?.systems ?? []) add({ id: `system:${s.id}`, kind: 'system', name: s.id, type: s.type });
  const edge = (from: string, to: string, kind: GraphEdge['kind']) => {
    if (!edges.some((e) => e.from === from && e.to === to && e.kind === kind)) edges.push({ from, to, kind });
  };
  for (const p of plan?.pipes ?? []) {
    const pid = `pipe:${p.id}`;
    add({ id: pid, kind: 'pipe', name: p.id, state: pipeState(rt, p.id), type: `${p.source.type} → ${p.sink.type}` });
    const ds = (d: string) => add({ id: `dataset:${d}`, kind: 'dataset', name: d }).id;
    for (const d of p.reads) edge(ds(d), pid, 'source');
    for (const h of p.hops) edge(ds(h.dataset), pid, 'hops');
    if (p.writes) edge(pid, ds(p.writes), 'sink');
    const sys = (id: string) => add({ id: `system:${id}`, kind: 'system', name: id }).id;
    const from = systemOf(p.source.config);
    if (from) edge(sys(from), pid, 'source');
    for (const t of p.transforms) {
      const s = systemOf(t.config);
      if (s) edge(sys(s), pid, 'transform');
    }
    const to = systemOf(p.sink.config);
    if (to) edge(pid, sys(to), 'sink');
  }
  for (const c of rt.invalid.values()) if (c.kind === 'pipe') add({ id: `pipe:${c.id}`, kind: 'pipe', name: c.id, state: 'invalid' });
  return { nodes: [...nodes.values()], edges };
}

async function pipeRow(rt: SluiceRuntime, id: string) {
  const pipe = rt.pipe(id);
  if (!pipe) return { id, state: 'invalid' as PipeState, source: null, sink: null, dataset: null, last_run: null, queue: null, next_run: null, error: rt.invalid.get(id)?.errors.find((d) => d.severity === 'error')?.message ?? null };
  const outcome = rt.pump(id)?.lastOutcome ?? null;
  const runtime = (await pumpRuntime(rt, id)) as { queues: { source: number | null }; 'next-run': string | null };
  return {
    id,
    state: pipeState(rt, id),
    source: pipe.source.type,
    sink: pipe.sink.type,
    dataset: pipe.writes,
    last_run: outcome && { ended: new Date(outcome.ended).toISOString(), duration_ms: outcome.ended - outcome.started, status: outcome.status, sync: outcome.syncType, read: outcome.read, written: outcome.written, failed: outcome.failed, error: outcome.error ?? null },
    queue: runtime.queues.source,
    next_run: runtime['next-run'],
    error: outcome?.error ?? rt.instantiationErrors.get(id) ?? null,
  };
}

/** Where the running config comes from: files this runtime holds, or a plan compiled elsewhere. */
function configSource(rt: SluiceRuntime) {
  const plan = rt.plan;
  if (!rt.managed) return { kind: 'files' as const, editable: true };
  return { kind: 'plan' as const, editable: false, revision: plan?.revision ?? null, repository: plan?.source?.repository ?? null, ref: plan?.source?.ref ?? null, path: plan?.source?.path ?? null };
}

function entitiesFromText(text: string): Entity[] {
  let value: Value;
  try {
    value = parseEntityJson(text);
  } catch (err) {
    throw badRequest(`the entities are not valid JSON: ${(err as Error).message}`, 'INVALID_JSON');
  }
  const list = Array.isArray(value) ? value : [value];
  for (const e of list) if (e === null || typeof e !== 'object' || Array.isArray(e)) throw badRequest('each entity must be a JSON object', 'INVALID_ENTITY');
  return list as Entity[];
}

interface PreviewStep {
  transform: number;
  type: string;
  entities: Entity[];
  errors: string[];
}

/** Applies `pipe`'s transforms to `entities`, keeping each transform's output. */
async function applyTransforms(rt: SluiceRuntime, pipe: PlanPipe, plan: ExecutionPlan, entities: Entity[]): Promise<PreviewStep[]> {
  const ctx = {
    store: rt.store,
    plan,
    pipe,
    logger: rt.logger.child({ pipe: pipe.id, preview: true }),
    // Secret values stay in the runtime: transforms that need them fail in a preview.
    systems: new Map(plan.systems.map((s) => [s.id, { ...s, config: s.effective }])),
    hopsResolver: () => hopsResolverFor(rt.store),
    services: {},
  };
  const run: RunInfo = { id: `studio-preview`, pipeId: pipe.id, full: false, signal: new AbortController().signal };
  let current = pipe.add_namespaces && pipe.namespaces ? entities.map((e) => addNamespaces(e, pipe.namespaces!)) : entities;
  const steps: PreviewStep[] = [];
  for (let i = 0; i < pipe.transforms.length; i++) {
    const t = components.createTransform(pipe.transforms[i], ctx);
    try {
      const r = await t.apply(current, run);
      current = r.entities;
      steps.push({ transform: i, type: pipe.transforms[i].type, entities: current, errors: r.failures.map((f) => `${typeof f.entity._id === 'string' ? f.entity._id : '?'}: ${f.error.message}`) });
    } catch (err) {
      steps.push({ transform: i, type: pipe.transforms[i].type, entities: [], errors: [(err as Error).message] });
      return steps;
    }
  }
  if (pipe.remove_namespaces && steps.length) steps[steps.length - 1].entities = current.map(removeNamespaces);
  return steps;
}

const { ref, list, obj, str, int, bool, json } = schemaHelpers;
const diagnostic = obj({ file: str, line: int, column: int, severity: str, code: str, message: str }, ['severity', 'code', 'message']);
documentOperations({
  'GET /api/studio/config': { responses: { '200': obj({ source: { type: 'object' }, plan: { type: ['object', 'null'] }, files: list(obj({ path: str, text: str, format: str })), entities: list({ type: 'object' }), pending_config_errors: list(diagnostic) }) } },
  'POST /api/studio/validate': {
    body: json(obj({ files: list(obj({ path: str, text: str }, ['path', 'text'])), removed: list(str) })),
    responses: { '200': obj({ ok: bool, errors: int, warnings: int, diagnostics: list(diagnostic), impact: { type: ['object', 'null'] } }, ['ok', 'diagnostics']) },
  },
  'GET /api/studio/pipes': { responses: { '200': list(obj({ _id: str, state: str }, ['_id'], { additionalProperties: true })) } },
  'GET /api/studio/graph': { responses: { '200': obj({ nodes: list({ type: 'object' }), edges: list({ type: 'object' }) }, [], { additionalProperties: true }) } },
  'GET /api/studio/datasets/{id}/history': { responses: { '200': list(ref('DatasetEntity')) } },
  'POST /api/studio/pipes/{id}/preview': { body: json(obj({ config: str, path: str, entities: str, limit: int })), responses: { '200': { type: 'object', additionalProperties: true } } },
});

export const studioSupportPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  app.get('/studio/config', { schema: { summary: 'Studio: the config files as text, whether they can be edited through the API, and the origin of a managed plan', tags: ['studio'] } }, async (_request, reply) => {
    const files = rt.files.map((f) => ({ path: f.path, text: f.text, format: f.format }));
    const entities = entitiesInFiles(rt.files);
    return sendJsonText(reply, jsonText({ source: configSource(rt), plan: rt.plan ? { hash: rt.plan.hash, pipes: rt.plan.pipes.length, systems: rt.plan.systems.length } : null, files, entities, pending_config_errors: rt.pendingDiagnostics.map(diagnosticJson) }));
  });

  app.post(
    '/studio/validate',
    {
      schema: {
        summary: 'Studio: compiles the running config with files replaced, added or removed; answers the diagnostics (as `sluice validate`) and what saving would change',
        tags: ['studio'],
        body: {
          type: 'object',
          properties: {
            files: { type: 'array', items: { type: 'object', properties: { path: { type: 'string', minLength: 1 }, text: { type: 'string' } }, required: ['path', 'text'] } },
            removed: { type: 'array', items: { type: 'string' } },
          },
        },
        bodyDescription: '{"files": [{"path": "pipes/x.conf.json", "text": "..."}], "removed": ["pipes/old.conf.json"]}',
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as { files?: { path: string; text: string }[]; removed?: string[] };
      const known = new Set(rt.files.map((f) => f.path));
      for (const f of body.files ?? []) if (!known.has(f.path) && (!/\.conf\.(json|ya?ml)$/.test(f.path) || f.path.includes('..'))) throw badRequest(`"${f.path}" is not a config file path (pipes/<name>.conf.json, systems/..., node-metadata.conf.json)`, 'INVALID_PARAMETER');
      const files = proposedFiles(rt.files, body.files ?? [], body.removed ?? []);
      const result = compile(files, { env: rt.env, secrets: rt.secretNames() });
      const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
      return sendJsonText(
        reply,
        jsonText({
          ok: errors === 0,
          errors,
          warnings: result.diagnostics.length - errors,
          diagnostics: result.diagnostics.map(diagnosticJson),
          impact: result.plan ? configImpact(rt.plan, result.plan) : null,
        }),
      );
    },
  );

  app.get('/studio/pipes', { schema: { summary: 'Studio: one row per pipe: state, last run (ended, duration, entities read and written, failures, error), queue size and next run', tags: ['studio'] } }, async (_request, reply) => {
    const rows = [];
    for (const id of pipeIds(rt)) if (!id.startsWith('system:')) rows.push(await pipeRow(rt, id));
    return sendJsonText(reply, jsonText(rows));
  });

  app.get('/studio/graph', { schema: { summary: 'Studio: the flow graph of the plan (systems, pipes, datasets; source, sink, hops and transform edges) with pipe states', tags: ['studio'] } }, async (_request, reply) => sendJsonText(reply, jsonText(flowGraph(rt))));

  app.get(
    '/studio/datasets/:id/history',
    { schema: { summary: 'Studio: every stored version of one entity, oldest first', tags: ['studio'], params: idParams, querystring: querySchema({ entity_id: stringParam('The entity _id') }) } },
    async (request, reply) => {
      const id = param(request);
      const entityId = (request.query as { entity_id?: string }).entity_id;
      if (!entityId) throw badRequest('the query parameter "entity_id" is required', 'INVALID_PARAMETER');
      if (!(await rt.store.datasetInfo(id))) throw notFound(`no dataset "${id}"`);
      const versions = await rt.store.history(id, entityId);
      if (!versions.length) throw notFound(`dataset "${id}" has no entity "${entityId}"`);
      return sendJsonText(reply, `[${versions.map((v) => stringifyValue(v)).join(',')}]`);
    },
  );

  app.post(
    '/studio/pipes/:id/preview',
    {
      schema: {
        summary: "Studio: the pipe's transforms applied to entities (given, or the first of its source), with its config as edited; nothing is written",
        tags: ['studio'],
        params: idParams,
        body: { type: 'object', properties: { config: { type: 'string' }, path: { type: 'string' }, entities: { type: 'string' }, limit: intParam('Source entities to use when none are given (default 1)', 1) } },
        bodyDescription: '{"config": "<pipe config text>", "path": "pipes/x.conf.json", "entities": "<JSON entity or array>"}',
      },
    },
    async (request, reply) => {
      const id = param(request);
      const body = (request.body ?? {}) as { config?: string; path?: string; entities?: string; limit?: number };
      let plan = rt.plan;
      if (body.config !== undefined) {
        const path = body.path ?? entitiesInFiles(rt.files).find((e) => e.id === id)?.file ?? `pipes/${id}.conf.json`;
        const result = compile(proposedFiles(rt.files, [{ path, text: body.config }], []), { env: rt.env, secrets: rt.secretNames() });
        if (!result.plan) {
          const errors = result.diagnostics.filter((d) => d.severity === 'error');
          throw badRequest(`the config has ${errors.length} error${errors.length === 1 ? '' : 's'}`, 'INVALID_CONFIG', { diagnostics: errors.map(diagnosticJson) });
        }
        plan = result.plan;
      }
      const pipe = plan?.pipes.find((p) => p.id === id);
      if (!plan || !pipe) throw notFound(`no pipe "${id}"`);
      let sources: Entity[];
      if (body.entities !== undefined && body.entities.trim() !== '') sources = entitiesFromText(body.entities);
      else {
        try {
          sources = await previewEntities(rt, id, 'source', { limit: Math.max(1, Math.min(body.limit ?? 1, 100)) });
        } catch (err) {
          if (err instanceof PreviewError) throw new ApiError(err.status, err.status === 404 ? 'NOT_FOUND' : 'PIPE_NOT_RUNNABLE', err.message);
          throw err;
        }
      }
      const steps = await applyTransforms(rt, pipe, plan, sources);
      const entityList = (es: Entity[]) => `[${es.map((e) => stringifyValue(e)).join(',')}]`;
      const stepText = steps.map((s) => `{"transform":${s.transform},"type":${JSON.stringify(s.type)},"errors":${JSON.stringify(s.errors)},"entities":${entityList(s.entities)}}`);
      return sendJsonText(reply, `{"source":${entityList(sources)},"steps":[${stepText.join(',')}]}`);
    },
  );
};
