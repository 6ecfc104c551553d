/**
 * The magnitude an N:M mask keeps in one stripe: Σ over rows of the N largest of the M values
 * |W[r, c]| for the stripe's columns c. `A` holds |W| column by column (A[c·rows + r]), so a
 * column is contiguous and a stripe is M contiguous runs; `offsets` are the M column starts.
 * Called in the innermost loop of the permutation search, so the common M = 4 patterns are
 * written out, and the general case uses the caller's scratch buffer instead of allocating.
 */
export function stripeKept(A: Float64Array, rows: number, offsets: Int32Array, N: number, scratch: Float64Array): number {
  const M = offsets.length;
  if (N >= M) {
    let s = 0;
    for (let t = 0; t < M; t++) for (let r = 0; r < rows; r++) s += A[offsets[t] + r];
    return s;
  }
  if (N <= 0) return 0;
  if (M === 4) return stripeKept4(A, rows, offsets[0], offsets[1], offsets[2], offsets[3], N);
  if (M === 8) return stripeKept8(A, rows, offsets, N);
  // General M: keep the N largest in scratch[0..N) sorted descending, by insertion.
  let s = 0;
  for (let r = 0; r < rows; r++) {
    let filled = 0;
    for (let t = 0; t < M; t++) {
      const v = A[offsets[t] + r];
      if (filled < N) {
        let i = filled++;
        while (i > 0 && scratch[i - 1] < v) {
          scratch[i] = scratch[i - 1];
          i--;
        }
        scratch[i] = v;
      } else if (v > scratch[N - 1]) {
        let i = N - 1;
        while (i > 0 && scratch[i - 1] < v) {
          scratch[i] = scratch[i - 1];
          i--;
        }
        scratch[i] = v;
      }
    }
    for (let i = 0; i < N; i++) s += scratch[i];
  }
  return s;
}

/**
 * {@link stripeKept} for M = 4 with the four column offsets as arguments: small enough for the
 * JIT to inline into the stripe-group loop, which calls it for every subset of every group.
 */
export function stripeKept4(A: Float64Array, rows: number, o0: number, o1: number, o2: number, o3: number, N: number): number {
  // The M = 4 patterns are branch-free: max(x, y) = (x + y + |x − y|)/2 and
  // min(x, y) = (x + y − |x − y|)/2. V8 compiles Math.max and comparisons of doubles to
  // branches, which mispredict half the time on random magnitudes and cost 4× more here.
  // For float32 weights the sums and differences below are exact (barring magnitudes 2^28
  // apart), so the result equals the comparison-based one.
  let s = 0;
  if (N <= 0) return 0;
  if (N >= 4) {
    for (let r = 0; r < rows; r++) s += A[o0 + r] + A[o1 + r] + A[o2 + r] + A[o3 + r];
    return s;
  }
  if (N === 2) {
    // The pairing that separates the top two of four from the bottom two has the largest
    // difference of pair sums, so top2 = (T + D)/2 with T = a + b + c + d and
    // D = max(|a + b − c − d|, |a + c − b − d|, |a + d − b − c|); the last two are |u + v| and
    // |u − v| for u = a − b, v = c − d, whose maximum is |u| + |v|. With max(x, w) written as
    // (x + w + |x − w|)/2, that is 4·top2 = 2T + x + w + |x − w|.
    for (let r = 0; r < rows; r++) {
      const a = A[o0 + r], b = A[o1 + r], c = A[o2 + r], d = A[o3 + r];
      const s1 = a + b, s2 = c + d;
      const x = Math.abs(s1 - s2), w = Math.abs(a - b) + Math.abs(c - d);
      s += 2 * (s1 + s2) + x + w + Math.abs(x - w);
    }
    return s * 0.25;
  }
  if (N === 1) {
    for (let r = 0; r < rows; r++) {
      const a = A[o0 + r], b = A[o1 + r], c = A[o2 + r], d = A[o3 + r];
      const hi1 = a + b + Math.abs(a - b), hi2 = c + d + Math.abs(c - d);
      s += hi1 + hi2 + Math.abs(hi1 - hi2);
    }
    return s * 0.25;
  }
  // N = 3: everything but the smallest.
  for (let r = 0; r < rows; r++) {
    const a = A[o0 + r], b = A[o1 + r], c = A[o2 + r], d = A[o3 + r];
    const lo1 = a + b - Math.abs(a - b), lo2 = c + d - Math.abs(c - d);
    s += 4 * (a + b + c + d) - (lo1 + lo2 - Math.abs(lo1 - lo2));
  }
  return s * 0.25;
}

/**
 * {@link stripeKept} for M = 8: each row's eight values are sorted descending by a 19-comparator
 * network (Knuth's optimal one), each comparator branch-free as in {@link stripeKept4}, and the
 * first N are summed. For float32 weights every comparator output is exactly one of its inputs.
 */
export function stripeKept8(A: Float64Array, rows: number, offsets: Int32Array, N: number): number {
  const o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3];
  const o4 = offsets[4], o5 = offsets[5], o6 = offsets[6], o7 = offsets[7];
  let s = 0;
  for (let r = 0; r < rows; r++) {
    let v0 = A[o0 + r], v1 = A[o1 + r], v2 = A[o2 + r], v3 = A[o3 + r];
    let v4 = A[o4 + r], v5 = A[o5 + r], v6 = A[o6 + r], v7 = A[o7 + r];
    let t: number, d: number;
    t = v0 + v2; d = Math.abs(v0 - v2); v0 = (t + d) * 0.5; v2 = t - v0;
    t = v1 + v3; d = Math.abs(v1 - v3); v1 = (t + d) * 0.5; v3 = t - v1;
    t = v4 + v6; d = Math.abs(v4 - v6); v4 = (t + d) * 0.5; v6 = t - v4;
    t = v5 + v7; d = Math.abs(v5 - v7); v5 = (t + d) * 0.5; v7 = t - v5;
    t = v0 + v4; d = Math.abs(v0 - v4); v0 = (t + d) * 0.5; v4 = t - v0;
    t = v1 + v5; d = Math.abs(v1 - v5); v1 = (t + d) * 0.5; v5 = t - v1;
    t = v2 + v6; d = Math.abs(v2 - v6); v2 = (t + d) * 0.5; v6 = t - v2;
    t = v3 + v7; d = Math.abs(v3 - v7); v3 = (t + d) * 0.5; v7 = t - v3;
    t = v0 + v1; d = Math.abs(v0 - v1); v0 = (t + d) * 0.5; v1 = t - v0;
    t = v2 + v3; d = Math.abs(v2 - v3); v2 = (t + d) * 0.5; v3 = t - v2;
    t = v4 + v5; d = Math.abs(v4 - v5); v4 = (t + d) * 0.5; v5 = t - v4;
    t = v6 + v7; d = Math.abs(v6 - v7); v6 = (t + d) * 0.5; v7 = t - v6;
    t = v2 + v4; d = Math.abs(v2 - v4); v2 = (t + d) * 0.5; v4 = t - v2;
    t = v3 + v5; d = Math.abs(v3 - v5); v3 = (t + d) * 0.5; v5 = t - v3;
    t = v1 + v4; d = Math.abs(v1 - v4); v1 = (t + d) * 0.5; v4 = t - v1;
    t = v3 + v6; d = Math.abs(v3 - v6); v3 = (t + d) * 0.5; v6 = t - v3;
    t = v1 + v2; d = Math.abs(v1 - v2); v1 = (t + d) * 0.5; v2 = t - v1;
    t = v3 + v4; d = Math.abs(v3 - v4); v3 = (t + d) * 0.5; v4 = t - v3;
    t = v5 + v6; d = Math.abs(v5 - v6); v5 = (t + d) * 0.5; v6 = t - v5;
    // N is the same for every row, so these branches are always predicted.
    s += v0;
    if (N > 1) s += v1;
    if (N > 2) s += v2;
    if (N > 3) s += v3;
    if (N > 4) s += v4;
    if (N > 5) s += v5;
    if (N > 6) s += v6;
  }
  return s;
}
