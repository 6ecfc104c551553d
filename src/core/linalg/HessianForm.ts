import { CancelledError } from './CancelledError';
import { assertSquare, type MatrixLike } from './Matrix';
import { topEigenvalue, topEigenvalueOf, type PowerIterationOptions, type TopEigen } from './powerIteration';
import { quadraticTraceOfDifference } from './quadraticTrace';

/** Options of {@link HessianForm.of}. */
export interface HessianFormOptions {
  /**
   * Rows of X that H = XᵀX sums over. With fewer rows N than inputs n, H has rank at most N and
   * the form can be evaluated through an n×N factor; unknown rows keep the dense form.
   */
  readonly rows?: number;
}

/** What {@link HessianForm.traces} may be told. */
export interface TracesOptions {
  /** Polled between blocks of rows; true aborts with CancelledError. */
  readonly isCancelled?: () => boolean;
}

/** Pivots of the factor stop below this fraction of the largest diagonal entry: the rest is rounding. */
const PIVOT_TOLERANCE = 1e-12;

/**
 * A factor is only trusted when what it leaves out, tr(H − R·Rᵀ), is this small a fraction of
 * tr(H). ONNX Runtime sums XᵀX in float32, so H itself is only good to about √N·2⁻²⁴ relative
 * (measured: residuals of 5e-8 to 2.5e-7 of tr(H) after N = 128 pivots); a residual below this
 * bound is that rounding, and the factored figures differ from the dense ones by as little.
 */
const RESIDUAL_TOLERANCE = 1e-5;

/** H ≈ R·Rᵀ with R [n, rank] held as Rᵀ (row-major [rank, n]: each column of R contiguous), and tr(H − R·Rᵀ). */
interface Factor {
  readonly Rt: Float64Array;
  readonly rank: number;
  readonly residual: number;
}

/**
 * Factors, kept per H array: layers that read the same activation share their H, and so one
 * factor. H arrays are never changed once calibration has produced them.
 */
const factors = new WeakMap<Float32Array | Float64Array, Factor | null>();

/**
 * The quadratic form of a layer's Hessian H = XᵀX [n, n]: tr(D·H·Dᵀ), the layer-wise output
 * error ‖X·Dᵀ‖²_F, for several differences D = A − B at once. Dense, it costs out·n²/2 per
 * difference. When X had N < n rows, H has rank ≤ N and a pivoted Cholesky factor H = R·Rᵀ
 * (R [n, ≤ N], found in O(n·N²) once per H) gives tr(D·H·Dᵀ) = ‖D·R‖²_F in O(out·n·N); every
 * difference shares one sweep of R. The cheaper form is chosen from the shapes, and the dense
 * form is kept whenever the factor would not reproduce H to rounding (tr(H − R·Rᵀ) above
 * 1e-5·tr(H)), so both give the same figures within float tolerance.
 */
export class HessianForm {
  private constructor(
    private readonly H: MatrixLike,
    private readonly n: number,
    private readonly rows: number | undefined,
  ) {}

  /** The form of H; see {@link HessianFormOptions}. */
  static of(H: MatrixLike, options: HessianFormOptions = {}): HessianForm {
    const n = assertSquare(H, 'H');
    return new HessianForm(H, n, options.rows !== undefined && Number.isInteger(options.rows) && options.rows >= 0 ? options.rows : undefined);
  }

  /**
   * tr((A − B_k)·H·(A − B_k)ᵀ) for each entry of `Bs` (an undefined entry gives tr(A·H·Aᵀ)),
   * with A and every B_k [out, n].
   *
   * @throws {RangeError} when a shape does not match; CancelledError when cancelled.
   */
  traces(A: MatrixLike, Bs: readonly (MatrixLike | undefined)[], options: TracesOptions = {}): Float64Array {
    const n = this.n;
    if (A.cols !== n) throw new RangeError(`rows have ${A.cols} entries, H is ${n}×${n}`);
    for (const B of Bs) if (B !== undefined && (B.rows !== A.rows || B.cols !== A.cols)) throw new RangeError(`difference of ${A.rows}×${A.cols} and ${B.rows}×${B.cols}`);
    const out = new Float64Array(Bs.length);
    const factor = this.factorFor(A.rows * Bs.length);
    if (!factor) {
      for (const [k, B] of Bs.entries()) {
        if (options.isCancelled?.() === true) throw new CancelledError('layer error cancelled');
        out[k] = quadraticTraceOfDifference(A, B, this.H);
      }
      return out;
    }
    sweepFactor(factor, A, Bs, out, options.isCancelled);
    return out;
  }

  /**
   * The top eigenvalue of H by power iteration ({@link topEigenvalue}); through the factor,
   * H·v = R·(Rᵀ·v) costs 2·n·N instead of n², when a factor is at hand and cheaper.
   */
  topEigenvalue(options: PowerIterationOptions = {}): TopEigen {
    const n = this.n, N = this.rows;
    const f = N !== undefined && 2 * N < n ? this.factorFor(Infinity, false) : undefined;
    if (!f) return topEigenvalue(this.H, options);
    const { Rt, rank } = f;
    const t = new Float64Array(rank);
    return topEigenvalueOf(n, (x, y) => {
      for (let j = 0; j < rank; j++) {
        const rj = j * n;
        let s = 0;
        for (let i = 0; i < n; i++) s += Rt[rj + i] * x[i];
        t[j] = s;
      }
      y.fill(0);
      for (let j = 0; j < rank; j++) {
        const a = t[j], rj = j * n;
        for (let i = 0; i < n; i++) y[i] += a * Rt[rj + i];
      }
    }, options);
  }

  /** The form used for `vectors` quadratic forms: 'factor' (with its rank) or 'dense'. */
  plan(vectors: number): { readonly kind: 'dense' } | { readonly kind: 'factor'; readonly rank: number } {
    const f = this.factorFor(vectors);
    return f ? { kind: 'factor', rank: f.rank } : { kind: 'dense' };
  }

  /**
   * The factor when it is cheaper than the dense form for `vectors` quadratic forms (with
   * `costed` false: whenever H admits one), else undefined.
   */
  private factorFor(vectors: number, costed = true): Factor | undefined {
    const n = this.n, N = this.rows;
    if (N === undefined || N >= n || n === 0) return undefined;
    const cached = factors.get(this.H.data);
    if (cached === null) return undefined;
    // Multiply-adds: the dense form n²/2 per vector; the factor n·N per vector at the sweep's
    // better rate, plus n·N²/2 once for the factor.
    const dense = (vectors * n * n) / 2;
    const factored = FACTOR_SWEEP_COST * vectors * n * Math.max(N, 1) + (cached ? 0 : (n * N * N) / 2);
    if (costed && factored >= dense) return undefined;
    if (cached) return cached;
    const f = pivotedCholesky(this.H, n, N);
    factors.set(this.H.data, f ?? null);
    return f;
  }
}

/**
 * H = R·Rᵀ + S by Cholesky with diagonal pivoting, stopped after `cap` pivots or when the largest
 * remaining diagonal entry is rounding: R is row-major [n, cap], its column k nonzero only in the
 * rows not yet pivoted before step k. Undefined when tr(S) is not negligible (see
 * {@link RESIDUAL_TOLERANCE}), i.e. H was not of rank ≤ cap.
 */
function pivotedCholesky(H: MatrixLike, n: number, cap: number): Factor | undefined {
  const h = H.data;
  const R = new Float64Array(n * cap);
  const d = new Float64Array(n);
  const pivoted = new Uint8Array(n);
  let traceH = 0, maxDiag = 0;
  for (let i = 0; i < n; i++) {
    d[i] = h[i * n + i];
    traceH += d[i];
    if (d[i] > maxDiag) maxDiag = d[i];
  }
  if (!(traceH > 0)) return undefined;
  let rank = 0;
  for (let k = 0; k < cap; k++) {
    let p = -1, best = PIVOT_TOLERANCE * maxDiag;
    for (let i = 0; i < n; i++) {
      if (pivoted[i] === 0 && d[i] > best) {
        best = d[i];
        p = i;
      }
    }
    if (p < 0) break;
    pivoted[p] = 1;
    const lpp = Math.sqrt(best);
    const rp = p * cap;
    R[rp + k] = lpp;
    d[p] = 0;
    const hp = p * n;
    for (let i = 0; i < n; i++) {
      if (pivoted[i] !== 0) continue;
      const ri = i * cap;
      // Row p of H is column p, by symmetry: the reads stay contiguous.
      let s = h[hp + i];
      for (let j = 0; j < k; j++) s -= R[ri + j] * R[rp + j];
      const v = s / lpp;
      R[ri + k] = v;
      d[i] -= v * v;
    }
    rank = k + 1;
  }
  let residual = 0;
  for (let i = 0; i < n; i++) if (pivoted[i] === 0 && d[i] > 0) residual += d[i];
  if (residual > RESIDUAL_TOLERANCE * traceH) return undefined;
  const Rt = new Float64Array(rank * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < rank; j++) Rt[j * n + i] = R[i * cap + j];
  return { Rt, rank, residual };
}

/**
 * The factor sweep's cost per multiply-add relative to the dense kernel's: measured 1.34 against
 * 0.77 G multiply-adds/s for a 1408-input layer with 512 calibration rows.
 */
const FACTOR_SWEEP_COST = 0.6;

/** Columns of R per block: 16 columns of a 2048-input layer are 256 KiB, which stays in L2. */
const COLUMNS_PER_BLOCK = 16;

/** Rows of A (with every difference) whose vectors one pass over Rᵀ serves. */
const ROWS_PER_PASS = 4;

/**
 * out[k] = ‖(A − B_k)·R‖²_F = Σ_rows Σ_j (δ·R_j)². Each dot product runs over contiguous memory,
 * four vectors by two columns of R at a time, so that eight sums stay in registers and every
 * load feeds more than one multiply-add; no product D·R is stored, only its squared norm.
 */
function sweepFactor(f: Factor, A: MatrixLike, Bs: readonly (MatrixLike | undefined)[], out: Float64Array, isCancelled: (() => boolean) | undefined): void {
  const { Rt, rank } = f;
  const n = A.cols, K = Bs.length;
  if (K === 0) return;
  const perPass = ROWS_PER_PASS * K;
  // Vectors padded to a multiple of four with zeros, so the kernel needs no tail case.
  const slots = Math.ceil(perPass / 4) * 4;
  const delta = new Float64Array(slots * n);
  const owner = new Int32Array(slots).fill(-1);
  for (let r0 = 0; r0 < A.rows; r0 += ROWS_PER_PASS) {
    if (isCancelled?.() === true) throw new CancelledError('layer error cancelled');
    const count = Math.min(ROWS_PER_PASS, A.rows - r0);
    let v = 0;
    for (let t = 0; t < count; t++) {
      const src = (r0 + t) * n;
      for (let k = 0; k < K; k++, v++) {
        const B = Bs[k];
        const dv = v * n;
        if (B === undefined) for (let i = 0; i < n; i++) delta[dv + i] = A.data[src + i];
        else for (let i = 0; i < n; i++) delta[dv + i] = A.data[src + i] - B.data[src + i];
        owner[v] = k;
      }
    }
    const used = Math.ceil(v / 4) * 4;
    for (; v < used; v++) {
      delta.fill(0, v * n, (v + 1) * n);
      owner[v] = -1;
    }
    // Columns of R in blocks that stay in cache while every group of four vectors passes over them.
    for (let j0 = 0; j0 < rank; j0 += COLUMNS_PER_BLOCK) {
      const j1 = Math.min(j0 + COLUMNS_PER_BLOCK, rank);
      for (let v0 = 0; v0 < used; v0 += 4) {
        const d0 = v0 * n, d1 = d0 + n, d2 = d1 + n, d3 = d2 + n;
        let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
        let j = j0;
        for (; j + 1 < j1; j += 2) {
          const ra = j * n, rb = ra + n;
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
          for (let i = 0; i < n; i++) {
            const x = Rt[ra + i], z = Rt[rb + i];
            const e0 = delta[d0 + i], e1 = delta[d1 + i], e2 = delta[d2 + i], e3 = delta[d3 + i];
            a0 += e0 * x; a1 += e1 * x; a2 += e2 * x; a3 += e3 * x;
            b0 += e0 * z; b1 += e1 * z; b2 += e2 * z; b3 += e3 * z;
          }
          q0 += a0 * a0 + b0 * b0; q1 += a1 * a1 + b1 * b1; q2 += a2 * a2 + b2 * b2; q3 += a3 * a3 + b3 * b3;
        }
        if (j < j1) {
          const ra = j * n;
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (let i = 0; i < n; i++) {
            const x = Rt[ra + i];
            a0 += delta[d0 + i] * x; a1 += delta[d1 + i] * x; a2 += delta[d2 + i] * x; a3 += delta[d3 + i] * x;
          }
          q0 += a0 * a0; q1 += a1 * a1; q2 += a2 * a2; q3 += a3 * a3;
        }
        if (owner[v0] >= 0) out[owner[v0]] += q0;
        if (owner[v0 + 1] >= 0) out[owner[v0 + 1]] += q1;
        if (owner[v0 + 2] >= 0) out[owner[v0 + 2]] += q2;
        if (owner[v0 + 3] >= 0) out[owner[v0 + 3]] += q3;
      }
    }
  }
}
