/**
 * Diagnostics: every problem the compiler finds, with a stable code and a source location.
 * The compiler collects them all in one run instead of stopping at the first.
 */

export type Severity = 'error' | 'warning' | 'info';

/** Stable diagnostic codes. Never rename one: users and tools match on them. */
export const DiagnosticCodes = {
  CONFIG_IO: 'Cannot read a config file or folder',
  CONFIG_SYNTAX: 'The config text is not valid JSON or YAML',
  CONFIG_DUPLICATE_KEY: 'A JSON object has the same key twice',
  CONFIG_SCHEMA: 'A config entity does not match its JSON Schema',
  CONFIG_UNKNOWN_TYPE: 'A config entity, source, sink, transform or system has an unknown type',
  COMPONENT_UNSUPPORTED: 'A source, sink, transform or system type that Sesam documents but Sluice does not implement yet',
  CONFIG_UNKNOWN_PROPERTY: 'A config entity has a property its type does not define',
  CONFIG_ENV_UNRESOLVED: 'An $ENV(...) reference names an environment variable that is not set',
  CONFIG_SECRET_UNRESOLVED: 'A $SECRET(...) reference names a secret that is not set',
  CONFIG_FILE_ID_MISMATCH: 'A config file name does not match the _id of the entity it holds',
  PIPE_DUPLICATE_ID: 'Two config entities share an _id',
  PIPE_UNKNOWN_SYSTEM: 'A source, sink or transform names a system that is not defined',
  PIPE_UNKNOWN_DATASET: 'A pipe reads or hops to a dataset that no pipe produces',
  PIPE_DATASET_WRITERS: 'Several pipes write to the same dataset',
  PIPE_CYCLE: 'Pipes depend on each other in a cycle',
  PUMP_CRON: 'A pump cron expression is not valid',
  DTL_SYNTAX: 'A DTL rule is not well formed',
  DTL_UNKNOWN_FUNCTION: 'A DTL function name is not known',
  DTL_ARITY: 'A DTL function got the wrong number of arguments',
  DTL_ARGUMENT: 'A DTL function argument has the wrong kind',
  DTL_EXPRESSION_AS_TRANSFORM: 'An expression function is used where a transform is expected',
  DTL_TRANSFORM_AS_EXPRESSION: 'A transform function is used where an expression is expected',
  DTL_UNKNOWN_RULE: 'apply or apply-hops names a rule that does not exist',
  DTL_NO_DEFAULT_RULE: 'The DTL rules have no default rule',
  DTL_UNKNOWN_VARIABLE: 'A path starts with a variable that is not defined here',
  DTL_BAD_PATH: 'A property path string is malformed',
  DTL_HOPS: 'A hops specification is not valid',
  DTL_LITERAL: 'A literal value is not valid for its type',
  DTL_RUNTIME: 'A DTL expression failed while it was evaluated',
  TEMPLATE_UNKNOWN_PROPERTY: 'An inline template body refers to a template property that is not given',
  TEMPLATE_RULES_UNUSED: 'DTL rules given to a transform template that never calls them',
} as const;

export type DiagnosticCode = keyof typeof DiagnosticCodes;

export interface SourceLocation {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export interface Diagnostic extends SourceLocation {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${formatLocation(d)} ${d.severity} ${d.code} ${d.message}`;
}

export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

/** Collects diagnostics during one compilation. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  add(code: DiagnosticCode, loc: SourceLocation, message: string, severity: Severity = 'error'): void {
    this.items.push({ file: loc.file, line: loc.line, column: loc.column, severity, code, message });
  }

  error(code: DiagnosticCode, loc: SourceLocation, message: string): void {
    this.add(code, loc, message, 'error');
  }

  warning(code: DiagnosticCode, loc: SourceLocation, message: string): void {
    this.add(code, loc, message, 'warning');
  }

  get hasErrors(): boolean {
    return hasErrors(this.items);
  }
}

/** An error that carries a diagnostic; thrown only across internal boundaries, never to users. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(formatDiagnostic(diagnostic));
  }
}

function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => [i, ...new Array<number>(n).fill(0)]);
  for (let j = 0; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[m][n];
}

/** The closest candidate to a misspelt name, if one is close enough to be a plausible intent. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = Math.max(1, Math.floor(word.length / 3));
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) > limit) continue;
    const dist = editDistance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) {
      bestDistance = dist;
      best = c;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** " (did you mean \"x\"?)" or "" */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s ? ` (did you mean "${s}"?)` : '';
}
