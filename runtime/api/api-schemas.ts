/**
 * The shapes of the service API's request and response bodies, as JSON Schemas, for the OpenAPI
 * document. Config bodies use the compiler's own schemas (schemas/*.json), so what the document
 * shows is what the compiler checks. `OPERATION_DOCS` names, per operation, its request body and
 * its answers; every answer that is not listed is an error object.
 */
import pipeSchema from '../../schemas/pipe.schema.json' with { type: 'json' };
import systemSchema from '../../schemas/system.schema.json' with { type: 'json' };
import metadataSchema from '../../schemas/node-metadata.schema.json' with { type: 'json' };
import { components } from '../components/registry.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const list = (items: Schema): Schema => ({ type: 'array', items });
const obj = (properties: Record<string, Schema>, required: string[] = [], more: Schema = {}): Schema => ({ type: 'object', properties, ...(required.length ? { required } : {}), ...more });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const any: Schema = {};
const text = (type: string): Schema => ({ 'x-content-type': type, type: 'string' });

function compilerSchema(s: Schema): Schema {
  const { $id: _id, $schema: _schema, ...rest } = s;
  return rest;
}

/** A system config: the properties every system has, with those of its type (one schema per system type). */
function systemConfigSchema(): Schema {
  const common = compilerSchema(systemSchema as Schema);
  const variants = components.systems.map((spec) => {
    const own = compilerSchema(spec.schema);
    return {
      ...own,
      title: own.title ?? `system:${spec.type}`,
      properties: { ...(common.properties as Schema), ...(own.properties as Schema) },
      required: [...new Set([...((common.required as string[]) ?? []), ...((own.required as string[]) ?? [])])],
    };
  });
  return { description: common.description, oneOf: variants };
}

export const COMPONENT_SCHEMAS: Record<string, Schema> = {
  Error: obj({ error: obj({ code: str, message: str }, ['code', 'message']) }, ['error']),
  PipeConfig: compilerSchema(pipeSchema as Schema),
  SystemConfig: systemConfigSchema(),
  ServiceMetadata: compilerSchema(metadataSchema as Schema),
  ConfigEntity: obj({ _id: str, type: str }, ['_id', 'type'], { additionalProperties: true }),
  ConfigError: obj({ level: { enum: ['error', 'warning', 'info'] }, msg: str, elements: str, file: str, line: int, column: int, code: str }, ['level', 'msg', 'elements']),
  ValidationResult: obj({ validation_errors: list(obj({ 'posted-config': { type: ['object', 'null'] }, 'config-errors': list(ref('ConfigError')) })) }, ['validation_errors']),
  Pipe: obj(
    {
      _id: str,
      config: obj({ original: ref('ConfigEntity'), effective: ref('ConfigEntity') }, ['original', 'effective']),
      runtime: obj({ state: str, 'is-valid-config': bool, 'is-running': bool, 'is-disabled': bool, 'config-errors': list(ref('ConfigError')), dependencies: list(str) }, ['is-running', 'is-valid-config']),
      graph: obj({ upstream: list(str), downstream: list(str) }),
      storage: { type: 'object' },
    },
    ['_id'],
  ),
  Pump: obj({ _id: str, pipe: str, config: obj({ effective: { type: 'object' } }), runtime: obj({ 'is-running': bool, 'is-disabled': bool, 'supported-operations': list(str) }, ['is-running']) }, ['_id', 'runtime']),
  System: obj({ _id: str, config: obj({ original: ref('ConfigEntity'), effective: ref('ConfigEntity') }), runtime: obj({ state: str, 'is-valid-config': bool, type: str }) }, ['_id']),
  Dataset: obj({ _id: str, runtime: obj({ populated: bool, 'count-index-exists': int, 'count-index-deleted': int, 'count-log-exists': int, 'last-offset': int, origin: str }), storage: { type: 'object' } }, ['_id', 'runtime']),
  Entity: obj({ _id: str }, ['_id'], { additionalProperties: true }),
  DatasetEntity: obj({ _id: str, _updated: { ...int, description: "The version's offset in the dataset" }, _deleted: bool, _ts: int, _hash: str, _previous: { type: ['integer', 'null'] } }, ['_id', '_updated'], { additionalProperties: true }),
  WriteResult: obj({ written: int, unchanged: int, deleted: int, 'last-offset': int }, ['written', 'unchanged', 'deleted']),
  DatasetIndex: obj({ id: int, expression: str, path: list(str), status: str }, ['id', 'expression']),
  EntityType: obj({ $id: str, type: { const: 'object' }, properties: { type: 'object' } }, ['$id'], { additionalProperties: true }),
  SchemaDefinition: obj({ type: str, properties: { type: 'object' }, required: list(str), 'x-count': int }, ['type']),
  Model: obj({ _id: str, name: str, entity_types: list({ type: 'object', properties: { $id: str }, required: ['$id'] }) }, ['_id', 'entity_types'], { additionalProperties: true }),
  Namespaces: { type: 'object', additionalProperties: str },
  SecretKeys: list(str),
  SecretValues: { type: 'object', additionalProperties: str },
  EnvVariables: { type: 'object', additionalProperties: true },
  License: obj({ _id: str, type: str, license: str, valid: bool }, ['valid']),
  ServiceInfo: obj({ status: obj({ developer_mode: bool, version: str, 'git-revision': str }, ['developer_mode']) }, ['status']),
  NodeStatus: obj({ node_id: str, node_version: str, node_start_time: str, developer_mode: bool }, ['node_start_time']),
  Health: obj({ status: str }, ['status']),
  Message: obj({ message: str }, ['message']),
  RunnerAnswer: obj({ status: str, additional_info: any, token: str }, ['status']),
  RunnerLog: list(obj({ timestamp: str, loglevel: str, logdata: str }, ['timestamp', 'loglevel', 'logdata'])),
  WebhookAnswer: obj({ _id: str, status: str }, ['status']),
  Webhook: obj({ _id: str, path: str, token: str }, ['path', 'token']),
  Accepted: obj({ _id: str, message: str }, ['message']),
};

export interface OperationDoc {
  /** Request body: a component schema name or a schema, by content type (default application/json). */
  body?: Record<string, Schema>;
  /** Answers by status: a schema (application/json), or `text(type)` for other content types. */
  responses: Record<string, Schema>;
}

const json = (s: Schema) => ({ 'application/json': s });
const configUpload = { 'application/json': { oneOf: [list(ref('ConfigEntity')), ref('ConfigEntity')] }, 'application/zip': { type: 'string', format: 'binary' }, 'multipart/form-data': obj({ file: { type: 'string', format: 'binary' } }, ['file']) };
const form = (fields: Record<string, Schema>, required: string[]) => ({ 'application/x-www-form-urlencoded': obj(fields, required), 'multipart/form-data': obj(fields, required), 'application/json': obj(fields, required) });
const entitiesBody = json({ oneOf: [list(ref('Entity')), ref('Entity')] });
const configAnswer = { '200': list(ref('ConfigEntity')) };
const proxied = { '200': { description: "The system's answer, passed through" } };

/** Keyed by `METHOD /path` as in the document (paths under /api). */
export const OPERATION_DOCS: Record<string, OperationDoc> = {
  'GET /api': { responses: { '200': ref('ServiceInfo') } },
  'POST /api': { body: form({ operation: { enum: ['restart', 'reset', 'load_config'] } }, ['operation']), responses: { '200': ref('Message') } },
  'POST /api/admin': { body: form({ operation: { enum: ['restart', 'reset', 'load_config'] } }, ['operation']), responses: { '200': ref('Message') } },
  'GET /api/status': { responses: { '200': ref('NodeStatus') } },
  'GET /api/health': { responses: { '200': ref('Health'), '503': ref('Health') } },
  'GET /api/ping': { responses: { '200': ref('Health') } },
  'GET /api/license': { responses: { '200': ref('License') } },
  'GET /api/openapi.json': { responses: { '200': { type: 'object' } } },
  'GET /api/config': { responses: configAnswer },
  'PUT /api/config': { body: configUpload, responses: { '200': ref('ValidationResult'), '400': ref('ValidationResult') } },
  'GET /api/config/{group}': { responses: configAnswer },
  'PUT /api/config/{group}': { body: configUpload, responses: { '200': ref('ValidationResult'), '400': ref('ValidationResult') } },
  'GET /api/config-all': { responses: configAnswer },
  'PUT /api/config-all': { body: configUpload, responses: { '200': ref('ValidationResult'), '400': ref('ValidationResult') } },
  'GET /api/config-history/entity': { responses: { '200': list(ref('DatasetEntity')) } },
  'GET /api/metadata': { responses: { '200': list(ref('ServiceMetadata')) } },
  'PUT /api/metadata': { body: json(ref('ServiceMetadata')), responses: { '200': list(ref('ServiceMetadata')), '400': ref('ValidationResult') } },
  'DELETE /api/metadata': { responses: { '200': list(ref('ServiceMetadata')) } },
  'GET /api/namespaces': { responses: { '200': ref('Namespaces') } },
  'GET /api/env': { responses: { '200': ref('EnvVariables') } },
  'PUT /api/env': { body: json(ref('EnvVariables')), responses: { '200': ref('EnvVariables') } },
  'POST /api/env': { body: json(ref('EnvVariables')), responses: { '200': ref('EnvVariables') } },
  'PATCH /api/env': { body: json(ref('EnvVariables')), responses: { '200': ref('EnvVariables') } },
  'DELETE /api/env/{name}': { responses: { '200': ref('EnvVariables') } },
  'GET /api/secrets': { responses: { '200': ref('SecretKeys') } },
  'PUT /api/secrets': { body: json(ref('SecretValues')), responses: { '200': ref('SecretKeys') } },
  'POST /api/secrets': { body: json(ref('SecretValues')), responses: { '200': ref('SecretKeys') } },
  'DELETE /api/secrets/{key}': { responses: { '200': ref('SecretKeys') } },
  'GET /api/models': { responses: { '200': list(ref('Model')) } },
  'POST /api/models': { body: json(list(ref('Model'))), responses: { '200': list(ref('Model')) } },
  'GET /api/models/{model}': { responses: { '200': ref('Model') } },
  'DELETE /api/models/{model}': { responses: { '200': ref('Model') } },
  'GET /api/models/{model}/{type}': { responses: { '200': ref('EntityType') } },
  'GET /api/pipes': { responses: { '200': list(ref('Pipe')) } },
  'POST /api/pipes': { body: json(list(ref('PipeConfig'))), responses: { '200': list(ref('Pipe')), '400': ref('ValidationResult') } },
  'GET /api/pipes/{id}': { responses: { '200': ref('Pipe') } },
  'DELETE /api/pipes/{id}': { responses: { '200': ref('Pipe') } },
  'GET /api/pipes/{id}/config': { responses: { '200': ref('PipeConfig') } },
  'PUT /api/pipes/{id}/config': { body: json(ref('PipeConfig')), responses: { '200': ref('Pipe'), '400': ref('ValidationResult') } },
  'GET /api/pipes/{id}/entities': { responses: { '200': list(ref('Entity')) } },
  'GET /api/pipes/{id}/log': { responses: { '200': list(ref('DatasetEntity')) } },
  'GET /api/pipes/{id}/generate-schema-definition': { responses: { '200': { oneOf: [ref('SchemaDefinition'), list(str)] } } },
  'GET /api/pipes/{id}/pump': { responses: { '200': ref('Pump') } },
  'POST /api/pipes/{id}/pump': { body: form({ operation: str, 'last-seen': str, comment: str }, ['operation']), responses: { '200': ref('Pump') } },
  'POST /api/pipes/{id}/webhook': { body: json(obj({ token: str }, ['token'])), responses: { '200': ref('WebhookAnswer') } },
  'GET /api/pipes/{id}/webhook': { responses: { '200': ref('Webhook') } },
  'GET /api/pipes/{id}/entity-types/source': { responses: { '200': ref('EntityType') } },
  'GET /api/pipes/{id}/entity-types/sink': { responses: { '200': ref('EntityType') } },
  'POST /api/pipes/run-all-pipes': { responses: { '200': ref('RunnerAnswer') } },
  'POST /api/pipes/stop-run-all-pipes': { responses: { '200': ref('RunnerAnswer') } },
  'GET /api/pipes/get-pipe-runner-status': { responses: { '200': ref('RunnerAnswer') } },
  'GET /api/pipes/get-run-all-pipes-log': { responses: { '200': ref('RunnerLog') } },
  'POST /api/pipes/delete-all-sink-datasets': { responses: { '200': { type: 'object' } } },
  'GET /api/datasets': { responses: { '200': list(ref('Dataset')) } },
  'GET /api/datasets/{id}': { responses: { '200': ref('Dataset') } },
  'DELETE /api/datasets/{id}': { responses: { '200': ref('Dataset') } },
  'POST /api/datasets/{id}': { body: form({ operation: { enum: ['rollback-circuit-breaker', 'commit-circuit-breaker'] } }, ['operation']), responses: { '200': ref('Dataset') } },
  'GET /api/datasets/{id}/entities': { responses: { '200': list(ref('DatasetEntity')) } },
  'OPTIONS /api/datasets/{id}/entities': { responses: { '200': text('text/plain') } },
  'POST /api/datasets/{id}/entities': { body: entitiesBody, responses: { '200': ref('WriteResult') } },
  'GET /api/datasets/{id}/entities/{entity_id}': { responses: { '200': ref('DatasetEntity') } },
  'GET /api/datasets/{id}/entity': { responses: { '200': ref('DatasetEntity') } },
  'GET /api/datasets/{id}/indexes': { responses: { '200': list(ref('DatasetIndex')) } },
  'DELETE /api/datasets/{id}/indexes/{index}': { responses: { '200': ref('DatasetIndex') } },
  'GET /api/datasets/{id}/generate-schema-definition': { responses: { '200': { oneOf: [ref('SchemaDefinition'), list(str)] } } },
  'GET /api/publishers/{id}/entities': { responses: { '200': list(ref('Entity')) } },
  'GET /api/publishers/{id}/entities/{filename}': { responses: { '200': list(ref('Entity')) } },
  'GET /api/publishers/{id}/csv': { responses: { '200': text('text/csv') } },
  'GET /api/publishers/{id}/csv/{filename}': { responses: { '200': text('text/csv') } },
  'OPTIONS /api/publishers/{id}/csv': { responses: { '200': text('text/plain') } },
  'GET /api/publishers/{id}/xml': { responses: { '200': text('application/xml') } },
  'GET /api/publishers/{id}/xml/{filename}': { responses: { '200': text('application/xml') } },
  'OPTIONS /api/publishers/{id}/xml': { responses: { '200': text('text/plain') } },
  'GET /api/publishers/{id}/excel': { responses: { '200': text('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet') } },
  'GET /api/publishers/{id}/excel/{filename}': { responses: { '200': text('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet') } },
  'OPTIONS /api/publishers/{id}/excel': { responses: { '200': text('text/plain') } },
  'POST /api/receivers/{id}/entities': { body: entitiesBody, responses: { '200': { type: 'object' } } },
  'GET /api/systems': { responses: { '200': list(ref('System')) } },
  'POST /api/systems': { body: json(list(ref('SystemConfig'))), responses: { '200': list(ref('System')), '400': ref('ValidationResult') } },
  'GET /api/systems/{id}': { responses: { '200': ref('System') } },
  'DELETE /api/systems/{id}': { responses: { '200': ref('System') } },
  'GET /api/systems/{id}/config': { responses: { '200': ref('SystemConfig') } },
  'PUT /api/systems/{id}/config': { body: json(ref('SystemConfig')), responses: { '200': ref('System'), '400': ref('ValidationResult') } },
  'GET /api/systems/{id}/status': { responses: { '200': { type: 'object' } } },
  'GET /api/systems/{id}/logs': { responses: { '200': text('text/plain') } },
  'POST /api/systems/{id}/reload': { responses: { '202': ref('Accepted') } },
  'GET /api/systems/{id}/proxy/{rest_of_path}': { responses: proxied },
  'POST /api/systems/{id}/proxy/{rest_of_path}': { body: { '*/*': any }, responses: proxied },
  'PUT /api/systems/{id}/proxy/{rest_of_path}': { body: { '*/*': any }, responses: proxied },
  'PATCH /api/systems/{id}/proxy/{rest_of_path}': { body: { '*/*': any }, responses: proxied },
  'DELETE /api/systems/{id}/proxy/{rest_of_path}': { responses: proxied },
  'GET /api/systems/{id}/secrets': { responses: { '200': ref('SecretKeys') } },
  'PUT /api/systems/{id}/secrets': { body: json(ref('SecretValues')), responses: { '200': ref('SecretKeys') } },
  'POST /api/systems/{id}/secrets': { body: json(ref('SecretValues')), responses: { '200': ref('SecretKeys') } },
  'DELETE /api/systems/{id}/secrets/{key}': { responses: { '200': ref('SecretKeys') } },
  'GET /metrics': { responses: { '200': text('text/plain') } },
};

/** A plugin outside the Sesam API (the Studio's support routes) documents its own operations here. */
export function documentOperations(docs: Record<string, { body?: Record<string, Schema>; responses: Record<string, Schema> }>): void {
  Object.assign(OPERATION_DOCS, docs);
}

export const schemaHelpers = { ref, list, obj, str, int, bool, json: (s: Schema) => ({ 'application/json': s }) };

