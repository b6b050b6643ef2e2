/**
 * The execution plan: everything a runtime needs to run a config revision, as plain JSON. It is
 * content-hashed, can be stored in a ConfigMap or on disk, diffed between revisions, and loaded
 * without the config text.
 */
import type { SourceLocation } from '../diagnostics.js';
import type { DtlProgram } from '../dtl/ir.js';
import type { DatasetDependency } from './dependencies.js';

export const PLAN_FORMAT = 'sluice-plan/v1';

export type JsonObject = Record<string, unknown>;

export interface PlanComponent {
  type: string;
  /** Effective config of the component (defaults applied; `$SECRET(...)` references left in place). */
  config: JsonObject;
  /** The compiled DTL of a `dtl` transform. */
  dtl?: DtlProgram;
  /** Compiled DTL rule sets the component calls by rule name (the template transform's extension points), by property. */
  rule_sets?: Record<string, DtlProgram>;
}

export interface PlanPipe {
  id: string;
  /** Where the pipe was defined. */
  source_file: string;
  location: SourceLocation;
  /** The config as written (references unresolved), for `config.original`. */
  original: JsonObject;
  /** The normalised config: defaults applied, implicit dataset sink explicit, for `config.effective`. */
  effective: JsonObject;
  /** Hash of the effective config: a changed hash means the pipe changed. */
  hash: string;
  source: PlanComponent;
  transforms: PlanComponent[];
  sink: PlanComponent;
  pump: JsonObject;
  /** Namespaced-identifier settings when enabled for this pipe. */
  namespaces: { identity: string; property: string } | null;
  add_namespaces: boolean;
  remove_namespaces: boolean;
  /** Datasets read by the source. */
  reads: string[];
  /** Dataset written by the sink, if it is a dataset sink. */
  writes: string | null;
  /** Datasets joined with hops/apply-hops (with dependency tracking) or looked up. */
  hops: { dataset: string; track_dependencies: boolean; via: 'hops' | 'lookup-entity' }[];
  /** Systems named by the source, transforms and sink. */
  systems: string[];
  /** Dependency tracking: for each joined dataset, how to get from its changes back to source entities. */
  dependencies: DatasetDependency[];
}

export interface PlanSystem {
  id: string;
  type: string;
  source_file: string;
  location: SourceLocation;
  original: JsonObject;
  effective: JsonObject;
  hash: string;
}

export interface DatasetNode {
  writers: string[];
  readers: string[];
  hopped_by: string[];
}

export interface PlanGraph {
  datasets: Record<string, DatasetNode>;
  /** Pipe ids in dependency order (producers before consumers; cycles broken by id order). */
  order: string[];
  /** For each pipe, the pipes whose output it reads or hops to. */
  upstream: Record<string, string[]>;
}

export interface ExecutionPlan {
  format: typeof PLAN_FORMAT;
  /** SHA-256 of the canonical JSON of the rest of the plan. */
  hash: string;
  compiler_version: string;
  metadata: { original: JsonObject | null; effective: JsonObject };
  pipes: PlanPipe[];
  systems: PlanSystem[];
  graph: PlanGraph;
  /** Secret names the config references (values are resolved by the runtime). */
  secrets: string[];
  /** The git revision the plan was compiled from, when known (not part of the hash). */
  revision?: string;
  /** Where the config came from, when it is a git repository (not part of the hash). */
  source?: { repository: string; ref?: string; path?: string };
  /** Which replica runs which pipe, when the plan is deployed to several (not part of the hash). */
  placement?: { replicas: number; assignments: Record<string, number> };
}
