/** YAML config with positions: the same model as JSON, via the `yaml` package's node ranges. */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import type { Loc, PNode } from './tree.js';
import type { ParseResult } from './json.js';
import { withoutByteOrderMark } from '../load/text.js';

export function parseYamlWithPositions(rawText: string, file: string): ParseResult {
  const text = withoutByteOrderMark(rawText);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: false, uniqueKeys: false, intAsBigInt: true });
  const locAt = (offset: number): Loc => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    diagnostics.push({ ...locAt(e.pos[0]), severity: 'error', code: 'CONFIG_SYNTAX', message: `invalid YAML: ${e.message.split('\n')[0]}` });
  }
  if (diagnostics.length) return { diagnostics };
  const convert = (n: YamlNode | null | undefined, fallback: Loc): PNode => {
    if (!n) return { kind: 'null', loc: fallback };
    const loc = n.range ? locAt(n.range[0]) : fallback;
    if (isAlias(n)) return convert(n.resolve(doc) as YamlNode, loc);
    if (isMap(n)) {
      const seen = new Set<string>();
      return {
        kind: 'object',
        loc,
        entries: n.items.map((pair) => {
          const keyNode = pair.key as YamlNode | null;
          const keyLoc = keyNode?.range ? locAt(keyNode.range[0]) : loc;
          const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
          if (seen.has(key)) diagnostics.push({ ...keyLoc, severity: 'error', code: 'CONFIG_DUPLICATE_KEY', message: `duplicate key "${key}"` });
          seen.add(key);
          return { key, keyLoc, value: convert(pair.value as YamlNode, keyLoc) };
        }),
      };
    }
    if (isSeq(n)) return { kind: 'array', loc, items: n.items.map((i) => convert(i as YamlNode, loc)) };
    if (isScalar(n)) {
      const v = n.value;
      if (v === null || v === undefined) return { kind: 'null', loc };
      if (typeof v === 'boolean') return { kind: 'boolean', loc, value: v };
      if (typeof v === 'bigint') return { kind: 'number', loc, text: v.toString() };
      if (typeof v === 'number') {
        const src = typeof n.source === 'string' ? n.source : String(v);
        // Keep `2.0` a float: the parsed number alone cannot tell it from `2`.
        const text = Number.isInteger(v) && /[.eE]/.test(src) ? `${v}.0` : String(v);
        return { kind: 'number', loc, text };
      }
      return { kind: 'string', loc, value: String(v) };
    }
    return { kind: 'null', loc };
  };
  const node = convert(doc.contents as YamlNode, { file, line: 1, column: 1 });
  return { node, diagnostics };
}
