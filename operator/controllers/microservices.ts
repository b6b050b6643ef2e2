/**
 * The objects a plan's microservice systems need: for each microservice that runs (a pipe uses it,
 * or eager_load), a Deployment and a Service owned by the instance, a Secret with its environment
 * (strings as they are, other values as JSON text; `$SECRET(...)` values substituted) and, for a
 * private registry, an image pull Secret. `memory` and `cpu_quota`/`cpu_period` become resource
 * limits, `hosts` host aliases, `skip_pull` the pull policy (IfNotPresent, else Always), and
 * `pull_image_cron_expression` a restart at each scheduled time (the pod template carries the last
 * scheduled time, so the restart pulls the image again). The runtime pods learn each microservice's
 * Service address from SLUICE_MICROSERVICES. `cpuset_cpus` has no Kubernetes counterpart and is
 * left out.
 */
import { createHash } from 'node:crypto';
import { substituteSecrets } from '../../compiler/config/env.js';
import { containerEnvironment, lastCronTime, microserviceSystems, nextPullTime, registryOf, startsEagerly, type DockerSettings } from '../../compiler/plan/microservices.js';
import type { ExecutionPlan } from '../../compiler/plan/types.js';
import type { Kube, KubeObject } from '../kube/rest.js';
import { API_VERSION, instanceLabels } from './names.js';
import type { InstanceStatus, SluiceInstance } from './types.js';

export const MICROSERVICE_LABEL = 'sluice.io/microservice';
export const PULLED_AT_ANNOTATION = 'sluice.io/image-pulled-at';

/** A DNS label for the microservice's objects: `<instance>-ms-<id>`, lower case, shortened with a hash when long. */
export function microserviceName(instance: string, id: string): string {
  const name = `${instance}-ms-${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  if (name.length <= 58 && /^[a-z]/.test(name)) return name;
  const digest = createHash('sha256').update(`${instance}\u0000${id}`).digest('hex').slice(0, 8);
  return `ms-${name.slice(0, 48).replace(/-+$/, '')}-${digest}`;
}

export interface MicroserviceObjects {
  objects: KubeObject[];
  /** SLUICE_MICROSERVICES for the runtime pods: system id → Service address, Deployment, namespace. */
  runtimeEnv: string | null;
}

function owned(inst: SluiceInstance, name: string, id: string, annotations?: Record<string, string>) {
  return {
    name,
    namespace: inst.metadata.namespace,
    labels: { ...instanceLabels(inst.metadata.name, 'microservice'), [MICROSERVICE_LABEL]: name },
    ownerReferences: [{ apiVersion: API_VERSION, kind: 'SluiceInstance', name: inst.metadata.name, uid: inst.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    annotations: { 'sluice.io/system': id, ...annotations },
  };
}

/** A byte count the way the API server writes it back (1024Mi is "1Gi"), so that drift checks compare like with like. */
function binaryQuantity(bytes: number): string {
  for (const [suffix, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (bytes % size === 0) return `${bytes / size}${suffix}`;
  return String(bytes);
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A `.dockerconfigjson` for the image's registry. */
function pullSecretData(docker: DockerSettings): string {
  const registry = registryOf(docker.image);
  const server = registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
  const username = docker.username ?? '';
  const password = docker.password ?? '';
  return JSON.stringify({ auths: { [server]: { username, password, auth: b64(`${username}:${password}`) } } });
}

export function microserviceObjects(inst: SluiceInstance, plan: ExecutionPlan, secrets: Record<string, string>, now = new Date()): MicroserviceObjects {
  const objects: KubeObject[] = [];
  const addresses: Record<string, { url: string; deployment: string; namespace: string }> = {};
  const ns = inst.metadata.namespace!;
  for (const system of microserviceSystems(plan)) {
    const config = substituteSecrets(system.effective, secrets) as Record<string, unknown>;
    if (!startsEagerly(plan, system.id, config)) continue;
    const docker = config.docker as DockerSettings;
    const name = microserviceName(inst.metadata.name, system.id);
    const env = containerEnvironment(docker);
    const envSecret = `${name}-env`;
    const pullSecret = docker.username ? `${name}-pull` : null;
    if (Object.keys(env).length) objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: owned(inst, envSecret, system.id), type: 'Opaque', data: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, b64(v)])) });
    if (pullSecret) objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: owned(inst, pullSecret, system.id), type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(pullSecretData(docker)) } });

    // Changed settings (secret values included, as a digest) roll the pod; so does each scheduled pull.
    const digest = createHash('sha256').update(JSON.stringify(docker)).digest('hex').slice(0, 16);
    const pulledAt = lastCronTime(docker.pull_image_cron_expression, now);
    const podAnnotations: Record<string, string> = { 'sluice.io/settings-hash': digest, ...(pulledAt ? { [PULLED_AT_ANNOTATION]: pulledAt.toISOString() } : {}) };
    const hostAliases = new Map<string, string[]>();
    for (const [host, ip] of Object.entries(docker.hosts ?? {})) hostAliases.set(ip, [...(hostAliases.get(ip) ?? []), host]);
    const millicores = Math.max(1, Math.round(((docker.cpu_quota ?? 25) / (docker.cpu_period ?? 100)) * 1000));
    const selector = { 'sluice.io/instance': inst.metadata.name, [MICROSERVICE_LABEL]: name };
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: owned(inst, name, system.id),
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...instanceLabels(inst.metadata.name, 'microservice'), [MICROSERVICE_LABEL]: name }, annotations: podAnnotations },
          spec: {
            containers: [
              {
                name: 'microservice',
                image: docker.image,
                imagePullPolicy: docker.skip_pull ? 'IfNotPresent' : 'Always',
                ports: [{ name: 'http', containerPort: docker.port }],
                env: Object.keys(env).map((k) => ({ name: k, valueFrom: { secretKeyRef: { name: envSecret, key: k } } })),
                resources: { limits: { memory: binaryQuantity((docker.memory ?? 128) * 2 ** 20), cpu: millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m` } },
                readinessProbe: { tcpSocket: { port: docker.port }, periodSeconds: 5 },
              },
            ],
            ...(hostAliases.size ? { hostAliases: [...hostAliases].map(([ip, hostnames]) => ({ ip, hostnames })) } : {}),
            ...(pullSecret ? { imagePullSecrets: [{ name: pullSecret }] } : {}),
          },
        },
      },
    });
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: owned(inst, name, system.id),
      spec: { selector, ports: [{ name: 'http', port: docker.port, targetPort: docker.port }] },
    });
    addresses[system.id] = { url: `${config.use_https === true ? 'https' : 'http'}://${name}.${ns}.svc:${docker.port}`, deployment: name, namespace: ns };
  }
  return { objects, runtimeEnv: Object.keys(addresses).length ? JSON.stringify(addresses) : null };
}

/** Milliseconds until the next scheduled image pull of any microservice, or null. */
export function nextMicroserviceRestartMs(plan: ExecutionPlan, now = new Date()): number | null {
  let next: number | null = null;
  for (const system of microserviceSystems(plan)) {
    const at = nextPullTime((system.effective.docker as DockerSettings | undefined)?.pull_image_cron_expression, now);
    if (at) next = Math.min(next ?? Infinity, at.getTime() - now.getTime());
  }
  return next === null ? null : Math.max(1000, next);
}

/** The instance status's view of its microservices: each one that runs, and whether its Deployment has a ready pod. */
export async function readMicroserviceStatus(kube: Kube, inst: SluiceInstance, plan: ExecutionPlan): Promise<NonNullable<InstanceStatus['microservices']>> {
  const out: NonNullable<InstanceStatus['microservices']> = [];
  for (const system of microserviceSystems(plan)) {
    if (!startsEagerly(plan, system.id, system.effective)) continue;
    const deployment = microserviceName(inst.metadata.name, system.id);
    const live = await kube.get<KubeObject & { status?: { readyReplicas?: number } }>('apps/v1', 'Deployment', inst.metadata.namespace, deployment);
    out.push({ id: system.id, deployment, image: (system.effective.docker as DockerSettings).image, ready: (live?.status?.readyReplicas ?? 0) > 0 });
  }
  return out;
}
