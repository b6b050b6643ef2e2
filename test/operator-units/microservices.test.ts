/** The operator's microservice objects as data: names, limits, schemes, which microservices run, scheduled pulls. */
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import { lastCronTime } from '../../compiler/plan/microservices.js';
import { microserviceName, microserviceObjects, nextMicroserviceRestartMs } from '../../operator/controllers/microservices.js';
import type { SluiceInstance } from '../../operator/controllers/types.js';

const inst: SluiceInstance = { apiVersion: 'sluice.io/v1alpha1', kind: 'SluiceInstance', metadata: { name: 'shop', namespace: 'prod', uid: 'u-1' }, spec: {} };

function plan(entities: Record<string, unknown>[]) {
  const r = compile([{ path: 'all.json', text: JSON.stringify(entities), format: 'json', role: 'single' }]);
  if (!r.plan) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.plan;
}

const ms = (id: string, extra: Record<string, unknown> = {}, docker: Record<string, unknown> = {}) => ({ _id: id, type: 'system:microservice', docker: { image: 'x/y:1', port: 8080, ...docker }, ...extra });
type Obj = { kind: string; metadata: { name: string }; spec?: any };
const deployment = (objects: Obj[], name: string) => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;

describe("the operator's microservice objects", () => {
  it('writes limits the way the API server does, so that drift checks compare like with like', () => {
    const { objects } = microserviceObjects(inst, plan([ms('aa', {}, { memory: 1024, cpu_quota: 100 }), ms('bb', {}, { memory: 100, cpu_quota: 25, cpu_period: 50 }), ms('cc')]), {});
    const limits = (name: string) => deployment(objects as Obj[], name).spec.template.spec.containers[0].resources.limits;
    expect(limits('shop-ms-aa')).toEqual({ memory: '1Gi', cpu: '1' });
    expect(limits('shop-ms-bb')).toEqual({ memory: '100Mi', cpu: '500m' });
    expect(limits('shop-ms-cc')).toEqual({ memory: '128Mi', cpu: '250m' });
  });

  it('gives the runtime https addresses for use_https, and runs only what is used or eager', () => {
    const withPipe = plan([ms('secure', { use_https: true }), ms('lazy', { eager_load: false }), ms('used', { eager_load: false }), { _id: 'p', type: 'pipe', source: { type: 'json', system: 'used', url: 'x' } }]);
    const out = microserviceObjects(inst, withPipe, {});
    expect(JSON.parse(out.runtimeEnv!)).toEqual({
      secure: { url: 'https://shop-ms-secure.prod.svc:8080', deployment: 'shop-ms-secure', namespace: 'prod' },
      used: { url: 'http://shop-ms-used.prod.svc:8080', deployment: 'shop-ms-used', namespace: 'prod' },
    });
    // Without environment there is no env Secret; without a registry login no pull Secret.
    expect(out.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Deployment/shop-ms-secure', 'Deployment/shop-ms-used', 'Service/shop-ms-secure', 'Service/shop-ms-used']);

    const off = plan([{ _id: 'node', type: 'metadata', global_defaults: { eager_load_microservices: false } }, ms('idle'), ms('forced', { eager_load: true })]);
    expect(microserviceObjects(inst, off, {}).objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(['shop-ms-forced']);
    expect(microserviceObjects(inst, plan([ms('solo')]), {}).runtimeEnv).toContain('shop-ms-solo');
    expect(microserviceObjects(inst, plan([]), {}).runtimeEnv).toBeNull();
  });

  it('makes DNS-safe names, shortened with a digest when long', () => {
    expect(microserviceName('shop', 'My_Service')).toBe('shop-ms-my-service');
    const long = microserviceName('a-rather-long-instance-name', 'an-even-longer-microservice-identifier-x');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^ms-[a-z0-9-]+-[0-9a-f]{8}$/);
    expect(microserviceName('7eleven', 'x')).toMatch(/^ms-7eleven-ms-x-[0-9a-f]{8}$/);
  });

  it('restarts on the pull schedule: the last scheduled time on the pod, the next one as the requeue', () => {
    const now = new Date('2026-03-10T10:20:30Z');
    expect(lastCronTime('0 3 * * *', now)!.toISOString()).toBe('2026-03-10T03:00:00.000Z');
    expect(lastCronTime('*/15 * * * *', now)!.toISOString()).toBe('2026-03-10T10:15:00.000Z');
    expect(lastCronTime('0 0 1 1 *', now)!.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(lastCronTime('not a cron', now)).toBeNull();
    const p = plan([ms('nightly', {}, { pull_image_cron_expression: '0 3 * * *' }), ms('hourly', {}, { pull_image_cron_expression: '0 * * * *' })]);
    expect(nextMicroserviceRestartMs(p, now)).toBe(39 * 60_000 + 30_000);
    const pod = deployment(microserviceObjects(inst, p, {}, now).objects as Obj[], 'shop-ms-nightly').spec.template.metadata.annotations;
    expect(pod['sluice.io/image-pulled-at']).toBe('2026-03-10T03:00:00.000Z');
  });
});
