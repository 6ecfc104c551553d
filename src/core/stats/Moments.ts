/**
 * Count, mean and the central sums M2, M3, M4 of a stream of finite values, built block by block:
 * each block is centred on its own mean (two tight loops over data that sits in L1), then merged
 * into the running totals with the pairwise update of Chan et al. (M2) and Pébay (M3, M4). This
 * keeps float64 accuracy close to numpy's two-pass result even when |mean| ≫ σ, without the
 * per-element division of textbook Welford.
 */
export class Moments {
  n = 0;
  mean = 0;
  m2 = 0;
  m3 = 0;
  m4 = 0;

  /**
   * Adds `data[0..len)`. Every value must be finite (the caller compacts NaN and ±Inf away);
   * `sum` is their sum, already known from the scan that checked them.
   */
  pushBlock(data: Float64Array, len: number, sum: number): void {
    if (len === 0) return;
    const c = sum / len;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    for (let i = 0; i < len; i++) {
      const d = data[i] - c;
      const d2 = d * d;
      s1 += d;
      s2 += d2;
      s3 += d2 * d;
      s4 += d2 * d2;
    }
    this.pushSums(len, c, s1, s2, s3, s4);
  }

  /**
   * Adds `len` values given their sums of powers of d = x − c about a centre `c` (any value near
   * their mean: the nearer, the fewer digits the shift below cancels).
   */
  pushSums(len: number, c: number, s1: number, s2: number, s3: number, s4: number): void {
    if (len === 0) return;
    // Shift the sums from `c` onto the exact mean of these values, c + s1/len.
    const e = s1 / len;
    const e2 = e * e;
    const m2 = s2 - len * e2;
    const m3 = s3 - 3 * e * s2 + 2 * len * e2 * e;
    const m4 = s4 - 4 * e * s3 + 6 * e2 * s2 - 3 * len * e2 * e2;
    this.merge(len, c + e, Math.max(m2, 0), m3, Math.max(m4, 0));
  }

  /** Merges the moments of another disjoint set of values (Pébay 2008, eq. 2.1–2.3). */
  merge(nb: number, meanB: number, m2b: number, m3b: number, m4b: number): void {
    if (nb === 0) return;
    const na = this.n;
    if (na === 0) {
      this.n = nb;
      this.mean = meanB;
      this.m2 = m2b;
      this.m3 = m3b;
      this.m4 = m4b;
      return;
    }
    const n = na + nb;
    const d = meanB - this.mean;
    const dn = d / n;
    const dn2 = dn * dn;
    const t = d * dn * na * nb; // δ² · na · nb / n
    const m2a = this.m2;
    const m3a = this.m3;
    this.m4 += m4b + t * dn2 * (na * na - na * nb + nb * nb) + 6 * dn2 * (na * na * m2b + nb * nb * m2a) + 4 * dn * (na * m3b - nb * m3a);
    this.m3 += m3b + t * dn * (na - nb) + 3 * dn * (na * m2b - nb * m2a);
    this.m2 += m2b + t;
    this.mean += dn * nb;
    this.n = n;
  }

  /** Merges another accumulator into this one. */
  mergeFrom(o: Moments): void {
    this.merge(o.n, o.mean, o.m2, o.m3, o.m4);
  }
}
