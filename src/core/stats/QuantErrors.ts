import type { MatrixLayout } from './MatrixLayout';
import type { QuantErrorStats } from './TensorStats';

/** 1.5 · 2^52: (v + M) − M rounds |v| < 2^51 to an integer, half to even, like `roundHalfToEven`. */
const M = 6755399441055744;
/*
 * The hot loops multiply by 1/scale instead of dividing by scale (a division costs several
 * multiplies). x·(1/scale) differs from x/scale by under 1e-13 for |x/scale| ≤ 256, so the two
 * round to different integers only when x/scale is within that distance of a tie k + ½ — and
 * then both candidates are ½·scale from x (to rounding), so the squared error, the only thing
 * reported here, is the same. Code that needs the quantized integers themselves must use
 * quantizeLinear.ts, which divides as ONNX specifies.
 */
// Symmetric schemes skip the saturation: with scale = absmax / qmax, |x / scale| ≤ qmax·(1 + 2⁻⁵²)
// rounds to at most qmax, so saturate() never changes q. Asymmetric ones keep it (the zero point
// is rounded, so q + zp can land one step outside [0, 15]).

/** A scale for dividing by: an all-zero channel (scale 0) quantizes to 0 with any positive scale. */
function safeScale(s: number): number {
  return s > 0 ? s : 1;
}

/**
 * Squared quantization error of the schemes a user would consider, accumulated in the second
 * pass. The arithmetic is `QuantizeLinear` / `DequantizeLinear` inlined (see quantizeLinear.ts):
 * q = saturate(round_half_even(x / scale) + zp), x̂ = (q − zp) · scale, all in float64, with the
 * division done as a multiply by the reciprocal (see the note on ties above).
 *
 * - INT8 per tensor: scale = absmax / 127 (absmax from pass 1).
 * - INT8 and INT4 per output channel: scale = channel absmax / 127 or / 7 (from pass 1).
 * - INT4 groups of `groupSize` along the input axis, symmetric ([-8, 7]) and asymmetric (uint4
 *   [0, 15] with a zero point); a trailing partial group is its own group. Group ranges are
 *   found here: when inputs are the columns (outAxis 0) a group is a contiguous run of a row and
 *   at most one partial group is buffered; when inputs are the rows (outAxis 1) a group spans
 *   `groupSize` rows, so one block of `groupSize` rows is buffered (groupSize · cols values).
 *
 * Values must be finite; NaN and ±Inf are replaced by 0 upstream, which every scheme maps to 0
 * exactly, so they add nothing to signal or noise.
 */
export class QuantErrors {
  signal = 0;
  private errTensor8 = 0;
  private errChannel8 = 0;
  private errChannel4 = 0;
  private errGroupSym = 0;
  private errGroupAsym = 0;
  private groupLen = 0;
  // `declare`d fields set in the constructor keep V8's field types exact (see LinearHistogram).
  declare private readonly layout: MatrixLayout | null;
  declare private readonly groupSize: number;
  declare private readonly tensorScale: number;
  declare private readonly tensorInv: number;
  /** Per-output-channel scales and their reciprocals (INT8, INT4). */
  declare private readonly scale8: Float64Array;
  declare private readonly scale4: Float64Array;
  declare private readonly inv8: Float64Array;
  declare private readonly inv4: Float64Array;
  /** outAxis 0: the part of a group that a block boundary cut off. */
  declare private readonly groupBuf: Float64Array;
  /** outAxis 1: the current block of `groupSize` rows, and per-column scratch. */
  declare private readonly rowBlock: Float64Array;
  declare private readonly colMin: Float64Array;
  declare private readonly colMax: Float64Array;
  declare private readonly colZero: Float64Array;
  declare private readonly colInvSym: Float64Array;
  declare private readonly colInvAsym: Float64Array;

  constructor(absmax: number, layout: MatrixLayout | null, outAbsmax: Float64Array | null, groupSize: number) {
    this.layout = outAbsmax ? layout : null;
    this.groupSize = groupSize;
    this.tensorScale = safeScale(absmax / 127);
    this.tensorInv = 1 / this.tensorScale;
    const nOut = this.layout ? outAbsmax!.length : 0;
    this.scale8 = new Float64Array(nOut);
    this.scale4 = new Float64Array(nOut);
    this.inv8 = new Float64Array(nOut);
    this.inv4 = new Float64Array(nOut);
    for (let c = 0; c < nOut; c++) {
      this.scale8[c] = safeScale(outAbsmax![c] / 127);
      this.scale4[c] = safeScale(outAbsmax![c] / 7);
      this.inv8[c] = 1 / this.scale8[c];
      this.inv4[c] = 1 / this.scale4[c];
    }
    const byRow = this.layout?.outAxis === 0;
    const byCol = this.layout?.outAxis === 1;
    const cols = this.layout?.cols ?? 0;
    this.groupBuf = new Float64Array(byRow ? Math.min(groupSize, cols) : 0);
    this.rowBlock = new Float64Array(byCol ? Math.min(groupSize, this.layout.rows) * cols : 0);
    this.colMin = new Float64Array(byCol ? cols : 0);
    this.colMax = new Float64Array(byCol ? cols : 0);
    this.colZero = new Float64Array(byCol ? cols : 0);
    this.colInvSym = new Float64Array(byCol ? cols : 0);
    this.colInvAsym = new Float64Array(byCol ? cols : 0);
  }

  /** Adds `data[0..len)`, whose first value is element `pos` of the flattened tensor. */
  push(data: Float64Array, len: number, pos: number): void {
    const layout = this.layout;
    if (!layout) {
      this.tensorOnly(data, len);
      return;
    }
    const cols = layout.cols;
    let r = Math.floor(pos / cols);
    let c = pos - r * cols;
    let i = 0;
    while (i < len) {
      const seg = Math.min(len - i, cols - c);
      if (layout.outAxis === 0) this.rowSegment(data, i, seg, r, c);
      else this.colSegment(data, i, seg, r, c);
      i += seg;
      c += seg;
      if (c === cols) {
        c = 0;
        r++;
      }
    }
  }

  /** Signal and INT8 per-tensor error, for tensors that are not matrices. */
  private tensorOnly(data: Float64Array, len: number): void {
    const s = this.tensorScale;
    const inv = this.tensorInv;
    let sig = 0;
    let err = 0;
    for (let i = 0; i < len; i++) {
      const x = data[i];
      const v = x * inv;
      const q = v + M - M;
      const e = q * s - x;
      sig += x * x;
      err += e * e;
    }
    this.signal += sig;
    this.errTensor8 += err;
  }

  /** outAxis 0: `seg` values of output row `r` starting at column `c`. */
  private rowSegment(data: Float64Array, off: number, seg: number, r: number, c: number): void {
    const st = this.tensorScale;
    const it = this.tensorInv;
    const s8 = this.scale8[r];
    const s4 = this.scale4[r];
    const i8 = this.inv8[r];
    const i4 = this.inv4[r];
    let sig = 0;
    let et = 0;
    let e8 = 0;
    let e4 = 0;
    for (let j = off, end = off + seg; j < end; j++) {
      const x = data[j];
      const vt = x * it;
      const v8 = x * i8;
      const v4 = x * i4;
      const qt = vt + M - M;
      const q8 = v8 + M - M;
      const q4 = v4 + M - M;
      const dt = qt * st - x;
      const d8 = q8 * s8 - x;
      const d4 = q4 * s4 - x;
      sig += x * x;
      et += dt * dt;
      e8 += d8 * d8;
      e4 += d4 * d4;
    }
    this.signal += sig;
    this.errTensor8 += et;
    this.errChannel8 += e8;
    this.errChannel4 += e4;

    // Groups: finish a group cut by the previous block, then whole groups in place, then buffer the tail.
    const G = this.groupSize;
    const cols = this.layout!.cols;
    const buf = this.groupBuf;
    let k = 0;
    if (this.groupLen > 0) {
      const start = c - this.groupLen;
      const end = Math.min(start + G, cols);
      const take = Math.min(end - c, seg);
      buf.set(data.subarray(off, off + take), this.groupLen);
      this.groupLen += take;
      k = take;
      if (start + this.groupLen === end) {
        this.group(buf, 0, this.groupLen);
        this.groupLen = 0;
      }
    }
    while (k < seg) {
      const col = c + k;
      const glen = Math.min(G, cols - col);
      if (k + glen <= seg) {
        this.group(data, off + k, glen);
        k += glen;
      } else {
        buf.set(data.subarray(off + k, off + seg), 0);
        this.groupLen = seg - k;
        k = seg;
      }
    }
  }

  /** Symmetric and asymmetric INT4 error of one contiguous group `data[off..off+len)`. */
  private group(data: Float64Array, off: number, len: number): void {
    let mn = 0;
    let mx = 0; // starting at 0 widens the range to include 0, as the asymmetric rule asks
    const end = off + len;
    for (let j = off; j < end; j++) {
      const x = data[j];
      mn = Math.min(mn, x);
      mx = Math.max(mx, x);
    }
    const ss = safeScale(Math.max(-mn, mx) / 7);
    const sa = safeScale((mx - mn) / 15);
    const is = 1 / ss;
    const ia = 1 / sa;
    const zp = Math.min(Math.max(0 - mn / sa + M - M, 0), 15);
    let es = 0;
    let ea = 0;
    for (let j = off; j < end; j++) {
      const x = data[j];
      const vs = x * is;
      const va = x * ia;
      const qs = vs + M - M;
      const qa = va + M - M;
      const ds = qs * ss - x;
      const da = (Math.min(Math.max(qa + zp, 0), 15) - zp) * sa - x;
      es += ds * ds;
      ea += da * da;
    }
    this.errGroupSym += es;
    this.errGroupAsym += ea;
  }

  /** outAxis 1: `seg` values of input row `r` starting at output column `c`. */
  private colSegment(data: Float64Array, off: number, seg: number, r: number, c: number): void {
    const st = this.tensorScale;
    const it = this.tensorInv;
    const sc8 = this.scale8;
    const sc4 = this.scale4;
    const in8 = this.inv8;
    const in4 = this.inv4;
    let sig = 0;
    let et = 0;
    let e8 = 0;
    let e4 = 0;
    for (let j = 0; j < seg; j++) {
      const x = data[off + j];
      const s8 = sc8[c + j];
      const s4 = sc4[c + j];
      const vt = x * it;
      const v8 = x * in8[c + j];
      const v4 = x * in4[c + j];
      const qt = vt + M - M;
      const q8 = v8 + M - M;
      const q4 = v4 + M - M;
      const dt = qt * st - x;
      const d8 = q8 * s8 - x;
      const d4 = q4 * s4 - x;
      sig += x * x;
      et += dt * dt;
      e8 += d8 * d8;
      e4 += d4 * d4;
    }
    this.signal += sig;
    this.errTensor8 += et;
    this.errChannel8 += e8;
    this.errChannel4 += e4;

    const { rows, cols } = this.layout!;
    const G = this.groupSize;
    const blockRow = r % G;
    this.rowBlock.set(data.subarray(off, off + seg), blockRow * cols + c);
    if (c + seg === cols && (blockRow === G - 1 || r === rows - 1)) this.rowBlockGroups(blockRow + 1);
  }

  /** outAxis 1: the groups of a buffered block of `nr` input rows, one group per output column. */
  private rowBlockGroups(nr: number): void {
    const cols = this.layout!.cols;
    const b = this.rowBlock;
    const mn = this.colMin;
    const mx = this.colMax;
    mn.fill(0); // 0, not ±Inf: the asymmetric range always includes 0, and it leaves absmax unchanged
    mx.fill(0);
    for (let rr = 0; rr < nr; rr++) {
      const base = rr * cols;
      for (let cc = 0; cc < cols; cc++) {
        const x = b[base + cc];
        mn[cc] = Math.min(mn[cc], x);
        mx[cc] = Math.max(mx[cc], x);
      }
    }
    // Reuse the scratch rows: colMin becomes the symmetric scale, colMax the asymmetric one.
    const zps = this.colZero;
    const invS = this.colInvSym;
    const invA = this.colInvAsym;
    for (let cc = 0; cc < cols; cc++) {
      const lo = mn[cc];
      const hi = mx[cc];
      const sa = safeScale((hi - lo) / 15);
      zps[cc] = Math.min(Math.max(0 - lo / sa + M - M, 0), 15);
      mn[cc] = safeScale(Math.max(-lo, hi) / 7);
      mx[cc] = sa;
      invS[cc] = 1 / mn[cc];
      invA[cc] = 1 / sa;
    }
    let es = 0;
    let ea = 0;
    for (let rr = 0; rr < nr; rr++) {
      const base = rr * cols;
      for (let cc = 0; cc < cols; cc++) {
        const x = b[base + cc];
        const ss = mn[cc];
        const sa = mx[cc];
        const zp = zps[cc];
        const vs = x * invS[cc];
        const va = x * invA[cc];
        const qs = vs + M - M;
        const qa = va + M - M;
        const ds = qs * ss - x;
        const da = (Math.min(Math.max(qa + zp, 0), 15) - zp) * sa - x;
        es += ds * ds;
        ea += da * da;
      }
    }
    this.errGroupSym += es;
    this.errGroupAsym += ea;
  }

  /** The error of every scheme, as plain data. */
  results(): QuantErrorStats[] {
    const out: QuantErrorStats[] = [entry('int8-per-tensor', 8, 'tensor', true, this.signal, this.errTensor8)];
    if (this.layout) {
      out.push(
        entry('int8-per-channel', 8, 'channel', true, this.signal, this.errChannel8),
        entry('int4-per-channel', 4, 'channel', true, this.signal, this.errChannel4),
        { ...entry('int4-group-sym', 4, 'group', true, this.signal, this.errGroupSym), groupSize: this.groupSize },
        { ...entry('int4-group-asym', 4, 'group', false, this.signal, this.errGroupAsym), groupSize: this.groupSize },
      );
    }
    return out;
  }
}

function entry(scheme: QuantErrorStats['scheme'], bits: 4 | 8, granularity: QuantErrorStats['granularity'], symmetric: boolean, signal: number, noise: number): QuantErrorStats {
  return {
    scheme,
    bits,
    granularity,
    symmetric,
    sqnrDb: noise > 0 && signal > 0 ? 10 * Math.log10(signal / noise) : null,
    relativeError: signal > 0 ? Math.sqrt(noise / signal) : null,
    lossless: noise === 0,
  };
}
