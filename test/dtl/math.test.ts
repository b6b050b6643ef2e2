import { describe, expect, it } from 'vitest';
import { evalDtl, evalJson } from './helpers.js';
import { Decimal, DtlFloat } from '../../compiler/values/types.js';
import { numAdd, numDiv, numMod, numMul, numPow, numRound, numSub } from '../../compiler/values/numeric.js';

const kind = (expr: unknown) => {
  const v = evalDtl(expr);
  if (v instanceof Decimal) return 'decimal';
  if (v instanceof DtlFloat) return 'float';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  if (typeof v === 'bigint') return 'integer';
  return v === null ? 'null' : typeof v;
};

describe('math operators', () => {
  it('use the first value of list arguments', () => {
    expect(evalJson(['+', ['list', 7, 1], 3])).toBe(10);
    expect(evalJson(['-', 3, ['list', 5, 100]])).toBe(-2);
    expect(evalJson(['*', ['list', 1.5, 9], ['list', 4]])).toBe(6);
    expect(evalJson(['^', ['list', 3, 2], ['list', 4, 0]])).toBe(81);
  });

  it('return null for null, empty or non-numeric operands', () => {
    expect(evalJson(['+', null, 1])).toBe(null);
    expect(evalJson(['-', 1, ['list']])).toBe(null);
    expect(evalJson(['*', '3', 2])).toBe(null);
    expect(evalJson(['/', 4, '_S.missing'])).toBe(null);
    expect(evalJson(['+', true, 1])).toBe(null);
    expect(evalJson(['%', ['list', 'x', 5], 3])).toBe(null);
  });

  it('keep integers exact, beyond 2^53 too', () => {
    expect(evalJson(['+', 9007199254740991, 2])).toBe(9007199254740993n);
    expect(evalJson(['*', 4294967296, 4294967296])).toBe(18446744073709551616n);
    expect(evalJson(['-', '_S.big', 1], { source: { big: 18446744073709551616n } })).toBe(18446744073709551615n);
    expect(evalJson(['^', 3, 40])).toBe(12157665459056928801n);
    expect(evalJson(['-', '_S.big', 18446744073709551610n], { source: { big: 18446744073709551616n } })).toBe(6);
    expect(kind(['*', 3, 4])).toBe('integer');
  });

  it('promote integer < float < decimal', () => {
    expect(kind(['+', 1, 0.5])).toBe('float');
    expect(kind(['*', 2, ['float', 3]])).toBe('float');
    expect(evalJson(['*', 2.5, 2])).toBe(5);
    expect(kind(['*', 2.5, 2])).toBe('float');
    expect(evalJson(['+', 0.1, '~f0.2'])).toBe('~f0.3');
    expect(evalJson(['-', 10, '~f0.01'])).toBe('~f9.99');
    expect(kind(['+', '~f1', 1])).toBe('decimal');
  });

  it('divide truly: integers give a decimal, floats a float', () => {
    expect(evalJson(['/', 10, 20])).toBe('~f0.5');
    expect(evalJson(['/', 1, 3])).toBe('~f0.3333333333333333333333333333');
    expect(evalJson(['/', 9, 3])).toBe('~f3');
    expect(evalJson(['/', 1.0e0 + 0.5, 3])).toBe(0.5);
    expect(kind(['/', 1.5, 3])).toBe('float');
    expect(evalJson(['/', ['list', 7, 1], ['list', -2, 6]])).toBe('~f-3.5');
  });

  it('give null on division or modulo by zero', () => {
    expect(evalJson(['/', 5, 0])).toBe(null);
    expect(evalJson(['/', 0.5, 0])).toBe(null);
    expect(evalJson(['/', '~f1', '~f0'])).toBe(null);
    expect(evalJson(['%', 5, 0])).toBe(null);
  });

  it('modulo takes the sign of the divisor for integers and floats, of the dividend for decimals', () => {
    expect(evalJson(['%', -7, 3])).toBe(2);
    expect(evalJson(['%', 7, -3])).toBe(-2);
    expect(evalJson(['%', 7.5, 2])).toBe(1.5);
    expect(evalJson(['%', -7.5, 2])).toBe(0.5);
    expect(evalJson(['%', '~f-7', 3])).toBe('~f-1');
    expect(evalJson(['%', '_S.big', 1000], { source: { big: -18446744073709551616n } })).toBe(384);
  });

  it('power: negative integer exponents give decimals, complex results give null', () => {
    expect(evalJson(['^', 2, -2])).toBe('~f0.25');
    expect(evalJson(['^', 4, 0.5])).toBe(2);
    expect(kind(['^', 4, 0.5])).toBe('float');
    expect(evalJson(['^', -8, 0.5])).toBe(null);
    expect(evalJson(['^', 0, -1])).toBe(null);
    expect(evalJson(['^', '~f1.1', 2])).toBe('~f1.21');
    expect(evalJson(['^', 10, 400.5])).toBe(null);
  });
});

describe('math word forms', () => {
  it('take the operand first and apply it to every value', () => {
    expect(evalJson(['plus', 1, ['list', 1, 2.5, '~f3']])).toEqual([2, 3.5, '~f4']);
    expect(evalJson(['minus', 10, 12])).toBe(2);
    expect(evalJson(['multiply', 3, ['list', 1, 2]])).toEqual([3, 6]);
    expect(evalJson(['divide', 10, 20])).toBe('~f2');
    expect(evalJson(['divide', 4, ['list', 2, 6]])).toEqual(['~f0.5', '~f1.5']);
    expect(evalJson(['mod', 4, ['list', 9, 10]])).toEqual([1, 2]);
    expect(evalJson(['pow', 2, ['list', 3, 4]])).toEqual([9, 16]);
  });

  it('use the first value of a list operand', () => {
    expect(evalJson(['divide', ['list', 2, 8], 3])).toBe('~f1.5');
  });

  it('drop non-numeric values and nulls from lists', () => {
    expect(evalJson(['plus', 1, ['list', 'a', null, 2, true, ['list', 3]]])).toEqual([3]);
    expect(evalJson(['plus', 1, 'a'])).toBe(null);
    expect(evalJson(['plus', null, ['list', 1]])).toBe(null);
    expect(evalJson(['divide', 0, ['list', 1, 2]])).toEqual([]);
  });

  it('work inside map with _', () => {
    expect(evalJson(['map', ['multiply', 2, '_.'], ['list', 1, 2]])).toEqual([2, 4]);
  });
});

describe('abs, sqrt and trigonometry', () => {
  it('abs keeps the type', () => {
    expect(evalJson(['abs', ['list', -2, 4, -6.5, '~f-1.25']])).toEqual([2, 4, 6.5, '~f1.25']);
    expect(evalJson(['abs', '_S.n'], { source: { n: -18446744073709551616n } })).toBe(18446744073709551616n);
    expect(kind(['abs', ['float', -2]])).toBe('float');
    expect(evalJson(['abs', 'x'])).toBe(null);
    expect(evalJson(['abs', null])).toBe(null);
  });

  it('sqrt gives floats, decimals for decimals, null for negatives', () => {
    expect(evalJson(['sqrt', ['list', 4, 2.25, -1]])).toEqual([2, 1.5]);
    expect(kind(['sqrt', 16])).toBe('float');
    expect(evalJson(['sqrt', '~f2'])).toBe('~f1.414213562373095048801688724');
    expect(evalJson(['sqrt', -2])).toBe(null);
  });

  it('sin, cos and tan give floats', () => {
    expect(evalJson(['sin', 0])).toBe(0);
    expect(kind(['cos', 0])).toBe('float');
    expect(evalJson(['cos', ['list', 0, 'x']])).toEqual([1]);
    expect(Math.abs((evalJson(['tan', 3.14159265]) as number))).toBeLessThan(1e-6);
    expect(evalJson(['sin', '~f0'])).toBe(0);
  });
});

describe('ceil, floor and round', () => {
  it('round to integers without DIGITS', () => {
    expect(evalJson(['ceil', ['list', 2.2, -2.2, 6]])).toEqual([3, -2, 6]);
    expect(evalJson(['floor', ['list', 2.8, -2.2, 6]])).toEqual([2, -3, 6]);
    expect(evalJson(['round', ['list', 0.5, 1.5, 2.5, -2.5, -3.5, 2.51]])).toEqual([0, 2, 2, -2, -4, 3]);
    expect(kind(['round', 2.7])).toBe('integer');
    expect(evalJson(['round', '~f2.5'])).toBe(2);
    expect(evalJson(['ceil', '~f12345678901234567890.1'])).toBe(12345678901234567891n);
    expect(evalJson(['round', 1e20])).toBe(100000000000000000000n);
  });

  it('round to DIGITS places keeping floats and decimals', () => {
    expect(evalJson(['ceil', 2, 2.291])).toBe(2.3);
    expect(evalJson(['floor', 1, ['list', 4.78, -4.71]])).toEqual([4.7, -4.8]);
    expect(evalJson(['round', 2, 2.675])).toBe(2.68);
    expect(evalJson(['round', 1, '~f2.25'])).toBe('~f2.2');
    expect(evalJson(['round', 1, '~f2.35'])).toBe('~f2.4');
    expect(kind(['round', 1, 2.25])).toBe('float');
    expect(evalJson(['round', 2, 6])).toBe(6);
  });

  it('support negative DIGITS', () => {
    expect(evalJson(['round', -2, ['list', 1250, 1350, 1351]])).toEqual([1200, 1400, 1400]);
    expect(evalJson(['floor', -1, -11])).toBe(-20);
    expect(evalJson(['ceil', -1, 2.5])).toBe(10);
  });

  it('take DIGITS from an expression', () => {
    expect(evalJson(['round', '_S.d', 3.14159], { source: { d: 3 } })).toBe(3.142);
    expect(evalJson(['round', '_S.d', 3.14159], { source: { d: 'x' } })).toBe(null);
  });

  it('ignore non-numeric values', () => {
    expect(evalJson(['floor', ['list', 'a', 1.5, null]])).toEqual([1]);
    expect(evalJson(['round', 'a'])).toBe(null);
  });
});

describe('numeric helpers', () => {
  it('combine kinds as documented', () => {
    expect(numAdd(1, 2)).toBe(3);
    expect(numSub(new DtlFloat(1), 1)).toBeInstanceOf(DtlFloat);
    expect(numMul(new Decimal('1.5'), 2.0)).toBeInstanceOf(Decimal);
    expect(numDiv(1, 4)).toEqual(new Decimal('0.25'));
    expect(numMod(-1, 2n ** 60n)).toBe(2n ** 60n - 1n);
    expect(numPow(1, 10n ** 30n)).toBe(1);
    expect(() => numPow(3, 10n ** 12n)).toThrow(/too large/);
    expect(numRound(-0.4, 0, 'half-even')).toBe(0);
    expect(Object.is(numRound(-0.4, 0, 'half-even'), -0)).toBe(false);
  });
});
