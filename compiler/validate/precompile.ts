/**
 * Build step: writes every config schema's validator as standalone JavaScript (ajv's generated
 * code), named by the schema's hash, for the compiled build to load instead of generating it at
 * each start. The sources never use these files; see SchemaSet's validator lookup.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { newConfigAjv, precompiledName, SchemaSet } from './schemas.js';

// A CommonJS module: Node hands over module.exports, TypeScript expects its `default`.
const standaloneCode = (typeof standaloneModule === 'function' ? standaloneModule : standaloneModule.default) as typeof standaloneModule.default;

export function writePrecompiledValidators(dir: string): number {
  const set = SchemaSet.load();
  const ajv = newConfigAjv({ code: { source: true } });
  mkdirSync(dir, { recursive: true });
  let written = 0;
  for (const id of set.ids()) {
    const schema = set.compileInput(id);
    const validate = ajv.compile(schema);
    writeFileSync(join(dir, precompiledName(schema)), standaloneCode(ajv, validate));
    written++;
  }
  return written;
}
