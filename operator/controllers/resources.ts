/**
 * Pipe and System resources (`kubectl apply`): they join their instance's config at the next
 * reconcile. An id that git already defines is refused with a condition on the resource rather
 * than silently overriding git. Their status shows what the compiler and the runtime say.
 */
import { collectEntities } from '../../compiler/config/entities.js';
import { DiagnosticBag, formatDiagnostic, type Diagnostic } from '../../compiler/diagnostics.js';
import type { SourceFile } from '../../compiler/load/files.js';
import type { ExecutionPlan } from '../../compiler/plan/types.js';
import type { Kube } from '../kube/rest.js';
import { API_VERSION } from './names.js';
import { pipeState, type PipeView } from './runtime-status.js';
import { setCondition, type ComponentResource, type ComponentStatus, type SluiceInstance } from './types.js';

export interface Resources {
  accepted: { resource: ComponentResource; id: string; file: string }[];
  rejected: { resource: ComponentResource; id: string; reason: string; message: string }[];
}

function idOf(r: ComponentResource): string {
  return typeof r.spec.id === 'string' && r.spec.id ? r.spec.id : r.metadata.name;
}

export function resourceFile(r: ComponentResource): string {
  return `k8s/${r.kind === 'Pipe' ? 'pipes' : 'systems'}/${r.metadata.name}.conf.json`;
}

export async function collectResources(kube: Kube, inst: SluiceInstance, gitFiles: SourceFile[]): Promise<Resources> {
  const gitIds = new Set(collectEntities(gitFiles, new DiagnosticBag()).map((e) => e.id));
  const out: Resources = { accepted: [], rejected: [] };
  const seen = new Map<string, ComponentResource>();
  for (const kind of ['Pipe', 'System']) {
    const items = await kube.list<ComponentResource>(API_VERSION, kind, inst.metadata.namespace);
    for (const r of items.filter((x) => x.spec?.instance === inst.metadata.name && !x.metadata.deletionTimestamp).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
      const id = idOf(r);
      if (gitIds.has(id)) {
        out.rejected.push({ resource: r, id, reason: 'IdCollision', message: `id "${id}" is already defined in the instance's git config; a ${kind} resource cannot override it` });
      } else if (seen.has(id)) {
        out.rejected.push({ resource: r, id, reason: 'IdCollision', message: `id "${id}" is also used by ${seen.get(id)!.kind} "${seen.get(id)!.metadata.name}"` });
      } else {
        seen.set(id, r);
        out.accepted.push({ resource: r, id, file: resourceFile(r) });
      }
    }
  }
  return out;
}

/** The accepted resources as config files (one entity each), in the layout the compiler reads. */
export function resourceFiles(accepted: Resources['accepted']): SourceFile[] {
  return accepted.map(({ resource, id, file }) => {
    const { instance: _instance, id: _id, ...config } = resource.spec;
    const entity = resource.kind === 'Pipe' ? { _id: id, type: 'pipe', ...config } : { _id: id, ...config };
    return { path: file, text: JSON.stringify(entity, null, 2) + '\n', format: 'json' as const, role: resource.kind === 'Pipe' ? ('pipe' as const) : ('system' as const) };
  });
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function updateResourceStatuses(kube: Kube, resources: Resources, plan: ExecutionPlan | null, diagnostics: Diagnostic[], views: Map<string, PipeView> | null): Promise<void> {
  const write = async (r: ComponentResource, status: ComponentStatus) => {
    const next: ComponentStatus = { ...(r.status ?? {}), ...status, observedGeneration: r.metadata.generation };
    if (same(next, r.status)) return;
    r.status = next;
    await kube.mergePatch(API_VERSION, r.kind, r.metadata.namespace, r.metadata.name, { status: next }, 'status').catch(() => undefined);
  };
  for (const { resource, reason, message } of resources.rejected) {
    await write(resource, { conditions: setCondition(resource.status?.conditions, { type: 'Accepted', status: 'False', reason, message }), state: 'Rejected' });
  }
  for (const { resource, id, file } of resources.accepted) {
    const own = diagnostics.filter((d) => d.file === file);
    const errors = own.filter((d) => d.severity === 'error');
    let conditions = setCondition(resource.status?.conditions, { type: 'Accepted', status: 'True', reason: 'Accepted', message: `part of the config of instance "${resource.spec.instance}" as "${id}"` });
    conditions = setCondition(conditions, errors.length ? { type: 'Compiled', status: 'False', reason: 'CompileFailed', message: errors.slice(0, 5).map(formatDiagnostic).join('; ').slice(0, 2000) } : { type: 'Compiled', status: 'True', reason: 'Compiled', message: 'compiled' });
    const status: ComponentStatus = { conditions, pipeId: id, diagnostics: own.map((d) => ({ file: d.file, line: d.line, column: d.column, severity: d.severity, code: d.code, message: d.message })) };
    const pipe = plan?.pipes.find((p) => p.id === id);
    if (resource.kind === 'Pipe' && pipe) {
      status.source = pipe.source.type;
      status.sink = pipe.sink.type;
      status.replica = plan?.placement?.assignments[id] ?? 0;
      if (views) {
        const v = views.get(id);
        status.state = errors.length ? 'Invalid' : pipeState(v?.runtime);
        if (typeof v?.runtime?.['last-run'] === 'string') status.lastRun = v.runtime['last-run'] as string;
        if (typeof v?.storage?.['count-index-exists'] === 'number') status.entities = v.storage['count-index-exists'] as number;
      }
    } else if (resource.kind === 'Pipe') status.state = errors.length ? 'Invalid' : 'Pending';
    else status.state = errors.length ? 'Invalid' : plan?.systems.some((s) => s.id === id) ? 'Ready' : 'Pending';
    await write(resource, status);
  }
}
