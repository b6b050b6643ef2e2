/** Pieces of the fake node that do not need its state: ports, paths, volume files, process signals. */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Json } from './kube-node-api.js';

// ---------------------------------------------------------------------------------------------
// Helpers

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Kubernetes' $(VAR) expansion: defined names are replaced, `$$` escapes, anything else stays. */
export function expand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : m;
  });
}

export interface PathMap {
  from: string;
  to: string;
  /** Only the path itself (a directory above a mount), not what lies under it. */
  exact?: boolean;
}

/**
 * Maps the container paths in a string (an argument or env value) to host paths: every absolute
 * path (at the start, or after `=`, `:` or `,`) is replaced using the longest entry that is the
 * path itself or, unless exact, a parent of it.
 */
export function mapPaths(s: string, maps: PathMap[]): string {
  return s.replace(/(^|[=:,])(\/[^\s=:,;]*)/g, (m, pre: string, path: string) => {
    let best: PathMap | undefined;
    for (const e of maps) {
      const hit = path === e.from || path === `${e.from}/` || (!e.exact && path.startsWith(`${e.from}/`));
      if (hit && (!best || e.from.length > best.from.length)) best = e;
    }
    return best ? pre + best.to + path.slice(best.from.length) : m;
  });
}

export function decode(data: Record<string, string> | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

/** The keys of a ConfigMap (data + binaryData) or Secret (data, base64) as bytes. */
export function sourceKeys(kind: 'configmap' | 'secret', obj: Json): Record<string, Buffer> {
  if (kind === 'secret') return decode(obj.data);
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) out[k] = Buffer.from(v, 'utf8');
  return { ...out, ...decode(obj.binaryData) };
}

export class Pending extends Error {}

export interface Slot {
  replica: number;
  hash: string;
  /** resourceVersions of the mounted ConfigMaps/Secrets whose data the volumes hold. */
  versions: string;
  rootfs: string;
  pod: string;
  port: number;
  dir: string;
  exe: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  fullEnv: Record<string, string>;
  mounts: Record<string, string>;
  cwd: string;
  healthPath: string;
  /** Ready when the port accepts connections (a tcpSocket probe) instead of when healthPath answers 200. */
  tcpProbe: boolean;
  graceMs: number;
  child?: ChildProcess;
  ready: boolean;
  restarts: number;
  lastExit: number | string | null;
  stopping: boolean;
  restartTimer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

export interface DeploymentState {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  slots: Map<number, Slot>;
  hash: string | undefined;
  refs: Set<string>;
  pending: string | undefined;
  /** The pod template's labels (Services select by them). */
  podLabels?: Record<string, string>;
}

export interface Resolved {
  /** volume name → files (relative path → bytes, mode) or 'emptyDir' */
  volumes: Map<string, { files: { path: string; bytes: Buffer; mode: number }[] } | 'emptyDir'>;
  versions: string[];
}

export function kill(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  // Not detached: processes stay in the test run's process group, so an interrupted run takes them along.
  if (child?.pid && child.exitCode === null && child.signalCode === null) child.kill(signal);
}

/** Names (`configmap/x`, `secret/y`) the template reads, so that their changes reach its Deployment. */
export function referencedSources(template: Json): Set<string> {
  const refs = new Set<string>();
  const spec = template.spec ?? {};
  for (const v of spec.volumes ?? []) {
    if (v.configMap?.name) refs.add(`configmap/${v.configMap.name}`);
    if (v.secret?.secretName) refs.add(`secret/${v.secret.secretName}`);
  }
  for (const c of spec.containers ?? []) {
    for (const ef of c.envFrom ?? []) {
      if (ef.configMapRef?.name) refs.add(`configmap/${ef.configMapRef.name}`);
      if (ef.secretRef?.name) refs.add(`secret/${ef.secretRef.name}`);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) refs.add(`configmap/${e.valueFrom.configMapKeyRef.name}`);
      if (e.valueFrom?.secretKeyRef?.name) refs.add(`secret/${e.valueFrom.secretKeyRef.name}`);
    }
  }
  return refs;
}


type VolumeFiles = { path: string; bytes: Buffer; mode: number }[];

/** The files a mount shows of its volume (all of them, one subPath directory, or one subPath file). */
function mountFiles(files: VolumeFiles, subPath: string | undefined): { files: VolumeFiles; single: boolean } {
  const sub = subPath ? subPath.replace(/\/+$/, '') : '';
  const file = sub ? files.find((f) => f.path === sub) : undefined;
  if (file) return { files: [{ ...file, path: '' }], single: true };
  return { files: files.filter((f) => !sub || f.path.startsWith(`${sub}/`)).map((f) => ({ ...f, path: sub ? f.path.slice(sub.length + 1) : f.path })), single: false };
}

function writeFiles(host: string, files: VolumeFiles): void {
  for (const f of files) {
    const target = f.path ? join(host, f.path) : host;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.bytes);
    chmodSync(target, f.mode | 0o200); // keep it writable for cleanup
  }
}

/**
 * Lays the container's volume mounts out under `rootfs` as in the container's file system; returns
 * mount path → host path. ConfigMap and Secret volumes hold their keys as files; emptyDir is empty.
 */
export function writeMounts(container: Json, resolved: Resolved, rootfs: string, note: (message: string) => void): Record<string, string> {
  const mounts: Record<string, string> = {};
  for (const m of (container.volumeMounts ?? []) as Json[]) {
    const vol = resolved.volumes.get(m.name);
    const mountPath = (m.mountPath as string).replace(/\/+$/, '');
    if (!vol) {
      note(`volume ${m.name} (mounted at ${m.mountPath}) is not a ConfigMap, Secret or emptyDir volume: left unmapped`);
      continue;
    }
    if (!mountPath) continue;
    const host = join(rootfs, mountPath);
    if (vol === 'emptyDir') mkdirSync(host, { recursive: true });
    else {
      const { files, single } = mountFiles(vol.files, m.subPath);
      if (!single) mkdirSync(host, { recursive: true });
      writeFiles(host, files);
    }
    mounts[mountPath] = host;
  }
  return mounts;
}

/**
 * New ConfigMap/Secret data for a running pod. Like the kubelet (an atomic symlink swap), readers
 * see the old or the new set of files, never a mix: the new set is written aside, then renamed in.
 * subPath mounts are not updated (as in Kubernetes).
 */
export function refreshMounts(container: Json, resolved: Resolved, rootfs: string): void {
  for (const m of (container.volumeMounts ?? []) as Json[]) {
    const vol = resolved.volumes.get(m.name);
    if (!vol || vol === 'emptyDir' || m.subPath) continue;
    const host = join(rootfs, (m.mountPath as string).replace(/\/+$/, ''));
    // Hidden names, as the kubelet's ..data: readers of the directory above skip them.
    const next = join(dirname(host), `.${basename(host)}.new`);
    const old = join(dirname(host), `.${basename(host)}.old`);
    rmSync(next, { recursive: true, force: true });
    mkdirSync(next, { recursive: true });
    writeFiles(next, vol.files);
    rmSync(old, { recursive: true, force: true });
    renameSync(host, old);
    renameSync(next, host);
    rmSync(old, { recursive: true, force: true });
  }
}
