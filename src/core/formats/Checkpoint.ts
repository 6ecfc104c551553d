/**
 * What every format reader returns: a lazily readable model. Nothing here holds tensor bytes;
 * a tensor is a byte range in a file (or a small inline buffer for values embedded in a header).
 */
import type { DType } from '../tensor/DType';

/** Names of the readers in the registry. */
export type FormatName = 'onnx' | 'safetensors' | 'gguf' | 'pytorch' | 'numpy';

/** Where a tensor's bytes are. Ranges are checked against the file size when the checkpoint is opened. */
export type TensorSource =
  | { readonly kind: 'file'; readonly path: string; readonly offset: number; readonly length: number }
  | { readonly kind: 'inline'; readonly bytes: Uint8Array }
  /** Stored compressed inside a zip member (npz, torch zip with deflate): read by inflating the member. */
  | { readonly kind: 'zip'; readonly path: string; readonly member: string; readonly offset: number; readonly length: number }
  | { readonly kind: 'none'; readonly reason: string };

/** One tensor of a checkpoint, with its layout but not its values. */
export interface TensorInfo {
  /** Full name; nested containers are joined with dots (`model.encoder.layers.0.weight`). */
  readonly name: string;
  readonly dtype: DType;
  /** Row-major shape as numpy shows it. */
  readonly shape: readonly number[];
  /** Number of elements (product of the shape). */
  readonly elements: number;
  /** Size in bytes as stored. */
  readonly byteLength: number;
  /** Byte order of the stored values. */
  readonly littleEndian: boolean;
  /** Fortran (column-major) order, for npy files that declare it. */
  readonly fortranOrder?: boolean;
  /** Element strides, when the storage is a strided view (torch). */
  readonly strides?: readonly number[];
  readonly source: TensorSource;
}

/** A value stored in a node attribute or in metadata, reduced to what JSON can carry. */
export type MetadataValue = string | number | boolean | bigint | null | readonly MetadataValue[] | { readonly [key: string]: MetadataValue };

/** A graph value: an input or output with its element type and (possibly symbolic) shape. */
export interface GraphValue {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[] | undefined;
}

/** One node of an ONNX graph. */
export interface GraphNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, MetadataValue>>;
}

/** The computation graph, for formats that carry one. */
export interface Graph {
  readonly name: string;
  readonly nodes: readonly GraphNode[];
  readonly inputs: readonly GraphValue[];
  readonly outputs: readonly GraphValue[];
  /** Opset versions by domain (`''` is the default ONNX domain). */
  readonly opsets: Readonly<Record<string, number>>;
}

/** A model file (or a set of shards) opened for listing and lazy reads. */
export interface Checkpoint {
  readonly format: FormatName;
  /** The path the user opened (the index file for sharded checkpoints). */
  readonly path: string;
  /** Total bytes over every file that makes up the checkpoint. */
  readonly fileSize: number;
  readonly metadata: Readonly<Record<string, MetadataValue>>;
  readonly tensors: readonly TensorInfo[];
  readonly graph?: Graph;
}
