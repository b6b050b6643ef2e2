/**
 * The one list of runtime components. A new source, sink or transform is a module plus a line
 * here (and its schema file); nothing in the executor or the pump changes.
 */
import type { ComponentContext, Sink, SinkSpec, Source, SourceSpec, Transform, TransformSpec } from './types.js';
import type { PlanComponent } from '../../compiler/plan/types.js';
import { datasetSource } from './sources/dataset.js';
import { embeddedSource } from './sources/embedded.js';
import { emptySource } from './sources/empty.js';
import { datasetSink } from './sinks/dataset.js';
import { nullSink } from './sinks/null.js';
import { dtlTransform } from './transforms/dtl.js';
import { unionDatasetsSource } from './sources/union_datasets.js';
import { mergeDatasetsSource } from './sources/merge_datasets.js';
import { mergeSource } from './sources/merge.js';
import { httpEndpointSource } from './sources/http_endpoint.js';
import { httpEndpointSink } from './sinks/http_endpoint.js';
import { csvEndpointSink } from './sinks/csv_endpoint.js';
import { xmlEndpointSink } from './sinks/xml_endpoint.js';
import { jsonSource } from './sources/json.js';
import { csvSource } from './sources/csv.js';
import { jsonSink } from './sinks/json.js';
import { httpTransform } from './transforms/http.js';
import { emitChildrenTransform } from './transforms/emit_children.js';
import { urlSystem } from './systems/url.js';
import { restSystem } from './systems/rest.js';
import { restSource } from './sources/rest.js';
import { binarySource } from './sources/binary.js';
import { restSink } from './sinks/rest.js';
import { restTransform } from './transforms/rest.js';
import { xmlTransform } from './transforms/xml.js';
import { jsonSchemaTransform } from './transforms/json_schema.js';
import { templateTransform } from './transforms/template.js';
import { smtpSystem } from './systems/smtp.js';
import { mailSink } from './sinks/mail.js';
import { elasticsearchSystem } from './systems/elasticsearch.js';
import { elasticsearchSink } from './sinks/elasticsearch.js';
import { ldapSystem } from './systems/ldap.js';
import { ldapSource } from './sources/ldap.js';
import { microserviceSystem } from './systems/microservice.js';
import { sqlSource } from './sources/sql.js';
import { sqlSink } from './sinks/sql.js';
import { postgresqlSystem } from './systems/sql/postgresql.js';
import { mysqlSystem } from './systems/sql/mysql.js';
import { closeSqlPools } from './systems/sql/pool.js';
import type { SystemSpec } from './types.js';

const sources: SourceSpec[] = [
  datasetSource,
  embeddedSource,
  emptySource,
  httpEndpointSource,
  jsonSource,
  csvSource,
  unionDatasetsSource,
  mergeDatasetsSource,
  mergeSource,
  restSource,
  binarySource,
  ldapSource,
  sqlSource,
];
const sinks: SinkSpec[] = [
  datasetSink,
  nullSink,
  httpEndpointSink,
  csvEndpointSink,
  xmlEndpointSink,
  jsonSink,
  restSink,
  mailSink,
  elasticsearchSink,
  sqlSink,
];
const transforms: TransformSpec[] = [
  dtlTransform,
  httpTransform,
  emitChildrenTransform,
  restTransform,
  xmlTransform,
  jsonSchemaTransform,
  templateTransform,
];
const systems: SystemSpec<unknown>[] = [
  urlSystem,
  restSystem,
  smtpSystem,
  elasticsearchSystem,
  ldapSystem,
  microserviceSystem,
  postgresqlSystem,
  mysqlSystem,
];

export class UnsupportedComponentError extends Error {
  readonly code = 'COMPONENT_UNSUPPORTED';
}

function find<T extends { type: string }>(list: T[], kind: string, type: string): T {
  const spec = list.find((s) => s.type === type);
  if (!spec) throw new UnsupportedComponentError(`${kind} type "${type}" is validated by the compiler but not yet runnable by this runtime (runnable: ${list.map((s) => s.type).join(', ')})`);
  return spec;
}

export const components = {
  sources,
  sinks,
  transforms,
  systems,
  createSource: (c: PlanComponent, ctx: ComponentContext): Source => find(sources, 'source', c.type).create(c, ctx),
  createSink: (c: PlanComponent, ctx: ComponentContext): Sink => find(sinks, 'sink', c.type).create(c, ctx),
  createTransform: (c: PlanComponent, ctx: ComponentContext): Transform => find(transforms, 'transform', c.type).create(c, ctx),
  /** Releases what systems hold between runs (database connection pools); they reopen when used again. */
  closeSystems: (): Promise<void> => closeSqlPools(),
  /** Registers extra components (tests, plugins). */
  register(spec: SourceSpec | SinkSpec | TransformSpec): void {
    const list = (spec.kind === 'source' ? sources : spec.kind === 'sink' ? sinks : transforms) as { type: string }[];
    const i = list.findIndex((s) => s.type === spec.type);
    if (i >= 0) list.splice(i, 1);
    list.push(spec);
  },
};
