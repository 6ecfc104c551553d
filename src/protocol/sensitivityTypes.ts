// A layer's Hessian sensitivity as data: computed by the engine, shown by the editor and the planner.

/** The error a candidate precision costs a layer. */
export interface CandidateError {
  /** Candidate id, such as `int4-g128`. */
  readonly id: string;
  /** Human-readable name. */
  readonly label: string;
  /** tr(ΔW·H·ΔWᵀ) = ‖X·ΔWᵀ‖²_F over the calibration rows. */
  readonly error: number;
  /** error / tr(W·H·Wᵀ); null when the layer's output energy tr(W·H·Wᵀ) is 0. */
  readonly relativeError: number | null;
  /**
   * Storage per weight including float32 scales (and zero points when asymmetric); null for
   * pruning, whose size depends on how the sparse format is stored.
   */
  readonly bitsPerWeight: number | null;
}

/** Hessian sensitivity of one layer; plain JSON-able data. */
export interface LayerSensitivity {
  /** Input width d (H is d × d). */
  readonly d: number;
  /** tr(H). */
  readonly traceH: number;
  /** tr(H)/d: the mean input energy per channel (HAWQ's trace criterion, normalised). */
  readonly traceHPerDim: number;
  /** Largest eigenvalue of H by power iteration. */
  readonly topEigenvalue: number;
  /** Whether the power iteration met its tolerance. */
  readonly eigenConverged: boolean;
  /** Power iterations used. */
  readonly eigenIterations: number;
  /** tr(W·H·Wᵀ) = ‖X·Wᵀ‖²_F: the layer's output energy, the denominator of the relative errors. */
  readonly outputEnergy: number;
  /** One entry per candidate, in the order given. */
  readonly candidates: readonly CandidateError[];
}
