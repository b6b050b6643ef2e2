/**
 * The objects an instance needs in the cluster: the plan (ConfigMaps, compressed and split when
 * large), the runtime secrets, one runtime Deployment per replica (placement decides which pipes
 * each runs) and a Service. Everything carries the instance's labels and an owner reference.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ExecutionPlan } from '../../compiler/plan/types.js';
import type { KubeObject } from '../kube/rest.js';
import { API_VERSION, instanceLabels, planConfigMapName, runtimeDeploymentName, runtimeSecretsName, runtimeServiceName } from './names.js';
import type { SluiceInstance } from './types.js';

/** ConfigMaps hold at most 1 MiB; parts stay well below. */
const PART_BYTES = 900 * 1024;
export const PLAN_MOUNT = '/etc/sluice/plan';
export const DEFAULT_IMAGE = process.env.SLUICE_IMAGE ?? 'ghcr.io/sluice-dev/sluice:0.1.0';

function owner(inst: SluiceInstance) {
  return [{ apiVersion: API_VERSION, kind: 'SluiceInstance', name: inst.metadata.name, uid: inst.metadata.uid!, controller: true, blockOwnerDeletion: true }];
}

function meta(inst: SluiceInstance, name: string, component: string, annotations?: Record<string, string>) {
  return { name, namespace: inst.metadata.namespace, labels: instanceLabels(inst.metadata.name, component), ownerReferences: owner(inst), ...(annotations ? { annotations } : {}) };
}

/** The plan as gzip-compressed JSON, in as many ConfigMaps as its size needs. */
export function planConfigMaps(inst: SluiceInstance, plan: ExecutionPlan): KubeObject[] {
  const gz = gzipSync(Buffer.from(JSON.stringify(plan)));
  const parts = Math.max(1, Math.ceil(gz.length / PART_BYTES));
  const out: KubeObject[] = [];
  for (let i = 0; i < parts; i++) {
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(inst, planConfigMapName(inst.metadata.name, i), 'plan', { 'sluice.io/plan-hash': plan.hash, 'sluice.io/plan-part': `${i}/${parts}`, 'sluice.io/revision': plan.revision ?? '' }),
      binaryData: { [`plan.json.gz.part-${String(i).padStart(3, '0')}`]: gz.subarray(i * PART_BYTES, (i + 1) * PART_BYTES).toString('base64') },
    });
  }
  return out;
}

export function secretsHash(secrets: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(secrets).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

export function runtimeSecrets(inst: SluiceInstance, secrets: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(inst, runtimeSecretsName(inst.metadata.name), 'runtime'),
    type: 'Opaque',
    // `data`, not `stringData`: the live object holds `data`, and drift checks compare like with like.
    data: { 'secrets.json': Buffer.from(JSON.stringify(secrets)).toString('base64') },
  };
}

/**
 * `secretsDigest` (of the secret values, never the values) is on the pod template so that changed
 * secrets roll the pods: their environment is read only when a container starts.
 */
export function runtimeDeployments(inst: SluiceInstance, plan: ExecutionPlan, planParts: number, secretsDigest = '', microservicesEnv: string | null = null): KubeObject[] {
  const name = inst.metadata.name;
  const replicas = plan.placement?.replicas ?? 1;
  const store = inst.spec.store?.mongodbUriSecret;
  const out: KubeObject[] = [];
  for (let replica = 0; replica < replicas; replica++) {
    const labels = { ...instanceLabels(name, 'runtime'), 'sluice.io/replica': String(replica) };
    const env: Record<string, unknown>[] = [
      { name: 'SLUICE_REPLICA', value: String(replica) },
      { name: 'SLUICE_SECRETS', valueFrom: { secretKeyRef: { name: runtimeSecretsName(name), key: 'secrets.json' } } },
      store ? { name: 'SLUICE_STORE', valueFrom: { secretKeyRef: { name: store.name, key: store.key ?? 'uri' } } } : { name: 'SLUICE_STORE', value: 'embedded' },
      { name: 'SLUICE_DATA_DIR', value: '/var/lib/sluice' },
    ];
    // Where the microservices' Services are (see microservices.ts).
    if (microservicesEnv) env.push({ name: 'SLUICE_MICROSERVICES', value: microservicesEnv });
    if (inst.spec.runtime?.jwtSecret) env.push({ name: 'SLUICE_JWT_SECRET', valueFrom: { secretKeyRef: { name: inst.spec.runtime.jwtSecret, key: 'jwt-secret' } } });
    const volumes = Array.from({ length: planParts }, (_, i) => ({ name: `plan-${i}`, configMap: { name: planConfigMapName(name, i) } }));
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(inst, runtimeDeploymentName(name, replica), 'runtime'),
      spec: {
        replicas: 1,
        // One pod per placement slot: a new pod replaces the old only after it stopped (no two run the same pipes).
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { 'sluice.io/instance': name, 'sluice.io/replica': String(replica) } },
        template: {
          metadata: { labels, annotations: { 'sluice.io/plan-hash': plan.hash, 'sluice.io/secrets-hash': secretsDigest } },
          spec: {
            containers: [
              {
                name: 'runtime',
                image: inst.spec.runtime?.image ?? DEFAULT_IMAGE,
                command: ['node', '/app/bin/sluice.js'],
                args: ['runtime', '--plan', PLAN_MOUNT, '--port', '9042', '--replica', String(replica)],
                env,
                ports: [{ name: 'api', containerPort: 9042 }],
                readinessProbe: { httpGet: { path: '/api/health', port: 9042 }, periodSeconds: 5 },
                livenessProbe: { httpGet: { path: '/api/health', port: 9042 }, periodSeconds: 20, failureThreshold: 6 },
                ...(inst.spec.runtime?.resources ? { resources: inst.spec.runtime.resources } : {}),
                volumeMounts: [...volumes.map((v, i) => ({ name: v.name, mountPath: `${PLAN_MOUNT}/part-${i}` })), { name: 'data', mountPath: '/var/lib/sluice' }],
              },
            ],
            volumes: [...volumes, { name: 'data', emptyDir: {} }],
          },
        },
      },
    });
  }
  return out;
}

export function runtimeService(inst: SluiceInstance): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(inst, runtimeServiceName(inst.metadata.name), 'runtime'),
    spec: { selector: { 'sluice.io/instance': inst.metadata.name, 'app.kubernetes.io/component': 'runtime' }, ports: [{ name: 'api', port: 9042, targetPort: 9042 }] },
  };
}
