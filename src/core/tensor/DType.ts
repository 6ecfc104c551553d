/**
 * Element types, named after safetensors / numpy where one exists. GGML block types keep ggml's
 * own names so that users recognise them.
 */
export type DType =
  | 'F64' | 'F32' | 'F16' | 'BF16' | 'F8_E4M3' | 'F8_E5M2'
  | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL'
  | 'C64' | 'C128' | 'STRING'
  | `GGML_${string}`;
