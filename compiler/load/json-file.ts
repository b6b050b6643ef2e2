/** JSON files read for their value (env files, secrets files), with located errors. */
import type { Diagnostic } from '../diagnostics.js';
import { parseJsonWithPositions } from '../parse/json.js';
import { toPlain } from '../parse/tree.js';
import { readTextFile } from './text.js';

/**
 * The value of a JSON file: a syntax error becomes a diagnostic
 * at its line and column in `shownAs`, never a bare parser message.
 */
export function readJsonFile(path: string, shownAs: string): { value?: unknown; diagnostics: Diagnostic[] } {
  let text: string;
  try {
    text = readTextFile(path);
  } catch (err) {
    return { diagnostics: [{ file: shownAs, line: 1, column: 1, severity: 'error', code: 'CONFIG_IO', message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }] };
  }
  const parsed = parseJsonWithPositions(text, shownAs);
  // A repeated key is a slip, not a reason to refuse the file: as when Python loads it, the last one wins.
  const diagnostics = parsed.diagnostics.map((d): Diagnostic => (d.code === 'CONFIG_DUPLICATE_KEY' ? { ...d, severity: 'warning' } : d));
  if (!parsed.node || diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return { value: toPlain(parsed.node), diagnostics };
}
