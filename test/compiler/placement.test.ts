import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import { assignPlacement } from '../../compiler/plan/placement.js';
import type { ExecutionPlan } from '../../compiler/plan/types.js';

/** `chains` groups of pipes where each reads the previous one's dataset, plus `singles` lone pipes. */
function planOf(chains: number[], singles: number): ExecutionPlan {
  const pipes: Record<string, unknown>[] = [];
  chains.forEach((length, c) => {
    for (let i = 0; i < length; i++) {
      pipes.push(i === 0 ? { _id: `chain${c}-0`, type: 'pipe', source: { type: 'embedded', entities: [] } } : { _id: `chain${c}-${i}`, type: 'pipe', source: { type: 'dataset', dataset: `chain${c}-${i - 1}` } });
    }
  });
  for (let i = 0; i < singles; i++) pipes.push({ _id: `single-${i}`, type: 'pipe', source: { type: 'embedded', entities: [] } });
  const r = compile([{ path: 'config.json', text: JSON.stringify(pipes), format: 'json', role: 'single' }]);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.plan!;
}

function loads(assignments: Record<string, number>, replicas: number): number[] {
  const out = new Array<number>(replicas).fill(0);
  for (const r of Object.values(assignments)) out[r]++;
  return out;
}

describe('placement of pipes on runtime replicas', () => {
  it('places every pipe on exactly one replica, balanced', () => {
    const plan = planOf([3, 2, 2], 20);
    const p = assignPlacement(plan, 3);
    expect(Object.keys(p.assignments).sort()).toEqual(plan.pipes.map((x) => x.id).sort());
    const l = loads(p.assignments, 3);
    expect(Math.max(...l) - Math.min(...l)).toBeLessThanOrEqual(3);
  });

  it('is deterministic', () => {
    const plan = planOf([4, 3], 30);
    expect(assignPlacement(plan, 4)).toEqual(assignPlacement(plan, 4));
  });

  it('keeps pipes connected through datasets on one replica when that stays balanced', () => {
    const plan = planOf([3, 3], 12);
    const p = assignPlacement(plan, 3);
    for (const c of [0, 1]) expect(new Set([0, 1, 2].map((i) => p.assignments[`chain${c}-${i}`])).size).toBe(1);
  });

  it('splits a group larger than a fair share', () => {
    const p = assignPlacement(planOf([12], 0), 3);
    expect(loads(p.assignments, 3)).toEqual([4, 4, 4]);
  });

  it('moves few pipes when a replica is added or a pipe is added', () => {
    const plan = planOf([], 60);
    const before = assignPlacement(plan, 3).assignments;
    const scaled = assignPlacement(plan, 4).assignments;
    const moved = Object.keys(before).filter((id) => before[id] !== scaled[id]).length;
    // Ideal is a quarter (15); far from a reshuffle of three quarters.
    expect(moved).toBeLessThanOrEqual(22);
    const grown = assignPlacement(planOf([], 61), 3).assignments;
    expect(Object.keys(before).filter((id) => before[id] !== grown[id]).length).toBeLessThanOrEqual(4);
  });

  it('one replica runs everything', () => {
    const p = assignPlacement(planOf([2], 3), 1);
    expect(new Set(Object.values(p.assignments))).toEqual(new Set([0]));
  });
});
