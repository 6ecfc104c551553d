/**
 * Element types, named after safetensors / numpy where one exists. GGML block types keep ggml's
 * own names so that users recognise them.
 */
export type DType =
  | 'F64' | 'F32' | 'F16' | 'BF16' | 'F8_E4M3' | 'F8_E5M2'
  | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL'
  | 'C64' | 'C128' | 'STRING'
  | `GGML_${string}`;

/** Bytes per element of the plain (non-block) dtypes; GGML block types are in `ggmlBlocks.ts`. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  C64: 8, C128: 16,
};

/** Bytes per element of a plain dtype, or undefined for block, string and unknown types. */
export function dtypeBytes(dtype: DType): number | undefined {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype) ? DTYPE_BYTES[dtype] : undefined;
}
