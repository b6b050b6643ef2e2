/** Names and units shared by the parse and output formats of datetimes (C locale). */
export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
export const NS_PER_MS = 1_000_000n;

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a < 0n && q * b !== a ? q - 1n : q;
}

/** The remainder with the sign of the divisor (days before the epoch give weekdays 0-6 too). */
export function mod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}
