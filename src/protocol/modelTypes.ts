// What a model is made of, as every front end shows it: its signature, nodes and tensors.

/** One graph node as listed: the format readers' nodes, the text view's and the editor's are this record. */
export interface NodeSummary {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** The header every listing of a model starts with; `V` is how inputs and outputs are described. */
export interface ModelListing<V = ValueSummary> {
  readonly format: string;
  readonly fileSize: number;
  readonly inputs: readonly V[];
  readonly outputs: readonly V[];
  /** Custom metadata of the model (producer, version and `metadata_props`), when available. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Element type and shape of one model input or output, as ONNX Runtime reports it. */
export interface ValueSummary {
  readonly name: string;
  /** `tensor` for tensors; ONNX Runtime also reports sequences and maps as non-tensors. */
  readonly kind: 'tensor' | 'other';
  /** Element type such as `float32`, `int64`; empty for non-tensors. */
  readonly type: string;
  /** Dimensions: numbers for fixed sizes, strings for symbolic ones. */
  readonly shape: readonly (number | string)[];
}

/** One tensor of a checkpoint, as listed (no values). */
export interface TensorSummary {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly elements: number;
  readonly byteLength: number;
}

/** Parameters and bytes per element type. */
export interface DTypeShare {
  readonly dtype: string;
  readonly tensors: number;
  readonly elements: number;
  readonly byteLength: number;
}

/**
 * What `inspect` returns: the checkpoint's listing from our own format readers, and for ONNX
 * models the signature as ONNX Runtime loads it.
 */
export interface ModelSummary extends ModelListing {
  readonly path: string;
  /** Every tensor (initializers and Constant weights for ONNX). */
  readonly tensors: readonly TensorSummary[];
  readonly parameterCount: number;
  readonly dtypes: readonly DTypeShare[];
  /** Graph facts for formats that carry one. */
  readonly graph?: { readonly nodes: number; readonly opsets: Readonly<Record<string, number>>; readonly opTypes: Readonly<Record<string, number>> };
  /** ONNX Runtime's version in the worker, when ONNX Runtime loaded the model. */
  readonly runtime?: string;
  /** Why ONNX Runtime refused a model that our reader could list. */
  readonly runtimeError?: string;
  /** Milliseconds spent listing the file and, for ONNX, creating the session. */
  readonly loadMs: number;
  /** For a checkpoint that holds a language model the engine can build into a graph: its architecture. */
  readonly decoder?: DecoderArchitecture;
}

/** A buildable language model's architecture, as the listing shows it. */
export interface DecoderArchitecture {
  /** `llama`, `mistral` or `qwen2`. */
  readonly family: string;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly vocab: number;
}
