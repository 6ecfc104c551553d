/**
 * ONNX `TensorProto.DataType` codes: their names, our {@link DType} and their stored layout.
 */
import type { DType } from '../../tensor/DType';

/** What we know about one ONNX element type. */
export interface OnnxDataType {
  /** The name in onnx.proto, shown to users (`FLOAT16`). */
  readonly name: string;
  /** Our dtype, or undefined when we cannot represent the values (strings, 4-bit, FNUZ floats). */
  readonly dtype: DType | undefined;
  /** Bytes per element in raw_data; 0 for strings, 0.5 for 4-bit types. */
  readonly bytes: number;
  /** The typed repeated field that holds values when raw_data is absent. */
  readonly field: 'float_data' | 'int32_data' | 'int64_data' | 'double_data' | 'uint64_data' | 'string_data' | undefined;
}

const TYPES: Readonly<Record<number, OnnxDataType>> = {
  1: { name: 'FLOAT', dtype: 'F32', bytes: 4, field: 'float_data' },
  2: { name: 'UINT8', dtype: 'U8', bytes: 1, field: 'int32_data' },
  3: { name: 'INT8', dtype: 'I8', bytes: 1, field: 'int32_data' },
  4: { name: 'UINT16', dtype: 'U16', bytes: 2, field: 'int32_data' },
  5: { name: 'INT16', dtype: 'I16', bytes: 2, field: 'int32_data' },
  6: { name: 'INT32', dtype: 'I32', bytes: 4, field: 'int32_data' },
  7: { name: 'INT64', dtype: 'I64', bytes: 8, field: 'int64_data' },
  8: { name: 'STRING', dtype: 'STRING', bytes: 0, field: 'string_data' },
  9: { name: 'BOOL', dtype: 'BOOL', bytes: 1, field: 'int32_data' },
  10: { name: 'FLOAT16', dtype: 'F16', bytes: 2, field: 'int32_data' },
  11: { name: 'DOUBLE', dtype: 'F64', bytes: 8, field: 'double_data' },
  12: { name: 'UINT32', dtype: 'U32', bytes: 4, field: 'uint64_data' },
  13: { name: 'UINT64', dtype: 'U64', bytes: 8, field: 'uint64_data' },
  14: { name: 'COMPLEX64', dtype: 'C64', bytes: 8, field: 'float_data' },
  15: { name: 'COMPLEX128', dtype: 'C128', bytes: 16, field: 'double_data' },
  16: { name: 'BFLOAT16', dtype: 'BF16', bytes: 2, field: 'int32_data' },
  17: { name: 'FLOAT8E4M3FN', dtype: 'F8_E4M3', bytes: 1, field: 'int32_data' },
  // The FNUZ variants use another exponent bias and NaN encoding than F8_E4M3/F8_E5M2.
  18: { name: 'FLOAT8E4M3FNUZ', dtype: undefined, bytes: 1, field: 'int32_data' },
  19: { name: 'FLOAT8E5M2', dtype: 'F8_E5M2', bytes: 1, field: 'int32_data' },
  20: { name: 'FLOAT8E5M2FNUZ', dtype: undefined, bytes: 1, field: 'int32_data' },
  21: { name: 'UINT4', dtype: undefined, bytes: 0.5, field: 'int32_data' },
  22: { name: 'INT4', dtype: undefined, bytes: 0.5, field: 'int32_data' },
  23: { name: 'FLOAT4E2M1', dtype: undefined, bytes: 0.5, field: 'int32_data' },
};

/** The element type for an ONNX data type code, or undefined for codes this reader does not know. */
export function onnxDataType(code: number): OnnxDataType | undefined {
  return TYPES[code];
}

/** The onnx.proto name of an element type code, for graph inputs and outputs (`FLOAT`, `INT64`). */
export function onnxTypeName(code: number | undefined): string {
  if (code === undefined || code === 0) return 'UNDEFINED';
  return TYPES[code]?.name ?? `DATATYPE_${code}`;
}
