// The wire form of what a rewrite did to a layer: shared by the engine's rewriters and the reports.

/** How a weight was rewritten. */
export type RewriteKind = 'qdq' | 'nbits' | 'dynamic' | 'static' | 'decomposed';

/** What one rewrite did to one layer, for the report; plain JSON-able data. */
export interface RewriteRecord {
  /** The consuming node's name (or its first output when unnamed). */
  readonly layer: string;
  /** The original float weight tensor. */
  readonly weight: string;
  /** The original operator (`MatMul` or `Gemm`). */
  readonly opType: 'MatMul' | 'Gemm';
  readonly kind: RewriteKind;
  /** Code width of the stored values (3-bit codes live in an 8-bit container, but `bits` stays 3). */
  readonly bits: number;
  /** Weights per scale along the input axis; null for per-channel or per-tensor. */
  readonly group: number | null;
  readonly granularity: 'tensor' | 'channel' | 'group';
  readonly symmetric: boolean;
  /** The ONNX element type the codes are stored as (`int8`, `uint8`, `int4`, `uint4`, `uint4x2 blocks`). */
  readonly container: string;
  /** Number of weights. */
  readonly weights: number;
  /** Bytes of the float weight this layer read. */
  readonly beforeBytes: number;
  /** Bytes of the new tensors (codes, scales, zero points). */
  readonly afterBytes: number;
  /** Whether the float weight was removed (false when something else still reads it). */
  readonly removedFloat: boolean;
  /** Names of the nodes that now compute the layer. */
  readonly nodes: readonly string[];
  /** Static W8A8: the activation's quantization (scale and uint8 zero point) from calibration. */
  readonly activation?: { readonly scale: number; readonly zeroPoint: number };
  /** LLM.int8() decomposition: the input channels kept in float. */
  readonly outlierChannels?: readonly number[];
}

/** A layer a rewrite left in float, and why. */
export interface SkippedRewrite {
  readonly layer: string;
  readonly reason: string;
}
