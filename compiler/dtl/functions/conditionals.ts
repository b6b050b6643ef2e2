/**
 * Conditional expressions: if, case, case-eq. Only the chosen branch is evaluated. case-eq compares
 * with the same equality as `eq` (a single value equals a one-element list).
 */
import { family, type ArgKind, type EmitContext } from '../spec.js';
import { truthy } from '../../values/types.js';
import { dtlEq } from './comparisons.js';

function emitChain(e: EmitContext, first: number, test: (c: string) => string): string {
  let code = '';
  let i = first;
  for (; i + 1 < e.count; i += 2) {
    code += `${test(e.arg(i))} ? ${e.arg(i + 1)} : `;
  }
  code += i < e.count ? e.arg(i) : 'null';
  return `(${code})`;
}

export default family('conditionals', (def) => {
  def.expression({
    name: 'if',
    doc: 'Returns THEN when CONDITION is true, else ELSE (or null).',
    args: ['expr', 'expr', 'expr'],
    min: 2,
    emit: (e) => `(${e.use(truthy)}(${e.arg(0)}) ? ${e.arg(1)} : ${e.count > 2 ? e.arg(2) : 'null'})`,
  });
  def.expression({
    name: 'case',
    doc: 'Returns the THEN of the first true VALUE; otherwise ELSE (or null).',
    min: 2,
    emit: (e) => emitChain(e, 0, (c) => `${e.use(truthy)}(${c})`),
  });
  def.expression({
    name: 'case-eq',
    doc: 'Returns the THEN of the first VALUE_N equal to VALUE; otherwise ELSE (or null).',
    args: (n: number): ArgKind[] => Array(n).fill('expr'),
    min: 3,
    emit: (e) => {
      const eq = e.use(dtlEq);
      const v = e.temp('v');
      // An arrow function binds VALUE once without needing statement context.
      return `((${v}) => ${emitChain(e, 1, (c) => `${eq}(${v}, ${c})`)})(${e.arg(0)})`;
    },
  });
});
