/**
 * Rounds to the nearest integer with ties to even, the rounding ONNX `QuantizeLinear` and
 * `np.round` use (Math.round rounds ties towards +∞, which would bias codes upwards).
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Clamps `x` into [lo, hi] (ONNX "saturate"). NaN stays NaN. */
export function saturate(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
