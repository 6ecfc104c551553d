/** A little-endian int64 `.npy` file (format 1.0), for token-id calibration files. */
export function npyInt64(values: readonly number[], shape: readonly number[]): Uint8Array {
  let header = `{'descr': '<i8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer), 10 + header.length);
  return out;
}
