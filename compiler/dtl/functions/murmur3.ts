/**
 * MurmurHash3, x64 128-bit variant, written against the published algorithm description. 64-bit
 * lanes are kept as pairs of unsigned 32-bit halves so that hashing needs no BigInt arithmetic;
 * only the final 128-bit result is assembled as a bigint (high lane `h2`, low lane `h1`, which is
 * how the common Python binding presents an unsigned result).
 */

// Scratch registers for the 64-bit helpers (hi/lo halves of the last result).
let rh = 0;
let rl = 0;

/** (ah:al) * (bh:bl) mod 2^64, via 16-bit limbs so every partial product is exact in a double. */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a48 = ah >>> 16;
  const a32 = ah & 0xffff;
  const a16 = al >>> 16;
  const a00 = al & 0xffff;
  const b48 = bh >>> 16;
  const b32 = bh & 0xffff;
  const b16 = bl >>> 16;
  const b00 = bl & 0xffff;
  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
  c48 &= 0xffff;
  rh = ((c48 << 16) | c32) >>> 0;
  rl = ((c16 << 16) | c00) >>> 0;
}

/** (ah:al) + (bh:bl) mod 2^64. */
function add64(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  rl = lo >>> 0;
  rh = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Rotate left by r bits (0 < r < 64). */
function rotl64(h: number, l: number, r: number): void {
  if (r === 32) {
    rh = l;
    rl = h;
    return;
  }
  if (r > 32) {
    const t = h;
    h = l;
    l = t;
    r -= 32;
  }
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

// Multiplication constants of the x64 variant, split into halves.
const C1H = 0x87c37b91;
const C1L = 0x114253d5;
const C2H = 0x4cf5ad43;
const C2L = 0x2745937f;
const F1H = 0xff51afd7;
const F1L = 0xed558ccd;
const F2H = 0xc4ceb9fe;
const F2L = 0x1a85ec53;

/** The 64-bit finaliser (avalanche step); result in rh:rl. */
function fmix64(h: number, l: number): void {
  l = (l ^ (h >>> 1)) >>> 0; // shift right by 33 moves the top 31 bits of h into l
  mul64(h, l, F1H, F1L);
  h = rh;
  l = (rl ^ (h >>> 1)) >>> 0;
  mul64(h, l, F2H, F2L);
  h = rh;
  l = (rl ^ (h >>> 1)) >>> 0;
  rh = h;
  rl = l;
}

function readU32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/** MurmurHash3 x64 128 of `data` with a 32-bit seed, as an unsigned 128-bit bigint. */
export function murmur3x64_128(data: Uint8Array, seed = 0): bigint {
  const len = data.length;
  const blocks = len >>> 4;
  let h1h = 0;
  let h1l = seed >>> 0;
  let h2h = 0;
  let h2l = seed >>> 0;
  let k1h: number, k1l: number, k2h: number, k2l: number;

  for (let b = 0; b < blocks; b++) {
    const i = b << 4;
    k1l = readU32(data, i);
    k1h = readU32(data, i + 4);
    k2l = readU32(data, i + 8);
    k2h = readU32(data, i + 12);

    mul64(k1h, k1l, C1H, C1L);
    rotl64(rh, rl, 31);
    mul64(rh, rl, C2H, C2L);
    h1h = (h1h ^ rh) >>> 0;
    h1l = (h1l ^ rl) >>> 0;
    rotl64(h1h, h1l, 27);
    add64(rh, rl, h2h, h2l);
    mul64(rh, rl, 0, 5);
    add64(rh, rl, 0, 0x52dce729);
    h1h = rh;
    h1l = rl;

    mul64(k2h, k2l, C2H, C2L);
    rotl64(rh, rl, 33);
    mul64(rh, rl, C1H, C1L);
    h2h = (h2h ^ rh) >>> 0;
    h2l = (h2l ^ rl) >>> 0;
    rotl64(h2h, h2l, 31);
    add64(rh, rl, h1h, h1l);
    mul64(rh, rl, 0, 5);
    add64(rh, rl, 0, 0x38495ab5);
    h2h = rh;
    h2l = rl;
  }

  // Tail: up to 15 remaining bytes, little-endian into k1 (bytes 0-7) and k2 (bytes 8-14).
  const tail = blocks << 4;
  const rem = len & 15;
  k1h = k1l = k2h = k2l = 0;
  for (let j = rem - 1; j >= 8; j--) {
    const shift = (j - 8) * 8;
    if (shift >= 32) k2h |= data[tail + j] << (shift - 32);
    else k2l |= data[tail + j] << shift;
  }
  if (rem > 8) {
    mul64(k2h >>> 0, k2l >>> 0, C2H, C2L);
    rotl64(rh, rl, 33);
    mul64(rh, rl, C1H, C1L);
    h2h = (h2h ^ rh) >>> 0;
    h2l = (h2l ^ rl) >>> 0;
  }
  for (let j = Math.min(rem, 8) - 1; j >= 0; j--) {
    const shift = j * 8;
    if (shift >= 32) k1h |= data[tail + j] << (shift - 32);
    else k1l |= data[tail + j] << shift;
  }
  if (rem > 0) {
    mul64(k1h >>> 0, k1l >>> 0, C1H, C1L);
    rotl64(rh, rl, 31);
    mul64(rh, rl, C2H, C2L);
    h1h = (h1h ^ rh) >>> 0;
    h1l = (h1l ^ rl) >>> 0;
  }

  // Finalisation: mix in the length (it fits in 53 bits; split it for the high half).
  const lenHi = Math.floor(len / 0x100000000) >>> 0;
  const lenLo = len >>> 0;
  h1h = (h1h ^ lenHi) >>> 0;
  h1l = (h1l ^ lenLo) >>> 0;
  h2h = (h2h ^ lenHi) >>> 0;
  h2l = (h2l ^ lenLo) >>> 0;
  add64(h1h, h1l, h2h, h2l);
  h1h = rh;
  h1l = rl;
  add64(h2h, h2l, h1h, h1l);
  h2h = rh;
  h2l = rl;
  fmix64(h1h, h1l);
  h1h = rh;
  h1l = rl;
  fmix64(h2h, h2l);
  h2h = rh;
  h2l = rl;
  add64(h1h, h1l, h2h, h2l);
  h1h = rh;
  h1l = rl;
  add64(h2h, h2l, h1h, h1l);
  h2h = rh;
  h2l = rl;

  return (BigInt(h2h) << 96n) | (BigInt(h2l) << 64n) | (BigInt(h1h) << 32n) | BigInt(h1l);
}
