import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import { planConfigMaps, runtimeDeployments } from '../../operator/controllers/desired.js';
import type { SluiceInstance } from '../../operator/controllers/types.js';
import { readPlanFile } from '../../cli/commands/runtime.js';

const inst: SluiceInstance = { apiVersion: 'sluice.io/v1alpha1', kind: 'SluiceInstance', metadata: { name: 'big', namespace: 'ns', uid: 'u-1' }, spec: { runtime: { replicas: 1 } } };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('the plan in ConfigMaps', () => {
  it('splits a large plan over several ConfigMaps, which a runtime reads back as one plan', () => {
    // Incompressible embedded entities make a plan of several MiB even when gzipped.
    const pipes = Array.from({ length: 40 }, (_, p) => ({
      _id: `p${p}`,
      type: 'pipe',
      source: { type: 'embedded', entities: Array.from({ length: 60 }, (_, i) => ({ _id: `e${i}`, blob: randomBytes(600).toString('base64') })) },
    }));
    const plan = compile([{ path: 'all.json', text: JSON.stringify(pipes), format: 'json', role: 'single' }]).plan!;
    const maps = planConfigMaps(inst, plan);
    expect(maps.length).toBeGreaterThan(1);
    for (const [i, cm] of maps.entries()) {
      const data = cm.binaryData as Record<string, string>;
      const [key] = Object.keys(data);
      expect(key).toBe(`plan.json.gz.part-${String(i).padStart(3, '0')}`);
      // Below the 1 MiB limit of a ConfigMap.
      expect(Buffer.from(data[key], 'base64').length).toBeLessThan(1024 * 1024 - 4096);
      expect(cm.metadata.annotations?.['sluice.io/plan-part']).toBe(`${i}/${maps.length}`);
    }
    // Mounted as the Deployment says: one directory per part under the plan path.
    const deployment = runtimeDeployments(inst, plan, maps.length)[0] as unknown as { spec: { template: { spec: { containers: { volumeMounts: { name: string; mountPath: string }[] }[] } } } };
    const mounts = deployment.spec.template.spec.containers[0].volumeMounts.filter((m) => m.name.startsWith('plan-'));
    expect(mounts.map((m) => m.mountPath)).toEqual(maps.map((_, i) => `/etc/sluice/plan/part-${i}`));
    const root = mkdtempSync(join(tmpdir(), 'sluice-plan-'));
    dirs.push(root);
    maps.forEach((cm, i) => {
      mkdirSync(join(root, `part-${i}`));
      for (const [k, v] of Object.entries(cm.binaryData as Record<string, string>)) writeFileSync(join(root, `part-${i}`, k), Buffer.from(v, 'base64'));
    });
    // The kubelet's own bookkeeping entries (..data and the like) are skipped.
    mkdirSync(join(root, 'part-0', '..2026_11_28_00_00_00.000000001'));
    expect(readPlanFile(root)).toEqual(plan);
  });
});
