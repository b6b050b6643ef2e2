/**
 * What saving a config change will do, for the Studio's impact preview: the plan diff of
 * compiler/plan/diff.ts, read with the runtime's rules for a changed pipe (rebuilt; a rescan when
 * `rescan_when_config_changes` is set; otherwise it goes on from its last-seen, so output made
 * with the old transforms stays until the pipe is reset), and the datasets no pipe writes any more.
 */
import { diffPlans } from '../../compiler/plan/diff.js';
import type { ExecutionPlan, PlanPipe } from '../../compiler/plan/types.js';

export interface PipeChange {
  id: string;
  /** Top-level keys of the effective config that differ (source, transform, sink, pump, ...). */
  parts: string[];
  /** What happens on save. */
  effect: 'rescan' | 'reset-advised' | 'rebuilt';
}

export interface ConfigImpact {
  added: string[];
  removed: string[];
  changed: PipeChange[];
  /** Pipes rebuilt because a system they use changed. */
  systemChanges: { added: string[]; removed: string[]; changed: string[]; pipes: string[] };
  /** Datasets written by a pipe now and by none after the change. */
  datasetsNoLongerProduced: string[];
  /** Pipes that will read or join a dataset no pipe produces any more. */
  orphanedReaders: { pipe: string; dataset: string }[];
}

function differingParts(before: PlanPipe, after: PlanPipe): string[] {
  const keys = new Set([...Object.keys(before.effective), ...Object.keys(after.effective)]);
  return [...keys].filter((k) => JSON.stringify(before.effective[k]) !== JSON.stringify(after.effective[k])).sort();
}

/** Changes that alter what a pipe writes for entities it already processed. */
const OUTPUT_PARTS = new Set(['source', 'transform', 'namespaced_identifiers', 'add_namespaces', 'remove_namespaces']);

export function configImpact(before: ExecutionPlan | null, after: ExecutionPlan): ConfigImpact {
  const diff = diffPlans(before, after);
  const old = new Map((before?.pipes ?? []).map((p) => [p.id, p]));
  const now = new Map(after.pipes.map((p) => [p.id, p]));
  const changed: PipeChange[] = diff.changed.map((id) => {
    const parts = differingParts(old.get(id)!, now.get(id)!);
    const rescan = now.get(id)!.effective.rescan_when_config_changes === true;
    return { id, parts, effect: rescan ? 'rescan' : parts.some((p) => OUTPUT_PARTS.has(p)) ? 'reset-advised' : 'rebuilt' };
  });
  const touched = new Set([...diff.systems.added, ...diff.systems.removed, ...diff.systems.changed]);
  const systemPipes = after.pipes.filter((p) => !diff.added.includes(p.id) && p.systems.some((s) => touched.has(s))).map((p) => p.id);
  const produced = (plan: ExecutionPlan | null) => new Set((plan?.pipes ?? []).map((p) => p.writes).filter((d): d is string => d !== null));
  const producedAfter = produced(after);
  const lost = [...produced(before)].filter((d) => !producedAfter.has(d)).sort();
  const lostSet = new Set(lost);
  const orphanedReaders: ConfigImpact['orphanedReaders'] = [];
  for (const p of after.pipes) for (const d of new Set([...p.reads, ...p.hops.map((h) => h.dataset)])) if (lostSet.has(d)) orphanedReaders.push({ pipe: p.id, dataset: d });
  return {
    added: diff.added,
    removed: diff.removed,
    changed,
    systemChanges: { ...diff.systems, pipes: systemPipes },
    datasetsNoLongerProduced: lost,
    orphanedReaders,
  };
}
