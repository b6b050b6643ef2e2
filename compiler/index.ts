/** The compiler's public surface, used by the runtime, the operator and the CLI. */
export { compile, type CompileOptions, type CompileResult } from './compile.js';
export { readConfig, readConfigFolder, readConfigFile, sourceFilesFromEntries, type SourceFile } from './load/files.js';
export { readConfigFromGit } from './load/git.js';
export { formatDiagnostic, type Diagnostic, type DiagnosticCode } from './diagnostics.js';
export type { ExecutionPlan, PlanPipe, PlanSystem, PlanComponent, PlanGraph } from './plan/types.js';
export { parsePlan, checkPlan, PlanFormatError } from './plan/load.js';
export { diffPlans, type PlanDiff } from './plan/diff.js';
export { assignPlacement, type Placement } from './plan/placement.js';
export { CompiledDtl, compileExpression } from './dtl/compiled.js';
export { DtlContext, DtlRuntimeError, DtlSuspend, type HopsResolver } from './dtl/runtime.js';
export { substituteSecrets } from './config/env.js';
