/**
 * Plain-object shapes of the ONNX messages an edit works on, as protobufjs's `toObject` yields
 * them with 64-bit integers as decimal strings (exact: Slice ends of 2⁶³−1 survive) and byte
 * fields as `Uint8Array` views. Fields kept only for the round trip are opaque bytes.
 */

/** A 64-bit integer as a decimal string. */
export type Int64 = string;

/** `StringStringEntryProto`. */
export interface StringStringEntryMessage { key?: string; value?: string }
/** `OperatorSetIdProto`. */
export interface OperatorSetIdMessage { domain?: string; version?: Int64 }

/** `TensorShapeProto.Dimension`. */
export interface DimensionMessage { dimValue?: Int64; dimParam?: string; denotation?: string }
/** `TensorShapeProto`. */
export interface ShapeMessage { dim?: DimensionMessage[] }
/** `TypeProto` (tensor types in full, the others as nested types). */
export interface TypeMessage {
  tensorType?: { elemType?: number; shape?: ShapeMessage };
  sparseTensorType?: { elemType?: number; shape?: ShapeMessage };
  sequenceType?: { elemType?: TypeMessage };
  mapType?: { keyType?: number; valueType?: TypeMessage };
  optionalType?: { elemType?: TypeMessage };
  opaqueType?: Uint8Array;
  denotation?: string;
}
/** `ValueInfoProto`. */
export interface ValueInfoMessage { name?: string; type?: TypeMessage; docString?: string; metadataProps?: Uint8Array[] }

/** `TensorProto`. */
export interface TensorMessage {
  dims?: Int64[];
  dataType?: number;
  segment?: { begin?: Int64; end?: Int64 };
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: Int64[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntryMessage[];
  dataLocation?: number;
  doubleData?: number[];
  uint64Data?: Int64[];
  metadataProps?: Uint8Array[];
}

/** `AttributeProto`. */
export interface AttributeMessage {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorMessage;
  g?: GraphMessage;
  sparseTensor?: Uint8Array;
  tp?: TypeMessage;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorMessage[];
  graphs?: GraphMessage[];
  sparseTensors?: Uint8Array[];
  typeProtos?: TypeMessage[];
}

/** `NodeProto`. */
export interface NodeMessage {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeMessage[];
  docString?: string;
  metadataProps?: Uint8Array[];
  deviceConfigurations?: Uint8Array[];
}

/** `GraphProto`. */
export interface GraphMessage {
  node?: NodeMessage[];
  name?: string;
  initializer?: TensorMessage[];
  sparseInitializer?: Uint8Array[];
  docString?: string;
  input?: ValueInfoMessage[];
  output?: ValueInfoMessage[];
  valueInfo?: ValueInfoMessage[];
  quantizationAnnotation?: Uint8Array[];
  metadataProps?: Uint8Array[];
}

/** `ModelProto`. */
export interface ModelMessage {
  irVersion?: Int64;
  opsetImport?: OperatorSetIdMessage[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphMessage;
  metadataProps?: StringStringEntryMessage[];
  trainingInfo?: Uint8Array[];
  functions?: Uint8Array[];
  configuration?: Uint8Array[];
}

/** `AttributeProto.AttributeType` codes. */
export const AttributeType = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
  TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

/** `TensorProto.DataType` codes. */
export const ElementType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
  FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19, FLOAT8E5M2FNUZ: 20, UINT4: 21, INT4: 22, FLOAT4E2M1: 23,
} as const;
