import type { QuantizedWeight } from './QuantScheme';

/**
 * The same quantized weight with unsigned codes: a symmetric (signed, zero point 0) weight becomes
 * codes q + 2^(b−1) with zero point 2^(b−1), which dequantizes to exactly the same values. Formats
 * that only take unsigned codes need this, such as `com.microsoft::MatMulNBits` (uint4, default
 * zero point 8). An asymmetric weight is returned as is.
 */
export function toUnsigned(q: QuantizedWeight): QuantizedWeight {
  if (!q.layout.symmetric) return q;
  const offset = 2 ** (q.layout.bits - 1);
  // A plain loop: Uint8Array.from with a mapping function is ten times slower on large weights.
  const codes = new Uint8Array(q.codes.length);
  for (let i = 0; i < codes.length; i++) codes[i] = q.codes[i] + offset;
  const zeroPoints = new Uint8Array(q.zeroPoints.length).fill(offset);
  return {
    layout: { ...q.layout, symmetric: false, qmin: q.layout.qmin + offset, qmax: q.layout.qmax + offset },
    codes,
    scales: q.scales,
    zeroPoints,
  };
}
