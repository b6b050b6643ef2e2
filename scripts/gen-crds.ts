/**
 * Generates the CustomResourceDefinitions in crds/ from the JSON Schemas in schemas/, so that
 * `kubectl apply` of Pipe and System resources is checked against the same properties the compiler
 * knows. `npm run gen:crds` rewrites them; a test fails when they are out of date.
 * Usage: tsx scripts/gen-crds.ts [outDir]
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
type Schema = Record<string, unknown>;

export const GROUP = 'sluice.io';
export const VERSION = 'v1alpha1';

/** Draft-07 → a structural OpenAPI v3 schema as apiextensions v1 requires. */
export function structural(s: Schema): Schema {
  const out: Schema = {};
  if (typeof s.description === 'string') out.description = s.description;
  const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  const types = branches ? new Set(branches.map((b) => b.type ?? (b.const !== undefined ? typeof b.const : undefined))) : null;
  if (branches && (types!.size !== 1 || types!.has(undefined))) {
    // Several shapes (a string or a list, ...): the compiler checks them; the API server keeps them.
    return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  }
  const base = branches ? { ...branches[0], ...s, anyOf: undefined, oneOf: undefined } : s;
  let type = base.type as string | undefined;
  if (type === undefined && base.const !== undefined) type = typeof base.const === 'number' ? 'number' : typeof base.const;
  if (type === undefined) return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  if (type === 'null') return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  out.type = type;
  if (base.const !== undefined) out.enum = [base.const];
  if (Array.isArray(base.enum)) out.enum = (base.enum as unknown[]).filter((v) => v !== null);
  for (const k of ['minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'format']) if (base[k] !== undefined) out[k] = base[k];
  if (type === 'object') {
    const props = base.properties as Record<string, Schema> | undefined;
    if (props) out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, structural(v)]));
    // An open object (a source's type-specific properties, ...) keeps what the compiler checks.
    if (!props || base.additionalProperties !== false) out['x-kubernetes-preserve-unknown-fields'] = true;
    if (Array.isArray(base.required)) out.required = base.required;
  }
  if (type === 'array') out.items = base.items ? structural(base.items as Schema) : { 'x-kubernetes-preserve-unknown-fields': true };
  if (type === 'integer' || type === 'number') delete out.format;
  return out;
}

function read(path: string): Schema {
  return JSON.parse(readFileSync(join(root, 'schemas', path), 'utf8')) as Schema;
}

function crd(kind: string, plural: string, shortNames: string[], spec: Schema, status: Schema, columns: { name: string; type: string; jsonPath: string; description?: string }[]): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames, categories: ['sluice'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...columns, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
          schema: { openAPIV3Schema: { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec, status } } },
        },
      ],
    },
  };
}

const condition: Schema = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: { type: 'string' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string' },
    message: { type: 'string' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer' },
  },
};

const diagnostic: Schema = {
  type: 'object',
  properties: { file: { type: 'string' }, line: { type: 'integer' }, column: { type: 'integer' }, severity: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
};

function componentStatus(): Schema {
  return {
    type: 'object',
    description: 'What the operator and the runtime report about this resource.',
    properties: {
      observedGeneration: { type: 'integer' },
      conditions: { type: 'array', items: condition },
      pipeId: { type: 'string' },
      source: { type: 'string', description: 'Effective source type.' },
      sink: { type: 'string', description: 'Effective sink type.' },
      state: { type: 'string', description: 'Pump state in the runtime: Running, Idle, Disabled, Failed, Pending, Invalid.' },
      lastRun: { type: 'string', format: 'date-time' },
      entities: { type: 'integer', description: 'Entities in the sink dataset.' },
      replica: { type: 'integer' },
      diagnostics: { type: 'array', items: diagnostic },
    },
  };
}

export function generate(): Record<string, Schema> {
  const pipe = read('pipe.schema.json');
  const pipeProps = { ...(pipe.properties as Record<string, Schema>) };
  delete pipeProps._id;
  delete pipeProps.type;
  const pipeSpec = structural({ ...pipe, properties: pipeProps, required: [] });
  (pipeSpec.properties as Record<string, Schema>).instance = { type: 'string', description: 'The SluiceInstance (in this namespace) whose config this pipe joins.' };
  (pipeSpec.properties as Record<string, Schema>).id = { type: 'string', description: 'The pipe _id when it differs from metadata.name (ids may hold characters Kubernetes names cannot).' };
  pipeSpec.required = ['instance', 'source'];
  delete pipeSpec['x-kubernetes-preserve-unknown-fields'];

  const system = read('system.schema.json');
  const systemSpec: Schema = {
    type: 'object',
    description: 'A system config (type system:<kind> and its properties); validated by the compiler against the type schema.',
    required: ['instance', 'type'],
    'x-kubernetes-preserve-unknown-fields': true,
    properties: {
      instance: { type: 'string', description: 'The SluiceInstance (in this namespace) whose config this system joins.' },
      id: { type: 'string', description: 'The system _id when it differs from metadata.name.' },
      type: { type: 'string', pattern: '^system:', description: (system.properties as Record<string, Schema>).type?.description as string | undefined },
    },
  };

  const instanceSpec: Schema = {
    type: 'object',
    description: 'A Sluice service instance: where its config comes from, where it keeps data, and how its runtime runs.',
    properties: {
      git: {
        type: 'object',
        description: 'Config in git, in Sesam layout (node-metadata.conf.json, pipes/, systems/).',
        required: ['url'],
        properties: {
          url: { type: 'string', description: 'Repository URL (https, ssh or a local path).' },
          ref: { type: 'string', description: 'Branch, tag or commit (default: main).' },
          path: { type: 'string', description: 'Folder in the repository holding the config (default: the root).' },
          pollInterval: { type: 'string', description: 'How often to fetch, e.g. 60s or 5m (default 60s).' },
          credentialsSecret: { type: 'string', description: 'Secret with username/password (https) or ssh-privatekey.' },
        },
      },
      env: { type: 'object', description: 'Values for $ENV(name) references.', 'x-kubernetes-preserve-unknown-fields': true },
      secretsSecret: { type: 'string', description: 'Secret whose keys are the secret names $SECRET(name) references resolve.' },
      store: {
        type: 'object',
        description: 'Where runtime pods keep entity logs.',
        properties: { mongodbUriSecret: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, key: { type: 'string', description: 'Default: uri.' } } } },
      },
      runtime: {
        type: 'object',
        properties: {
          image: { type: 'string', description: 'Runtime image (default: the operator\u2019s own image).' },
          replicas: { type: 'integer', minimum: 1, description: 'Runtime pods; pipes are placed across them (default 1).' },
          resources: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          jwtSecret: { type: 'string', description: 'Secret (key jwt-secret) with the HS256 key runtime APIs require.' },
        },
      },
    },
  };
  const instanceStatus: Schema = {
    type: 'object',
    properties: {
      observedGeneration: { type: 'integer' },
      observedRevision: { type: 'string' },
      lastGoodRevision: { type: 'string' },
      planHash: { type: 'string' },
      conditions: { type: 'array', items: condition },
      diagnostics: { type: 'array', items: diagnostic },
      pipes: {
        type: 'array',
        items: { type: 'object', properties: { id: { type: 'string' }, state: { type: 'string' }, replica: { type: 'integer' }, lastRun: { type: 'string' }, entities: { type: 'integer' }, origin: { type: 'string' } } },
      },
      readyReplicas: { type: 'integer' },
      microservices: {
        type: 'array',
        items: { type: 'object', properties: { id: { type: 'string' }, deployment: { type: 'string' }, image: { type: 'string' }, ready: { type: 'boolean' } } },
      },
    },
  };
  return {
    'sluice.io_sluiceinstances.yaml': crd('SluiceInstance', 'sluiceinstances', ['slinst'], instanceSpec, instanceStatus, [
      { name: 'Revision', type: 'string', jsonPath: '.status.observedRevision' },
      { name: 'Compiled', type: 'string', jsonPath: '.status.conditions[?(@.type=="Compiled")].status' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    ]),
    'sluice.io_pipes.yaml': crd('Pipe', 'pipes', ['slpipe'], pipeSpec, componentStatus(), [
      { name: 'Instance', type: 'string', jsonPath: '.spec.instance' },
      { name: 'Source', type: 'string', jsonPath: '.status.source' },
      { name: 'Sink', type: 'string', jsonPath: '.status.sink' },
      { name: 'State', type: 'string', jsonPath: '.status.state' },
      { name: 'Last Run', type: 'date', jsonPath: '.status.lastRun' },
      { name: 'Entities', type: 'integer', jsonPath: '.status.entities' },
    ]),
    'sluice.io_systems.yaml': crd('System', 'systems', ['slsys'], systemSpec, componentStatus(), [
      { name: 'Instance', type: 'string', jsonPath: '.spec.instance' },
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      { name: 'State', type: 'string', jsonPath: '.status.state' },
    ]),
  };
}

export function renderCrds(): Record<string, string> {
  return Object.fromEntries(Object.entries(generate()).map(([name, doc]) => [name, `# Generated by scripts/gen-crds.ts from schemas/; do not edit.\n${stringify(doc, { lineWidth: 0 })}`]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? join(root, 'crds');
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(renderCrds())) writeFileSync(join(out, name), text);
  console.log(`wrote ${Object.keys(renderCrds()).length} CRDs to ${out}`);
}
