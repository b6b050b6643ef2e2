/**
 * kubectl-based helpers for the operator suites: run the machine's kubectl against the test API
 * server, install the CRDs, and create/delete throwaway namespaces.
 *
 * Everything is asynchronous on purpose: the fake node (kube-node.ts) and the operator run in the
 * test's own process, and a spawnSync would freeze their watches and readiness probes meanwhile.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const crdDir = fileURLToPath(new URL('../../crds/', import.meta.url));

export interface KubectlResult {
  /** Exit code (null when killed by a signal or not started). */
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `kubectl --kubeconfig <kubeconfig> <args>` (with `input` on stdin); never rejects. */
export function kubectl(kubeconfig: string, args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = spawn(process.env.KUBECTL ?? 'kubectl', ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => resolve({ status: null, stdout, stderr: stderr + err.message }));
    child.on('close', (code) => resolve({ status: code, stdout, stderr }));
    child.stdin.on('error', () => {}); // kubectl may exit before reading its input
    child.stdin.end(input);
  });
}

/** kubectl that throws (with its stderr) unless it exits 0; resolves with stdout. */
export async function kubectlOk(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(kubeconfig, args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  return r.stdout;
}

/** The CRD files in crds/ (kustomization.yaml is not one) and the CRD names they define. */
function crdFiles(): { files: string[]; names: string[] } {
  const files: string[] = [];
  const names: string[] = [];
  for (const f of readdirSync(crdDir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const docs = parseAllDocuments(readFileSync(join(crdDir, f), 'utf8')).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null);
    const crds = docs.filter((d) => d?.kind === 'CustomResourceDefinition');
    if (crds.length === 0) continue;
    files.push(join(crdDir, f));
    names.push(...crds.map((d) => d!.metadata!.name!));
  }
  return { files, names };
}

const applied = new Map<string, Promise<void>>();

/**
 * Installs crds/*.yaml (server-side apply, so that several suites applying them concurrently do not
 * conflict) and waits until the API server serves them (condition Established). Once per
 * kubeconfig and worker process.
 */
export function applyCrds(kubeconfig: string): Promise<void> {
  let done = applied.get(kubeconfig);
  if (!done) {
    done = (async () => {
      const { files, names } = crdFiles();
      await kubectlOk(kubeconfig, ['apply', '--server-side', '--force-conflicts', '--field-manager=sluice-tests', ...files.flatMap((f) => ['-f', f])]);
      await kubectlOk(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', ...names.map((n) => `crd/${n}`)]);
    })();
    done.catch(() => applied.delete(kubeconfig));
    applied.set(kubeconfig, done);
  }
  return done;
}

/** Creates a namespace `<prefix>-<random>` and resolves with its name. */
export async function createNamespace(kubeconfig: string, prefix: string): Promise<string> {
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  const name = `${base}-${randomBytes(3).toString('hex')}`;
  await kubectlOk(kubeconfig, ['create', 'namespace', name]);
  return name;
}

/**
 * Deletes a namespace and what is in it. The test API server runs no controller manager, so the
 * namespace controller that would empty and then finalize a Terminating namespace is missing: this
 * deletes the contents itself (clearing finalizers first, since the operator that would handle
 * them is usually stopped by now), then finalizes the namespace. Leftover Deployments would
 * otherwise be picked up by fake nodes watching all namespaces. Best effort: never throws.
 */
export async function deleteNamespace(kubeconfig: string, namespace: string): Promise<void> {
  const listed = await kubectl(kubeconfig, ['api-resources', '--namespaced=true', '--verbs=list,delete', '-o', 'name']);
  const types = listed.stdout
    .split('\n')
    .map((t) => t.trim())
    .filter((t) => t && t !== 'events' && t !== 'events.events.k8s.io');
  if (types.length > 0) {
    const got = await kubectl(kubeconfig, ['get', types.join(','), '-n', namespace, '-o', 'json', '--ignore-not-found']);
    let items: { kind: string; apiVersion: string; metadata: { name: string; finalizers?: string[] } }[] = [];
    try {
      items = got.stdout.trim() ? JSON.parse(got.stdout).items ?? [] : [];
    } catch {
      // nothing usable listed: the deletion below still runs
    }
    for (const item of items.filter((i) => i.metadata.finalizers?.length)) {
      const group = item.apiVersion.includes('/') ? `.${item.apiVersion.split('/')[0]}` : '';
      await kubectl(kubeconfig, ['patch', `${item.kind.toLowerCase()}${group}/${item.metadata.name}`, '-n', namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    }
    await kubectl(kubeconfig, ['delete', types.join(','), '--all', '-n', namespace, '--wait=false', '--ignore-not-found']);
  }
  await kubectl(kubeconfig, ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
  // What the namespace controller would do once the namespace is empty: drop the `kubernetes` finalizer.
  const ns = await kubectl(kubeconfig, ['get', 'namespace', namespace, '-o', 'json', '--ignore-not-found']);
  if (ns.status === 0 && ns.stdout.trim()) {
    const obj = JSON.parse(ns.stdout);
    obj.spec = { ...obj.spec, finalizers: [] };
    await kubectl(kubeconfig, ['replace', '--raw', `/api/v1/namespaces/${namespace}/finalize`, '-f', '-'], JSON.stringify(obj));
  }
}
