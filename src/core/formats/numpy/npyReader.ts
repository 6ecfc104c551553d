import type { FileAccessor } from '../../io/FileAccessor';
import type { Checkpoint, TensorInfo, TensorSource } from '../Checkpoint';
import type { FormatReader, OpenLimits } from '../FormatReader';
import { hasNpyMagic, readNpyHeader, type NpyHeader } from './npyHeader';

/** The tensor an .npy header describes, with its bytes at `source`. */
export function npyTensor(name: string, h: NpyHeader, source: TensorSource): TensorInfo {
  const byteLength = h.elements * h.itemSize;
  return {
    name,
    dtype: h.dtype,
    shape: h.shape,
    elements: h.elements,
    byteLength,
    littleEndian: h.littleEndian,
    ...(h.fortranOrder ? { fortranOrder: true } : {}),
    source: h.unreadable ? { kind: 'none', reason: h.unreadable } : source,
  };
}

async function openNpy(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint> {
  const h = await readNpyHeader(file, 0, file.size, limits);
  const name = file.path.replace(/^.*[\\/]/, '').replace(/\.npy$/i, '');
  const tensor = npyTensor(name, h, { kind: 'file', path: file.path, offset: h.dataOffset, length: h.elements * h.itemSize });
  return { format: 'numpy', path: file.path, fileSize: file.size, metadata: { descr: h.descr, fortran_order: h.fortranOrder }, tensors: [tensor] };
}

/** A single .npy array file, recognised by its `\x93NUMPY` magic. */
export const npyReader: FormatReader = {
  name: 'numpy',
  sniff: (head) => hasNpyMagic(head),
  open: openNpy,
};
