/**
 * Lookup tables for the small float formats. A table lookup beats bit twiddling per element in
 * JavaScript, and the tables are built once, lazily, so importing this module costs nothing.
 */

let f16Table: Float32Array | undefined;
let e4m3Table: Float32Array | undefined;
let e5m2Table: Float32Array | undefined;

/** Value of the IEEE 754 binary16 number with bit pattern `h`, computed arithmetically. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The 65536-entry binary16 → float32 table (every f16 value is exact in float32). */
export function f16Lookup(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = halfToFloat(h);
  }
  return f16Table;
}

/** F8_E4M3 as safetensors / PyTorch define it (the "fn" variant: no infinities, NaN at S.1111.111). */
export function e4m3Lookup(): Float32Array {
  if (!e4m3Table) {
    e4m3Table = new Float32Array(256);
    for (let b = 0; b < 256; b++) {
      const sign = b & 0x80 ? -1 : 1;
      const exp = (b >> 3) & 0xf;
      const man = b & 7;
      if (exp === 15 && man === 7) e4m3Table[b] = NaN;
      else if (exp === 0) e4m3Table[b] = sign * (man / 8) * 2 ** -6;
      else e4m3Table[b] = sign * (1 + man / 8) * 2 ** (exp - 7);
    }
  }
  return e4m3Table;
}

/** F8_E5M2: the top byte of a binary16, so it shares the f16 exponent range, infinities and NaN. */
export function e5m2Lookup(): Float32Array {
  if (!e5m2Table) {
    e5m2Table = new Float32Array(256);
    for (let b = 0; b < 256; b++) e5m2Table[b] = halfToFloat(b << 8);
  }
  return e5m2Table;
}
