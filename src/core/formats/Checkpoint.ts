/**
 * What every format reader returns: a lazily readable model. Nothing here holds tensor bytes;
 * a tensor is a byte range in a file (or a small inline buffer for values embedded in a header).
 */
import type { NodeSummary } from '../../protocol/modelTypes';
import type { TensorInfo } from '../tensor/TensorInfo';

/** Names of the readers in the registry. */
export type FormatName = 'onnx' | 'safetensors' | 'gguf' | 'pytorch' | 'numpy';

export type { TensorInfo, TensorSource } from '../tensor/TensorInfo';

/** A value stored in a node attribute or in metadata, reduced to what JSON can carry. */
export type MetadataValue = string | number | boolean | bigint | null | readonly MetadataValue[] | { readonly [key: string]: MetadataValue };

/** A graph value: an input or output with its element type and (possibly symbolic) shape. */
export interface GraphValue {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[] | undefined;
}

/** One node of an ONNX graph. */
export interface GraphNode extends NodeSummary {
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
