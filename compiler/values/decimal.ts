import { Decimal as DecimalJs } from 'decimal.js';

/**
 * The decimal type. A private clone so that the precision and rounding we choose (Python's decimal
 * context: 28 significant digits, banker's rounding) never leak into other users of decimal.js.
 * Construction from text is exact; only arithmetic results are rounded.
 */
export const Decimal = DecimalJs.clone({ precision: 28, rounding: DecimalJs.ROUND_HALF_EVEN, toExpNeg: -7, toExpPos: 28 });
export type Decimal = InstanceType<typeof Decimal>;
