/** Shapes of the API answers the Studio reads (the subset it uses). */
export type Json = Record<string, unknown>;

export interface ConfigError {
  level: 'error' | 'warning' | 'info';
  msg: string;
  file: string;
  line: number;
  column: number;
  code: string;
}

export interface PipeRuntime {
  state: string;
  'is-valid-config': boolean;
  'config-errors': ConfigError[];
  'is-running'?: boolean;
  'is-disabled'?: boolean;
  mode?: string;
  queues?: { source: number | null; dependencies: Record<string, number> };
  'supported-operations'?: string[];
  'last-run'?: string | null;
  'last-run-status'?: string | null;
  'last-sync-type'?: string | null;
  'current-run-started'?: string | null;
  'next-run'?: string | null;
  'last-seen'?: string;
  'last-message'?: string;
  'last-original-error-message'?: string;
  'last-run-metrics'?: { read: number; written: number; unchanged: number; deleted: number; failed: number; retried: number } | null;
  dependencies?: string[];
}

export interface Pipe {
  _id: string;
  config: { original: Json; effective: Json };
  runtime: PipeRuntime;
  graph: { upstream: string[]; downstream: string[] };
  storage: { dataset?: string; 'count-index-exists'?: number; 'count-index-deleted'?: number; 'last-offset'?: number };
}

export interface Dataset {
  _id: string;
  runtime: {
    populated: boolean;
    'count-index-exists': number;
    'count-index-deleted': number;
    'count-log-exists': number;
    'last-offset': number;
    origin: string;
    'last-modified': string | null;
    'written-by': string[];
    'read-by': string[];
    'hopped-by': string[];
  };
  storage: { indexes: string[]; versions: number };
}

export interface System {
  _id: string;
  config: { original: Json; effective: Json };
  runtime: { 'is-valid-config': boolean; 'config-errors': ConfigError[]; type: string; 'used-by': string[] };
}

export type PipeState = 'running' | 'failed' | 'disabled' | 'ok' | 'never-run' | 'invalid' | 'not-deployed';

export interface GraphNode {
  id: string;
  kind: 'pipe' | 'dataset' | 'system';
  name: string;
  state?: PipeState;
  type?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: 'source' | 'sink' | 'hops' | 'transform';
}

export interface FlowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: 'error' | 'warning' | 'info';
  code: string;
  message: string;
}

export interface ConfigImpact {
  added: string[];
  removed: string[];
  changed: { id: string; parts: string[]; effect: 'rescan' | 'reset-advised' | 'rebuilt' }[];
  systemChanges: { added: string[]; removed: string[]; changed: string[]; pipes: string[] };
  datasetsNoLongerProduced: string[];
  orphanedReaders: { pipe: string; dataset: string }[];
}

export interface Validation {
  ok: boolean;
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
  impact: ConfigImpact | null;
}

export interface StudioConfig {
  source: { kind: 'files'; editable: true } | { kind: 'plan'; editable: false; revision: string | null; repository: string | null; ref: string | null; path: string | null };
  plan: { hash: string; pipes: number; systems: number } | null;
  files: { path: string; text: string; format: string }[];
  entities: { id: string; type: string; file: string }[];
  pending_config_errors: Diagnostic[];
}

export interface Status {
  node_id: string;
  version: string;
  store: string;
  plan: { hash: string; pipes: number; systems: number; revision: string | null } | null;
  pending_config_errors: Diagnostic[];
  pumps: { total: number; running: number; disabled: number; scheduler_paused: boolean };
}

export type Entity = Json & { _id: string; _updated?: number; _deleted?: boolean; _ts?: number; _previous?: number | null };

export interface PipeRow {
  id: string;
  state: PipeState;
  source: string | null;
  sink: string | null;
  dataset: string | null;
  last_run: { ended: string; duration_ms: number; status: string; sync: string; read: number; written: number; failed: number; error: string | null } | null;
  queue: number | null;
  next_run: string | null;
  error: string | null;
}
