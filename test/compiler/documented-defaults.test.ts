/**
 * Every default that Sesam's documentation gives in a property table or the text beside it, for
 * the components Sluice has, and that differs from leaving the property out: what a minimal
 * config comes to in the effective config. One row per default; the page is named per group.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import type { SourceFile } from '../../compiler/load/files.js';
import type { PlanPipe } from '../../compiler/plan/types.js';

type Row = [path: string, expected: unknown];

const system: SourceFile = { path: 'systems/s.conf.json', text: JSON.stringify({ _id: 's', type: 'system:url', base_url: 'http://example.org/' }), format: 'json', role: 'system' };

function file(entity: Record<string, unknown>): SourceFile {
  const text = JSON.stringify(entity);
  if (entity.type === 'metadata') return { path: 'node-metadata.conf.json', text, format: 'json', role: 'node-metadata' };
  const isSystem = String(entity.type).startsWith('system:');
  return { path: `${isSystem ? 'systems' : 'pipes'}/${String(entity._id)}.conf.json`, text, format: 'json', role: isSystem ? 'system' : 'pipe' };
}

/** The datasets the pipes under test read are not produced here: warnings about that are expected. */
const errorsOf = (r: ReturnType<typeof compile>) => r.diagnostics.filter((d) => d.severity === 'error');

function compiled(pipe: Record<string, unknown>, extra: Record<string, unknown>[] = []): { pipe: PlanPipe; plan: NonNullable<ReturnType<typeof compile>['plan']> } {
  const r = compile([system, file({ _id: 'p', type: 'pipe', ...pipe }), ...extra.map(file)]);
  expect(errorsOf(r)).toEqual([]);
  return { pipe: r.plan!.pipes.find((x) => x.id === 'p')!, plan: r.plan! };
}

function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

function table(title: string, doc: string, pipe: Record<string, unknown>, rows: Row[], pick: (p: PlanPipe) => unknown) {
  describe(`${title} (${doc})`, () => {
    const target = () => pick(compiled(pipe).pipe);
    it.each(rows)('%s defaults to %j', (path, expected) => {
      expect(at(target(), path)).toEqual(expected);
    });
  });
}

const embedded = { type: 'embedded', entities: [] };
const effective = (p: PlanPipe) => p.effective;
const source = (p: PlanPipe) => p.effective.source;
const sink = (p: PlanPipe) => p.effective.sink;
const transform = (p: PlanPipe) => p.effective.transform;
const pump = (p: PlanPipe) => p.pump;

table('pipe', 'configuration-pipes.rst', { source: embedded }, [
  ['sink.type', 'dataset'],
  ['sink.dataset', 'p'],
  ['batch_size', 100],
  ['checkpoint_interval', 100],
  ['disable_set_last_seen', false],
  ['enable_background_rescan', false],
  ['rescan_when_config_changes', false],
  ['infer_pipe_entity_types', true],
  ['reprocessing_policy', 'continue'],
], effective);

table('pipe with single-entity batches', 'configuration-pipes.rst', { source: embedded, batch_size: 1 }, [['checkpoint_interval', 1]], effective);

table('pipe dependency tracking', 'configuration-pipes.rst', { source: embedded, dependency_tracking: {} }, [
  ['dependency_tracking.dependency_warning_threshold', 10000],
  ['dependency_tracking.dependency_error_threshold', 50000],
  ['dependency_tracking.dependency_warning_threshold_total_bytes', 33554432],
  ['dependency_tracking.dependency_error_threshold_total_bytes', 134217728],
  ['dependency_tracking.enable_hops_thresholds', false],
], effective);

table('namespaces', 'features/namespaces.rst', { source: embedded }, [
  ['namespaced_identifiers', false],
  ['namespaces.identity', 'p'],
  ['namespaces.property', 'p'],
  ['add_namespaces', false],
  ['remove_namespaces', false],
], effective);

table('namespaces, enabled on the pipe', 'features/namespaces.rst', { namespaced_identifiers: true, source: embedded, sink: { type: 'http_endpoint' } }, [
  ['add_namespaces', true],
  ['remove_namespaces', true],
], effective);

table('namespaces, enabled on the pipe with sources and sinks whose default is false', 'features/namespaces.rst', { namespaced_identifiers: true, source: { type: 'dataset', dataset: 'p2' }, sink: { type: 'xml_endpoint' } }, [
  ['add_namespaces', false],
  ['remove_namespaces', false],
], effective);

table('pump of a dataset-to-dataset pipe', 'configuration-pump.rst', { source: { type: 'dataset', dataset: 'p2' } }, [['schedule_interval', 30]], pump);

table('pump', 'configuration-pump.rst', { source: embedded }, [
  ['schedule_interval', 900],
  ['run_at_startup', false],
  ['run_at_startup_if_not_populated', false],
  ['track_dead_letters', false],
  ['max_read_retries', 0],
  ['read_retry_delay', 0],
  ['write_retry_delay', 0],
  ['max_retries_per_entity', 5],
  ['max_consecutive_write_errors', 1],
  ['max_write_errors_in_retry_dataset', 0],
  ['batch_retries', 3],
  ['fallback_to_single_entities_on_batch_fail', true],
  ['mode', 'scheduled'],
  ['log_events_noop_runs', false],
  ['log_events_noop_runs_changes_only', true],
  ['notification_granularity', 999999999999999],
], pump);

table('dataset source', 'configuration-sources-dataset.rst', { source: { type: 'dataset', dataset: 'p2' } }, [
  ['completeness', false],
  ['if_source_empty', 'accept'],
  ['include_previous_versions', false],
  ['include_replaced', true],
  ['require_populated_input', false],
  // global_defaults.use_signalling_internally (true by default) turns signalling on for dataset sources.
  ['supports_signalling', true],
], source);

table('embedded source', 'configuration-sources-embedded.rst', { source: embedded }, [['if_source_empty', 'accept']], source);

table('http_endpoint source', 'configuration-sources-http.rst', { source: { type: 'http_endpoint' } }, [
  ['auto_populate_dataset', true],
  ['do_float_as_decimal', true],
  ['do_float_as_int', true],
  ['trace', false],
], source);

table('http_endpoint source tracing', 'configuration-sources-http.rst', { source: { type: 'http_endpoint', trace: {} } }, [
  ['trace.log_request_headers', true],
  ['trace.log_secret_redacted_bytes', 600],
  ['trace.log_request_body_maxsize', 100],
  ['trace.log_response_headers', true],
  ['trace.log_response_body_maxsize', 100],
], source);

table('json source', 'configuration-sources-json.rst', { source: { type: 'json', system: 's', url: 'entities' } }, [['if_source_empty', 'accept']], source);

table('csv source', 'configuration-sources-csv.rst', { source: { type: 'csv', system: 's', url: 'x.csv', primary_key: 'id' } }, [
  ['has_header', true],
  ['auto_dialect', true],
  ['encoding', 'UTF-8'],
  ['decode_error_strategy', 'strict'],
  ['preserve_empty_strings', false],
  ['delimiter', ','],
  ['escape_null_bytes', false],
  ['if_source_empty', 'accept'],
], source);

table('merge source', 'configuration-sources-merge.rst', { source: { type: 'merge', datasets: ['a a', 'b b'], equality: [['eq', 'a.x', 'b.x']] } }, [
  ['version', 1],
  ['identity', 'composite'],
  ['strategy', 'default'],
  ['ignore_non_existent_datasets', true],
  ['include_internal_properties', false],
  ['require_populated_input', false],
  ['max_merged', 50000],
  ['if_source_empty', 'accept'],
], source);

table('merge_datasets source', 'configuration-sources-merge-datasets.rst', { source: { type: 'merge_datasets', datasets: ['a', 'b'] } }, [
  ['strategy', 'latest'],
  ['ignore_non_existent_datasets', true],
  ['require_populated_input', false],
  ['if_source_empty', 'accept'],
], source);

table('union_datasets source', 'configuration-sources-union-datasets.rst', { source: { type: 'union_datasets', datasets: ['a', 'b'] } }, [
  ['ignore_non_existent_datasets', true],
  ['include_previous_versions', false],
  ['prefix_ids', true],
  ['require_populated_input', false],
  ['if_source_empty', 'accept'],
], source);

table('dataset sink', 'configuration-sinks-dataset.rst', { source: embedded, sink: { type: 'dataset' } }, [
  ['dataset', 'p'],
  ['set_initial_offset', 'if-source-populated'],
  ['indexes', []],
  ['track_children', false],
  ['enable_optimistic_locking', false],
  ['circuit_breaker_threshold_factor', null],
  ['circuit_breaker_threshold_count', null],
  ['deletion_tracking', true],
  ['mark_deletion_tracked', false],
  ['bitset_commit_interval', 1000000],
  ['prevent_multiple_versions', false],
  ['max_entity_bytes_size', 104857600],
], sink);

table('dataset sink of a pipe that creates children', 'configuration-sinks-dataset.rst', { source: embedded, transform: { type: 'dtl', rules: { default: [['copy', '*'], ['create-child', ['dict', '_id', 'c']]] } } }, [['track_children', true]], sink);

table('csv_endpoint sink', 'configuration-sinks-csv.rst', { source: embedded, sink: { type: 'csv_endpoint', columns: ['_id'] } }, [
  ['quoting', 'minimal'],
  ['delimiter', ','],
  ['doublequote', true],
  ['include_header', true],
  ['escapechar', null],
  ['lineterminator', '\r\n'],
  ['quotechar', '"'],
  ['byte_order_mark', false],
  ['encoding', 'utf-8'],
  ['encode_error_strategy', 'backslashreplace'],
  ['skip-deleted-entities', true],
  ['content_disposition', 'attachment'],
], sink);

table('http_endpoint sink', 'configuration-sinks-http.rst', { source: embedded, sink: { type: 'http_endpoint' } }, [['content_disposition', 'attachment']], sink);

table('xml_endpoint sink', 'configuration-sinks-xml.rst', { source: embedded, sink: { type: 'xml_endpoint' } }, [
  ['include-xml-decl', false],
  ['skip-deleted-entities', true],
  ['byte_order_mark', false],
  ['content_disposition', 'attachment'],
], sink);

table('json sink', 'configuration-sinks-json.rst', { source: embedded, sink: { type: 'json', system: 's', url: 'in' } }, [['batch_size', 100]], sink);

table('dtl transform', 'configuration-transforms-dtl.rst', { source: embedded, transform: { type: 'dtl', rules: { default: [['copy', '*']] } } }, [
  ['id_required', true],
  ['side_effects', false],
], transform);

table('http transform', 'configuration-transforms-http.rst', { source: embedded, transform: { type: 'http', system: 's', url: 'x' } }, [
  ['batch_size', 100],
  ['side_effects', true],
], transform);

describe('url system (configuration-systems-url.rst, configuration-systems.rst)', () => {
  it.each<Row>([
    ['verify_ssl', false],
    ['connect_timeout', 60],
    ['read_timeout', 1800],
    ['ignore_invalid_content_length_response_header', false],
    ['worker_threads', 10],
  ])('%s defaults to %j', (path, expected) => {
    expect(at(compiled({ source: embedded }).plan.systems[0].effective, path)).toEqual(expected);
  });
});

describe('node metadata (configuration-metadata.rst)', () => {
  it.each<Row>([
    ['namespaced_identifiers', false],
    ['global_defaults.use_signalling_internally', true],
    ['global_defaults.verify_ssl', false],
    ['global_defaults.max_entity_bytes_size', 104857600],
    ['global_defaults.max_merged', 50000],
    ['global_defaults.reprocessing_policy', 'continue'],
    ['global_defaults.infer_pipe_entity_types', true],
    ['global_defaults.eager_load_microservices', true],
    ['global_defaults.default_compaction_type', 'sink'],
    ['global_defaults.always_index_ids', false],
    ['global_defaults.symmetric_namespace_collapse', false],
    ['dependency_tracking.dependency_warning_threshold', 10000],
    ['dependency_tracking.dependency_error_threshold', 50000],
  ])('%s defaults to %j', (path, expected) => {
    const r = compile([file({ _id: 'node', type: 'metadata', global_defaults: {}, dependency_tracking: {} }), file({ _id: 'p', type: 'pipe', source: embedded })]);
    expect(errorsOf(r)).toEqual([]);
    expect(at(r.plan!.metadata.effective, path)).toEqual(expected);
  });

  it('namespaced_identifiers set in the service metadata is the pipes\' default', () => {
    const r = compile([file({ _id: 'node', type: 'metadata', namespaced_identifiers: true }), file({ _id: 'p', type: 'pipe', source: embedded })]);
    expect(r.plan!.pipes[0].effective).toMatchObject({ namespaced_identifiers: true, add_namespaces: true, remove_namespaces: false });
  });
});
