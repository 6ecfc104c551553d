import type { OutputMetrics } from '../../protocol/quantizeTypes';
import type { RunTensor } from '../ort';

/** The last axis is taken as classes when it is longer than 1 and at most this long. */
const MAX_CLASSES = 100_000;
const EPS = 1e-12;

function toNumbers(t: RunTensor): ArrayLike<number> | undefined {
  return t.data instanceof BigInt64Array || t.data instanceof BigUint64Array ? undefined : t.data;
}

/** True when every row is already a distribution (non-negative, summing to 1). */
function isDistribution(v: ArrayLike<number>, rows: number, width: number): boolean {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < width; j++) {
      const x = v[r * width + j];
      if (!(x >= 0)) return false;
      s += x;
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return true;
}

/** Writes the distribution of row r into `out`: softmax of logits, or the probabilities as they are. */
function rowDistribution(v: ArrayLike<number>, r: number, width: number, softmax: boolean, out: Float64Array): void {
  const base = r * width;
  if (!softmax) {
    for (let j = 0; j < width; j++) out[j] = v[base + j];
    return;
  }
  let max = -Infinity;
  for (let j = 0; j < width; j++) max = Math.max(max, v[base + j]);
  let s = 0;
  for (let j = 0; j < width; j++) s += out[j] = Math.exp(v[base + j] - max);
  for (let j = 0; j < width; j++) out[j] /= s;
}

function argmax(v: ArrayLike<number>, base: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (v[base + j] > v[base + best]) best = j;
  return best;
}

/**
 * Accumulates, over validation batches, how far one output of a transformed model moved from the
 * original's: relative L2, cosine, max abs error, and for class-like outputs (last axis in
 * (1, 100k]) the mean KL divergence of the row distributions and top-1 agreement.
 */
export class OutputMetricsAccumulator {
  private elements = 0;
  private diff2 = 0;
  private ref2 = 0;
  private test2 = 0;
  private dot = 0;
  private maxAbs = 0;
  private rows = 0;
  private klSum = 0;
  private agree = 0;
  private classLike = true;
  private softmax: boolean | undefined;

  constructor(readonly name: string) {}

  /** Adds one batch: `ref` from the original model, `test` from the transformed one. */
  add(ref: RunTensor, test: RunTensor): void {
    const a = toNumbers(ref), b = toNumbers(test);
    if (!a || !b || a.length !== b.length) throw new Error(`output ${this.name}: the models disagree on its shape or type (${ref.dims.join('×')} vs ${test.dims.join('×')})`);
    for (let i = 0; i < a.length; i++) {
      const x = a[i], y = b[i], d = y - x;
      this.diff2 += d * d;
      this.ref2 += x * x;
      this.test2 += y * y;
      this.dot += x * y;
      if (Math.abs(d) > this.maxAbs || Number.isNaN(d)) this.maxAbs = Math.abs(d);
    }
    this.elements += a.length;
    const width = ref.dims[ref.dims.length - 1] ?? 0;
    const isFloat = ref.type === 'float32' || ref.type === 'float64' || ref.type === 'float16';
    if (!isFloat || !(width > 1 && width <= MAX_CLASSES) || a.length === 0) {
      this.classLike = false;
      return;
    }
    const rows = a.length / width;
    this.softmax ??= !(isDistribution(a, rows, width) && isDistribution(b, rows, width));
    const p = new Float64Array(width), q = new Float64Array(width);
    for (let r = 0; r < rows; r++) {
      rowDistribution(a, r, width, this.softmax, p);
      rowDistribution(b, r, width, this.softmax, q);
      let kl = 0;
      for (let j = 0; j < width; j++) if (p[j] > 0) kl += p[j] * Math.log(p[j] / Math.max(q[j], EPS));
      this.klSum += Math.max(0, kl);
      if (argmax(a, r * width, width) === argmax(b, r * width, width)) this.agree++;
    }
    this.rows += rows;
  }

  /** The metrics over every batch added. */
  result(): OutputMetrics {
    const classes = this.classLike && this.rows > 0;
    const norm = Math.sqrt(this.ref2 * this.test2);
    return {
      name: this.name,
      elements: this.elements,
      relativeL2: this.ref2 > 0 ? Math.sqrt(this.diff2 / this.ref2) : this.diff2 > 0 ? Infinity : 0,
      cosine: norm > 0 ? this.dot / norm : this.diff2 === 0 ? 1 : 0,
      maxAbsError: this.maxAbs,
      kl: classes ? this.klSum / this.rows : null,
      top1Agreement: classes ? this.agree / this.rows : null,
      klOver: classes ? (this.softmax ? 'logits' : 'probabilities') : null,
    };
  }
}
