/**
 * Config endpoints: the whole node config (GET/PUT /api/config as a JSON array, a zip archive or a
 * multipart `file`), and per-pipe and per-system create, read, replace and delete.
 *
 * Bodies here are read as raw text or bytes, not parsed by fastify: the compiler parses the
 * config text itself so that diagnostics carry file, line and column, and numbers keep their
 * exact form.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import type { SourceFile } from '../../compiler/load/files.js';
import { entitiesOf, fileNameFor, type ConfigEntity } from '../service/config-files.js';
import { DEFAULT_GROUP, groupOf } from '../service/config-groups.js';
import { configHistorySettled } from '../service/config-history.js';
import { filesOfOtherGroups, groupUpload } from './config-groups.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { ConfigFolderError, type FileChange } from '../service/config-folder.js';
import { isDiskFull } from '../store/errors.js';
import { pipeView, systemView, validationErrors } from '../service/views.js';
import { assertKind, entitiesInFiles, presenter, uploadFromBytes, uploadFromJsonText, withoutEntity, withUpload, type Upload } from './config-upload.js';
import { utf8TextParser } from './bodies.js';
import type { ZipLimits } from './safe-unzip.js';
import { ApiError, badRequest, conflict, notFound, unsupportedMediaType } from './errors.js';
import { boolParam, idParams, jsonText, param, querySchema, serialised } from './util.js';

export interface ConfigPluginOptions {
  runtime: SluiceRuntime;
  bodyLimit: number;
  zipLimits: ZipLimits;
}

type Kind = 'pipe' | 'system';

const forceQuery = querySchema({ force: boolParam('Apply the config even with errors; entities with errors are left out and shown as invalid', false) });

function errorCount(ds: Diagnostic[]): number {
  return ds.filter((d) => d.severity === 'error').length;
}

/** 400 with Sesam's `validation_errors` and this API's `error`. */
export function invalidConfig(diagnostics: Diagnostic[], files: SourceFile[], upload: Upload | null, message?: string): ApiError {
  const items = validationErrors(diagnostics, files, upload ? presenter(upload) : undefined);
  const first = items.flatMap((i) => i['config-errors']).find((e) => e.level === 'error');
  const n = errorCount(diagnostics);
  return badRequest(message ?? `the config has ${n} error${n === 1 ? '' : 's'}${first ? `; first: ${first.msg}` : ''}`, 'INVALID_CONFIG', { validation_errors: items });
}

/** Reads a config upload from the body: JSON text, zip bytes, or a multipart field `file`. */
export async function readUpload(request: FastifyRequest, name: string, allowZip: boolean, zipLimits: ZipLimits): Promise<Upload> {
  let upload: Upload | null = null;
  if (request.isMultipart()) {
    for await (const part of request.parts()) {
      if (part.fieldname !== 'file') {
        if (part.type === 'file') await part.toBuffer();
        continue;
      }
      if (upload) throw badRequest('the multipart body has more than one "file" field');
      if (part.type === 'file') upload = uploadFromBytes(await part.toBuffer(), /\.json$/i.test(part.filename ?? '') ? part.filename : name, zipLimits);
      else upload = uploadFromJsonText(String(part.value), name);
    }
    if (!upload) throw badRequest('the multipart body needs a field "file" holding a zip archive or JSON');
  } else {
    const body = request.body;
    if (typeof body === 'string') upload = body.trim() === '' ? null : uploadFromJsonText(body, name);
    else if (Buffer.isBuffer(body) && body.length > 0) upload = uploadFromBytes(body, name, zipLimits);
    if (!upload) throw badRequest('the request has no body; send a JSON array of config entities' + (allowZip ? ', a zip archive or a multipart field "file"' : ''), 'EMPTY_BODY');
  }
  if (!allowZip && upload.entities.length === 0 && upload.files.length > 0) throw badRequest('send the config entity as JSON', 'INVALID_BODY');
  return upload;
}

/** Files whose entities are already left out of the running config because of errors. */
function invalidFiles(rt: SluiceRuntime): Set<string> {
  const out = new Set<string>();
  for (const c of rt.invalid.values()) for (const d of c.errors) out.add(d.file);
  return out;
}

/**
 * Applies changed config files. Without `force`, errors refuse the change, except errors in
 * entities that were already left out before (they stay left out; the change still applies).
 */
export async function applyFiles(rt: SluiceRuntime, files: SourceFile[], force: boolean): Promise<{ applied: boolean; diagnostics: Diagnostic[] }> {
  if (rt.managed) throw conflict('this runtime runs a plan managed by the Sluice operator: change the config in git or with Pipe/System resources');
  const previous = rt.files;
  // A served config folder takes the change into its files, or the change is refused before it applies.
  const folder = rt.configFolder;
  let changes: FileChange[] = [];
  if (folder) {
    try {
      changes = folder.changes(files, previous);
    } catch (err) {
      if (err instanceof ConfigFolderError) throw conflict(`${err.message}; nothing was changed`);
      throw err;
    }
  }
  const applied = await applyToRuntime(rt, files, force);
  if (applied.applied && folder && changes.length) {
    try {
      folder.apply(changes);
    } catch (err) {
      await rt.setConfigFiles(previous, { force: true });
      if (isDiskFull(err)) throw err;
      throw conflict(`the change cannot be written into the config folder ${folder.path} (${(err as Error).message}); nothing was changed`);
    }
  }
  // The change answers once its history is recorded, so a read right after it sees the new version.
  await configHistorySettled(rt);
  return applied;
}

async function applyToRuntime(rt: SluiceRuntime, files: SourceFile[], force: boolean): Promise<{ applied: boolean; diagnostics: Diagnostic[] }> {
  const before = invalidFiles(rt);
  const r = await rt.setConfigFiles(files, { force });
  if (r.applied) return { applied: true, diagnostics: r.diagnostics };
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!force && before.size && errors.length && errors.every((d) => before.has(d.file))) {
    const again = await rt.setConfigFiles(files, { force: true });
    if (again.applied) return { applied: true, diagnostics: again.diagnostics };
  }
  return { applied: false, diagnostics: r.diagnostics };
}

/** The config as a zip in the config folder layout; fflate loads with the first download rather than at every start. */
export async function configZip(files: SourceFile[], keep: (entity: ConfigEntity) => boolean = () => true): Promise<Buffer> {
  const { zipSync } = await import('fflate');
  const out: Record<string, Uint8Array> = {};
  const enc = new TextEncoder();
  const perFile = new Map<string, number>();
  const all = entitiesOf(files).filter((e) => keep(e.entity));
  for (const { file } of all) perFile.set(file, (perFile.get(file) ?? 0) + 1);
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const { entity, file } of all) {
    let name = fileNameFor(entity);
    for (let n = 2; name in out; n++) name = fileNameFor(entity).replace(/\.conf\.json$/, `.${n}.conf.json`);
    const f = byPath.get(file);
    // A file that holds just this entity, as JSON under its usual name, goes out as it was uploaded.
    const text = f && f.format === 'json' && perFile.get(file) === 1 && f.path === name ? f.text.trim() + '\n' : prettyJson(entity) + '\n';
    out[name] = enc.encode(text);
  }
  return Buffer.from(zipSync(out, { level: 6 }));
}

function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return jsonText(value);
  }
}

function kindOf(entity: { type: string }): Kind | 'metadata' {
  return entity.type === 'metadata' ? 'metadata' : entity.type.startsWith('system:') ? 'system' : 'pipe';
}

/** Raw config bodies in a plugin's scope: the compiler parses config text itself (positions, exact numbers). */
export async function useConfigBodies(app: FastifyInstance, bodyLimit: number): Promise<void> {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, utf8TextParser);
  app.addContentTypeParser(['application/zip', 'application/x-zip-compressed', 'application/octet-stream'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Other types are told apart by content (zip or JSON), except what browser forms can send anywhere.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    const type = String(req.headers['content-type'] ?? '');
    if (/^\s*(text\/|application\/x-www-form-urlencoded)/i.test(type)) return done(unsupportedMediaType(type, 'application/json, application/zip or multipart/form-data'));
    done(null, body);
  });
  await app.register(multipart, { limits: { fileSize: bodyLimit, files: 4, fields: 20 } });
}

export const configPlugin: FastifyPluginAsync<ConfigPluginOptions> = async (app, opts) => {
  const rt = opts.runtime;
  await useConfigBodies(app, opts.bodyLimit);

  // ------------------------------------------------------------------ whole config

  app.get(
    '/config',
    {
      schema: {
        summary: 'The config of the default config group: a JSON array of config entities, or with `Accept: application/zip` a zip of pipes/<id>.conf.json, systems/<id>.conf.json and node-metadata.conf.json',
        tags: ['config'],
      },
    },
    async (request, reply) => {
      const accept = String(request.headers.accept ?? '');
      if (/application\/zip/i.test(accept)) {
        return reply.type('application/zip').header('content-disposition', 'attachment; filename="sluice-config.zip"').send(await configZip(rt.files, (e) => groupOf(e) === DEFAULT_GROUP));
      }
      return reply.type('application/json; charset=utf-8').send(jsonText(rt.configEntities().filter((e) => groupOf(e) === DEFAULT_GROUP)));
    },
  );

  app.put(
    '/config',
    {
      schema: {
        summary: 'Replaces the config of the default config group (its entities missing from the upload are removed; other groups stay). 400 with `validation_errors` when it has errors (unless `force`)',
        tags: ['config'],
        querystring: forceQuery,
        consumes: ['application/json', 'application/zip', 'multipart/form-data'],
        bodyDescription: 'A JSON array of config entities (or one entity), a zip archive in the config folder layout, or multipart/form-data with a field `file` holding either',
      },
    },
    async (request, reply) => {
      const { force } = request.query as { force?: boolean };
      const upload = groupUpload(await readUpload(request, 'config.json', true, opts.zipLimits), DEFAULT_GROUP, false);
      if (upload.diagnostics.length) throw invalidConfig(upload.diagnostics, [], upload);
      return serialised(rt, async () => {
        // The default config group is replaced; the other groups stay.
        const r = await applyFiles(rt, [...filesOfOtherGroups(rt.files, DEFAULT_GROUP, upload), ...upload.files], force === true);
        if (!r.applied) throw invalidConfig(r.diagnostics, upload.files, upload);
        request.log.info({ files: upload.files.length, force: force === true, plan: rt.plan?.hash.slice(0, 12) }, 'config replaced');
        return reply.type('application/json; charset=utf-8').send(jsonText({ validation_errors: validationErrors(r.diagnostics, upload.files, presenter(upload)) }));
      });
    },
  );

  // ------------------------------------------------------------------ pipes and systems

  for (const kind of ['pipe', 'system'] as const) {
    const plural = `${kind}s`;
    const view = (id: string) => (kind === 'pipe' ? pipeView(rt, id) : systemView(rt, id));
    const findEntity = (id: string) => entitiesOf(rt.files).find((e) => e.entity._id === id && kindOf(e.entity) === kind)?.entity;

    app.post(
      `/${plural}`,
      {
        schema: {
          summary: `Adds ${plural} (a JSON array of ${kind} configs); 200 with the new ${plural} (as documented), 409 when one exists`,
          tags: [plural],
          querystring: forceQuery,
          consumes: ['application/json'],
          bodyDescription: `A JSON array of ${kind} configs`,
        },
      },
      async (request, reply) => {
        const { force } = request.query as { force?: boolean };
        const upload = await readUpload(request, `${plural}.json`, false, opts.zipLimits);
        if (upload.diagnostics.length) throw invalidConfig(upload.diagnostics, [], upload);
        assertKind(upload, kind);
        return serialised(rt, async () => {
          const existing = new Set(entitiesInFiles(rt.files).map((e) => e.id));
          const taken = upload.entities.map((e) => e.id).filter((id): id is string => id !== null && existing.has(id));
          if (taken.length) throw conflict(`${taken.length === 1 ? `${kind} "${taken[0]}" already exists` : `these ${plural} already exist: ${taken.join(', ')}`}; replace with PUT /api/${plural}/{id}/config`);
          const files = withUpload(rt.files, upload);
          const r = await applyFiles(rt, files, force === true);
          if (!r.applied) throw invalidConfig(r.diagnostics, files, upload);
          const views = [];
          for (const e of upload.entities) if (e.id !== null) views.push(await view(e.id));
          return reply.code(200).type('application/json; charset=utf-8').send(jsonText(views.filter((v) => v !== null)));
        });
      },
    );

    app.get(`/${plural}/:id/config`, { schema: { summary: `The ${kind}'s config as uploaded`, tags: [plural], params: idParams } }, async (request, reply) => {
      const id = param(request);
      const entity = findEntity(id);
      if (!entity) throw notFound(`no ${kind} "${id}"`);
      return reply.type('application/json; charset=utf-8').send(jsonText(entity));
    });

    app.put(
      `/${plural}/:id/config`,
      {
        schema: {
          summary: `Replaces (or adds) the ${kind}'s config; answers the ${kind}. 400 with \`validation_errors\` when it has errors (unless \`force\`)`,
          tags: [plural],
          params: idParams,
          querystring: forceQuery,
          consumes: ['application/json'],
          bodyDescription: `One ${kind} config; its _id must be the id in the path (it is filled in when missing)`,
        },
      },
      async (request, reply) => {
        const id = param(request);
        const { force } = request.query as { force?: boolean };
        let upload = await readUpload(request, `${id}.conf.json`, false, opts.zipLimits);
        if (upload.diagnostics.length) throw invalidConfig(upload.diagnostics, [], upload);
        if (upload.entities.length !== 1 || upload.entities[0].node.kind !== 'object') throw badRequest(`send one ${kind} config as a JSON object`);
        const posted = upload.entities[0];
        if (posted.id !== null && posted.id !== id) throw badRequest(`the config's _id "${posted.id}" differs from "${id}" in the path`);
        if (posted.id === null) {
          const plain = JSON.parse(posted.file.text) as Record<string, unknown>;
          upload = uploadFromJsonText(JSON.stringify({ _id: id, ...plain }, null, 2), `${id}.conf.json`);
        }
        assertKind(upload, kind);
        return serialised(rt, async () => {
          const existing = findEntity(id);
          const others = entitiesInFiles(rt.files).find((e) => e.id === id && kindOf(e) !== kind);
          if (others) throw conflict(`"${id}" is already the id of a ${kindOf(others)}`);
          const files = withUpload(existing ? withoutEntity(rt.files, id) : rt.files, upload);
          const r = await applyFiles(rt, files, force === true);
          if (!r.applied) throw invalidConfig(r.diagnostics, files, upload);
          return reply.code(200).type('application/json; charset=utf-8').send(jsonText(await view(id)));
        });
      },
    );

    app.delete(`/${plural}/:id`, { schema: { summary: `Removes the ${kind} from the config; answers the removed ${kind}`, tags: [plural], params: idParams } }, async (request, reply) => {
      const id = param(request);
      return serialised(rt, async () => {
        if (!findEntity(id)) throw notFound(`no ${kind} "${id}"`);
        const before = await view(id);
        const files = withoutEntity(rt.files, id);
        const r = await applyFiles(rt, files, false);
        if (!r.applied) {
          const e = invalidConfig(r.diagnostics, files, null, `${kind} "${id}" cannot be removed: the rest of the config depends on it`);
          throw new ApiError(409, 'CONFLICT', e.message, e.extra);
        }
        request.log.info({ [kind]: id }, `${kind} removed`);
        return reply.type('application/json; charset=utf-8').send(jsonText(before ?? { _id: id }));
      });
    });
  }
};
