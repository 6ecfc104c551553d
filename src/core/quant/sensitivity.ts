import { CancelledError } from '../linalg/CancelledError';
import type { MatrixLike } from '../linalg/Matrix';
import { HessianForm } from '../linalg/HessianForm';
import { trace } from '../linalg/quadraticTrace';
import { dequantize } from './dequantize';
import { layoutFor, scaleCount, type QuantScheme } from './QuantScheme';
import { quantizeRtn } from './rtn';
import type { CandidateError, LayerSensitivity } from '../../protocol/sensitivityTypes';

export type { CandidateError, LayerSensitivity };

/** One precision a layer could be given: an RTN scheme or N:M magnitude pruning along `in`. */
export type SensitivityCandidate =
  | { readonly id: string; readonly label: string; readonly kind: 'quant'; readonly scheme: QuantScheme }
  | { readonly id: string; readonly label: string; readonly kind: 'prune'; readonly n: number; readonly m: number };

/** The candidates of the sensitivity table: INT8 and INT4 per channel, INT4 g128, 2:4 pruning. */
export const DEFAULT_SENSITIVITY_CANDIDATES: readonly SensitivityCandidate[] = [
  { id: 'int8-channel', label: 'INT8 per-channel', kind: 'quant', scheme: { bits: 8, symmetric: true, granularity: 'channel' } },
  { id: 'int4-g128', label: 'INT4 g128', kind: 'quant', scheme: { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 } },
  { id: 'int4-channel', label: 'INT4 per-channel', kind: 'quant', scheme: { bits: 4, symmetric: true, granularity: 'channel' } },
  { id: 'prune-2:4', label: '2:4 magnitude pruning', kind: 'prune', n: 2, m: 4 },
];

/** Largest size of the candidates' approximations held together for one shared sweep. */
const SHARED_SWEEP_BYTES = 2 ** 30;

/** Options of {@link layerSensitivity}. */
export interface SensitivityOptions {
  /** Candidates to evaluate. Default {@link DEFAULT_SENSITIVITY_CANDIDATES}. */
  readonly candidates?: readonly SensitivityCandidate[];
  /** Relative tolerance of the power iteration. Default 1e-8. */
  readonly eigenTolerance?: number;
  /** Iteration cap of the power iteration. Default 500. */
  readonly eigenMaxIterations?: number;
  /** Polled between candidates and blocks of rows; true aborts with CancelledError. */
  readonly isCancelled?: () => boolean;
  /**
   * Calibration rows N that H sums over. With N below the layer's inputs d, H has rank ≤ N and
   * the errors are computed through a rank-N factor of H in O(out·d·N) instead of O(out·d²).
   */
  readonly rows?: number;
}

/**
 * The layer-wise sensitivity table of issue 4 §3 for W [out, in] and H = XᵀX [in, in]: tr(H)/d,
 * the top eigenvalue of H, and for each candidate precision p the relative output error
 * tr(ΔW_p·H·ΔW_pᵀ) / tr(W·H·Wᵀ) with ΔW_p = W − Q_p(W), which is the GPTQ/OBS objective and
 * HAWQ's trace criterion in layer-wise form. Quantized candidates use RTN with ONNX rounding.
 */
export function layerSensitivity(W: MatrixLike, H: MatrixLike, options: SensitivityOptions = {}): LayerSensitivity {
  const d = W.cols;
  if (H.rows !== d || H.cols !== d) throw new RangeError(`H must be ${d}×${d} for a weight with ${d} inputs, got ${H.rows}×${H.cols}`);
  const traceH = trace(H);
  const form = HessianForm.of(H, { rows: options.rows });
  const eigen = form.topEigenvalue({ tolerance: options.eigenTolerance ?? 1e-8, maxIterations: options.eigenMaxIterations ?? 500 });
  const list = options.candidates ?? DEFAULT_SENSITIVITY_CANDIDATES;
  const approximate = (c: SensitivityCandidate): MatrixLike => ({ rows: W.rows, cols: W.cols, data: c.kind === 'quant' ? dequantize(quantizeRtn(W, c.scheme)) : pruneNMByMagnitude(W, c.n, c.m) });
  const bits = list.map((c) => {
    if (c.kind !== 'quant') return null;
    const layout = layoutFor(c.scheme, W.rows, W.cols);
    const weights = W.rows * W.cols;
    return weights === 0 ? c.scheme.bits : c.scheme.bits + (scaleCount(layout) * (32 + (c.scheme.symmetric ? 0 : c.scheme.bits))) / weights;
  });
  const check = (): void => {
    if (options.isCancelled?.() === true) throw new CancelledError('sensitivity cancelled');
  };
  let sums: Float64Array;
  if (8 * W.rows * W.cols * list.length <= SHARED_SWEEP_BYTES) {
    // One sweep for the output energy and every candidate's error, all approximations held at once.
    const approximations = list.map((c) => (check(), approximate(c)));
    sums = form.traces(W, [undefined, ...approximations], { isCancelled: options.isCancelled });
  } else {
    // A layer too large to hold every approximation: one at a time, each its own sweep.
    sums = new Float64Array(list.length + 1);
    sums[0] = form.traces(W, [undefined], { isCancelled: options.isCancelled })[0];
    for (const [k, c] of list.entries()) {
      check();
      sums[k + 1] = form.traces(W, [approximate(c)], { isCancelled: options.isCancelled })[0];
    }
  }
  const outputEnergy = sums[0];
  const candidates = list.map((c, k): CandidateError => {
    const error = sums[k + 1];
    return { id: c.id, label: c.label, error, relativeError: outputEnergy > 0 ? error / outputEnergy : null, bitsPerWeight: bits[k] };
  });
  return {
    d,
    traceH,
    traceHPerDim: d > 0 ? traceH / d : 0,
    topEigenvalue: eigen.value,
    eigenConverged: eigen.converged,
    eigenIterations: eigen.iterations,
    outputEnergy,
    candidates,
  };
}

/**
 * W with only the n largest-magnitude weights of each run of m consecutive inputs kept (ties keep
 * the lower index). A trailing run shorter than m stays dense, since no N:M kernel covers it.
 */
function pruneNMByMagnitude(W: MatrixLike, n: number, m: number): Float64Array {
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 0 || m < 1 || n > m) throw new RangeError(`invalid N:M pattern ${n}:${m}`);
  const { rows, cols } = W;
  const out = Float64Array.from(W.data);
  const idx = Array.from({ length: m }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 + m <= cols; c0 += m) {
      const base = r * cols + c0;
      idx.sort((a, b) => Math.abs(W.data[base + b]) - Math.abs(W.data[base + a]) || a - b);
      for (let k = n; k < m; k++) out[base + idx[k]] = 0;
    }
  }
  return out;
}
