import type { TensorInfo, TensorSource } from '../Checkpoint';
import { contiguousStrides, sameStrides } from '../../tensor/contiguousStrides';
import type { TorchStorage, TorchTensor } from './torchGlobals';

/** Where a storage's bytes begin: a byte range builder for a slice of it. */
export type StorageLocator = (storage: TorchStorage, byteOffset: number, byteLength: number) => TensorSource;

/**
 * The listing of one torch tensor. A contiguous tensor's source is exactly its bytes; a strided view
 * keeps `strides` (in elements) and its source starts at the view's first element and spans every
 * element the strides can reach, so a reader gathers values from within that range.
 */
export function torchTensorInfo(name: string, t: TorchTensor, locate: StorageLocator, littleEndian: boolean): TensorInfo {
  let elements = 1;
  for (const d of t.shape) elements *= d;
  const isContiguous = sameStrides(contiguousStrides(t.shape), t.strides, t.shape);
  let span = elements === 0 ? 0 : 1;
  if (!isContiguous && span) for (let i = 0; i < t.shape.length; i++) span += (t.shape[i] - 1) * t.strides[i];
  else span = elements;
  const start = t.storage.elementOffset * t.storage.itemSize + t.offset * t.itemSize;
  const source: TensorSource = elements === 0 ? { kind: 'inline', bytes: new Uint8Array(0) } : locate(t.storage, start, span * t.itemSize);
  return {
    name,
    dtype: t.dtype,
    shape: [...t.shape],
    elements,
    byteLength: elements * t.itemSize,
    littleEndian,
    ...(isContiguous ? {} : { strides: [...t.strides] }),
    source,
  };
}
