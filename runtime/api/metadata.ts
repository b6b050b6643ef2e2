/**
 * The node's own settings: the service metadata (GET/PUT/DELETE /api/metadata, the config entity
 * `{"_id": "node", "type": "metadata"}`), its namespaces (GET /api/namespaces, the built-in
 * expansions plus `namespaces.default`), the config history of any config entity
 * (GET /api/config-history/entity) and the license (GET /api/license).
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { COMPILER_VERSION } from '../../compiler/version.js';
import { entitiesOf, type ConfigEntity } from '../service/config-files.js';
import { configHistory } from '../service/config-history.js';
import type { SluiceRuntime } from '../service/runtime.js';
import type { ZipLimits } from './safe-unzip.js';
import { applyFiles, invalidConfig, readUpload, useConfigBodies } from './config.js';
import { uploadFromJsonText, withoutEntity } from './config-upload.js';
import { badRequest } from './errors.js';
import { boolParam, intParam, jsonText, querySchema, sendJsonText, serialised, stringParam } from './util.js';

/** Namespace expansions every node knows unless the metadata overrides them. */
export const BUILT_IN_NAMESPACES: Readonly<Record<string, string>> = {
  _: 'http://example.org/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  owl: 'http://www.w3.org/2002/07/owl#',
  foaf: 'http://xmlns.com/foaf/0.1/',
  wgs84: 'http://www.w3.org/2003/01/geo/wgs84_pos#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  dc: 'http://purl.org/dc/elements/1.1/',
  skos: 'http://www.w3.org/2004/02/skos/core#',
  dcterms: 'http://purl.org/dc/terms/',
  gs: 'http://www.opengis.net/ont/geosparql#',
};

const METADATA_ID = 'node';

function metadataEntity(rt: SluiceRuntime): ConfigEntity | null {
  return entitiesOf(rt.files).find((e) => e.entity.type === 'metadata')?.entity ?? null;
}

/** The posted metadata as one config entity: `_id` and `type` are filled in, anything else is refused. */
function postedMetadata(text: string): ConfigEntity {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body is not valid JSON: ${(err as Error).message}`, 'INVALID_JSON');
  }
  if (Array.isArray(value) && value.length === 1) value = value[0];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('send the service metadata as one JSON object', 'INVALID_BODY');
  const m = value as Record<string, unknown>;
  if (m._id !== undefined && m._id !== METADATA_ID) throw badRequest(`the service metadata has the _id "${METADATA_ID}", not ${JSON.stringify(m._id)}`, 'INVALID_BODY');
  if (m.type !== undefined && m.type !== 'metadata') throw badRequest(`the service metadata has the type "metadata", not ${JSON.stringify(m.type)}`, 'INVALID_BODY');
  return { ...m, _id: METADATA_ID, type: 'metadata' };
}

export const metadataPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime; bodyLimit: number; zipLimits: ZipLimits }> = async (app, { runtime: rt, bodyLimit, zipLimits }) => {
  await useConfigBodies(app, bodyLimit);

  const answer = (reply: FastifyReply) => {
    const m = metadataEntity(rt);
    return sendJsonText(reply, jsonText(m ? [m] : []));
  };

  app.get('/metadata', { schema: { summary: 'The service metadata: a list holding the node metadata entity (empty when the config has none)', tags: ['metadata'] } }, async (_request, reply) => answer(reply));

  app.put(
    '/metadata',
    {
      schema: {
        summary: 'Replaces the service metadata; answers it. 400 with `validation_errors` when the config no longer compiles',
        tags: ['metadata'],
        consumes: ['application/json'],
        bodyDescription: 'The node metadata entity (`_id` "node" and `type` "metadata" are filled in when missing)',
      },
    },
    async (request, reply) => {
      const upload = await readUpload(request, 'node-metadata.conf.json', false, zipLimits);
      if (upload.diagnostics.length) throw invalidConfig(upload.diagnostics, [], upload);
      const metadata = postedMetadata(upload.files.map((f) => f.text).join(''));
      const placed = uploadFromJsonText(JSON.stringify(metadata, null, 2), 'node-metadata.conf.json');
      return serialised(rt, async () => {
        const current = metadataEntity(rt);
        const files = [...(current ? withoutEntity(rt.files, current._id) : rt.files), ...placed.files];
        const r = await applyFiles(rt, files, false);
        if (!r.applied) throw invalidConfig(r.diagnostics, files, placed);
        request.log.info('service metadata replaced');
        return answer(reply);
      });
    },
  );

  app.delete('/metadata', { schema: { summary: 'Removes the service metadata (every setting goes back to its default); answers the empty list', tags: ['metadata'] } }, async (request, reply) =>
    serialised(rt, async () => {
      const current = metadataEntity(rt);
      if (current) {
        const files = withoutEntity(rt.files, current._id);
        const r = await applyFiles(rt, files, false);
        if (!r.applied) throw invalidConfig(r.diagnostics, files, null, 'the service metadata cannot be removed: the config does not compile without it');
        request.log.info('service metadata removed');
      }
      return answer(reply);
    }),
  );

  app.get('/namespaces', { schema: { summary: "The node's namespace expansions: the built-in ones and the metadata's `namespaces.default`", tags: ['metadata'] } }, async (_request, reply) => {
    const configured = ((rt.plan?.metadata.effective.namespaces as Record<string, unknown> | undefined)?.default ?? {}) as Record<string, unknown>;
    return sendJsonText(reply, jsonText({ ...BUILT_IN_NAMESPACES, ...configured }));
  });

  app.get(
    '/config-history/entity',
    {
      schema: {
        summary: 'Every stored version of one config entity (a pipe, a system or the node metadata), oldest first; removed entities end with a deleted version',
        tags: ['config'],
        querystring: {
          ...querySchema({
            entity_id: stringParam('The _id of the config entity'),
            since: intParam('Only versions with an offset (`_updated`) greater than this'),
            limit: intParam('At most this many versions'),
            reverse: boolParam('Newest first', false),
          }),
          required: ['entity_id'],
        },
      },
    },
    async (request, reply) => {
      const q = request.query as { entity_id: string; since?: number; limit?: number; reverse?: boolean };
      return sendJsonText(reply, jsonText(await configHistory(rt, q.entity_id, q)));
    },
  );

  app.get('/license', { schema: { summary: 'The license of this node: Sluice is open source and needs no license key', tags: ['service'] } }, async () => ({
    _id: 'license',
    product: 'sluice',
    version: COMPILER_VERSION,
    type: 'open-source',
    license: 'Apache-2.0',
    valid: true,
    expires: null,
  }));
};
