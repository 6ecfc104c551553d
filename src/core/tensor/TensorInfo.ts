/** A tensor as the readers list it: its layout and where its bytes are, never the bytes. */
import type { DType } from './DType';

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
