/**
 * Config groups and the whole config: GET/PUT /api/config/{group} (one group's pipes and systems)
 * and GET/PUT /api/config-all (every group). Bodies are read and applied like PUT /api/config
 * (config.ts): JSON, a zip archive or a multipart field `file`; 400 with `validation_errors` when
 * the result does not compile (unless `force`).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { collectEntities } from '../../compiler/config/entities.js';
import { DiagnosticBag } from '../../compiler/diagnostics.js';
import type { SourceFile } from '../../compiler/load/files.js';
import { entitiesOf, type ConfigEntity } from '../service/config-files.js';
import { checkGroupUpload, ConfigGroupError, DEFAULT_GROUP, groupOf, placedInGroup } from '../service/config-groups.js';
import { attachConfigHistory } from '../service/config-history.js';
import { validationErrors } from '../service/views.js';
import type { SluiceRuntime } from '../service/runtime.js';
import type { ZipLimits } from './safe-unzip.js';
import { applyFiles, configZip, invalidConfig, readUpload, useConfigBodies } from './config.js';
import { presenter, uploadFromJsonText, withoutEntity, type Upload } from './config-upload.js';
import { ApiError } from './errors.js';
import { boolParam, jsonText, param, querySchema, serialised } from './util.js';

/**
 * The upload with every entity placed in `group` (`force`), or left in the group its own marker
 * names. A JSON upload whose markers change is re-serialised; positions in diagnostics then refer
 * to that text.
 */
export function groupUpload(upload: Upload, group: string, force: boolean): Upload {
  if (!force || upload.diagnostics.length) return upload;
  const entities = entitiesOf(upload.files).map((e) => e.entity);
  const placed = entities.map((e) => placedInGroup(e, group));
  if (placed.every((e, i) => e === entities[i])) return upload;
  return uploadFromJsonText(JSON.stringify(placed, null, 2), 'config.json');
}

/**
 * The running config files without the entities of `group` and without those the upload replaces;
 * files that hold entities of several groups are split so the others keep their text.
 */
export function filesOfOtherGroups(files: SourceFile[], group: string, upload: Upload): SourceFile[] {
  const uploaded = entitiesOf(upload.files).map((e) => e.entity);
  try {
    checkGroupUpload(files, uploaded, group);
  } catch (err) {
    if (err instanceof ConfigGroupError) throw new ApiError(err.status, err.status === 409 ? 'CONFLICT' : 'BAD_REQUEST', err.message);
    throw err;
  }
  const replaced = new Set(uploaded.map((e) => e._id));
  const out: SourceFile[] = [];
  for (const f of files) {
    const inFile = entitiesOf([f]).map((e) => e.entity);
    const drop = inFile.filter((e) => groupOf(e) === group || replaced.has(e._id)).map((e) => e._id);
    if (drop.length === 0) out.push(f);
    else if (drop.length < inFile.length) out.push(...drop.reduce((kept, id) => withoutEntity(kept, id), [f]));
  }
  return out;
}

const groupParams = { type: 'object', properties: { group: { type: 'string', minLength: 1, description: 'The config group ("default" for config without a group)' } }, required: ['group'] } as const;
const forceQuery = querySchema({ force: boolParam('Apply the config even with errors; entities with errors are left out and shown as invalid', false) });
const uploadDoc = {
  consumes: ['application/json', 'application/zip', 'multipart/form-data'],
  bodyDescription: 'A JSON array of config entities (or one entity), a zip archive in the config folder layout, or multipart/form-data with a field `file` holding either',
};

async function sendConfig(request: FastifyRequest, reply: FastifyReply, rt: SluiceRuntime, keep: (e: ConfigEntity) => boolean, name: string): Promise<FastifyReply> {
  if (/application\/zip/i.test(String(request.headers.accept ?? ''))) {
    return reply.type('application/zip').header('content-disposition', `attachment; filename="${name}.zip"`).send(await configZip(rt.files, keep));
  }
  return reply.type('application/json; charset=utf-8').send(jsonText(rt.configEntities().filter(keep)));
}

export const configGroupsPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime; bodyLimit: number; zipLimits: ZipLimits }> = async (app, { runtime: rt, bodyLimit, zipLimits }) => {
  await useConfigBodies(app, bodyLimit);
  attachConfigHistory(rt);

  /** Replaces `group` (or everything, for null) with the upload. */
  const replace = async (request: FastifyRequest, reply: FastifyReply, group: string | null) => {
    const { force } = request.query as { force?: boolean };
    const upload = groupUpload(await readUpload(request, 'config.json', true, zipLimits), group ?? DEFAULT_GROUP, group !== null && group !== DEFAULT_GROUP);
    if (upload.diagnostics.length) throw invalidConfig(upload.diagnostics, [], upload);
    return serialised(rt, async () => {
      const files = group === null ? upload.files : [...filesOfOtherGroups(rt.files, group, upload), ...upload.files];
      const r = await applyFiles(rt, files, force === true);
      if (!r.applied) throw invalidConfig(r.diagnostics, upload.files, upload);
      request.log.info({ group: group ?? '(all)', entities: collectEntities(upload.files, new DiagnosticBag()).length, force: force === true }, 'config replaced');
      return reply.type('application/json; charset=utf-8').send(jsonText({ validation_errors: validationErrors(r.diagnostics, upload.files, presenter(upload)) }));
    });
  };

  app.get(
    '/config/:group',
    { schema: { summary: 'The config of one config group: a JSON array of config entities, or a zip with `Accept: application/zip`', tags: ['config'], params: groupParams, querystring: forceQuery } },
    async (request, reply) => {
      const group = param(request, 'group');
      return sendConfig(request, reply, rt, (e) => groupOf(e) === group, `sluice-config-${group.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
    },
  );

  app.put(
    '/config/:group',
    {
      schema: {
        summary: "Replaces the config of one config group (the group's entities missing from the upload are removed; other groups stay); each entity gets `metadata.$config-group`",
        tags: ['config'],
        params: groupParams,
        querystring: forceQuery,
        ...uploadDoc,
      },
    },
    async (request, reply) => replace(request, reply, param(request, 'group')),
  );

  app.get('/config-all', { schema: { summary: 'The config of every config group: a JSON array of config entities, or a zip with `Accept: application/zip`', tags: ['config'] } }, async (request, reply) =>
    sendConfig(request, reply, rt, () => true, 'sluice-config-all'),
  );

  app.put(
    '/config-all',
    { schema: { summary: 'Replaces the config of every config group (entities missing from the upload are removed)', tags: ['config'], querystring: forceQuery, ...uploadDoc } },
    async (request, reply) => replace(request, reply, null),
  );
};
