import type { MetadataValue } from '../Checkpoint';
import { onnxTypeName } from './onnxDataTypes';
import type { AttributeHeader, TypeInfo } from './onnxSchema';

/** ONNX `AttributeProto.AttributeType` codes. */
const AttrType = {
  Undefined: 0, Float: 1, Int: 2, String: 3, Tensor: 4, Graph: 5, Floats: 6, Ints: 7, Strings: 8,
  Tensors: 9, Graphs: 10, SparseTensor: 11, SparseTensors: 12, TypeProto: 13, TypeProtos: 14,
} as const;

/** A 64-bit integer from protobufjs (decimal string) as a number when exact, else kept as its string. */
export function int64Value(v: string | undefined): number | string {
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

/** A short text for a TypeProto, like `tensor(float)` or `seq(tensor(int64))`. */
export function typeText(t: TypeInfo | undefined): string {
  if (!t) return 'unknown';
  if (t.tensorType) return `tensor(${onnxTypeName(t.tensorType.elemType).toLowerCase()})`;
  if (t.sparseTensorType) return `sparse_tensor(${onnxTypeName(t.sparseTensorType.elemType).toLowerCase()})`;
  if (t.sequenceType) return `seq(${typeText(t.sequenceType.elemType)})`;
  if (t.mapType) return `map(${onnxTypeName(t.mapType.keyType).toLowerCase()}, ${typeText(t.mapType.valueType)})`;
  if (t.optionalType) return `optional(${typeText(t.optionalType.elemType)})`;
  return 'unknown';
}

/** Summaries of the large parts of an attribute, which the scanner located instead of decoding. */
export interface AttributeParts {
  readonly tensors: readonly MetadataValue[];
  readonly graphs: readonly MetadataValue[];
  readonly sparse: readonly MetadataValue[];
}

/**
 * An attribute's value as JSON-able data. Tensors and graphs arrive as summaries; an attribute that
 * only refers to a function's attribute becomes `{ ref: name }`.
 */
export function attributeValue(a: AttributeHeader, parts: AttributeParts): MetadataValue {
  if (a.refAttrName) return { ref: a.refAttrName };
  switch (a.type ?? AttrType.Undefined) {
    case AttrType.Float: return a.f ?? 0;
    case AttrType.Int: return int64Value(a.i);
    case AttrType.String: return a.s ?? '';
    case AttrType.Tensor: return parts.tensors[0] ?? null;
    case AttrType.Graph: return parts.graphs[0] ?? null;
    case AttrType.SparseTensor: return parts.sparse[0] ?? null;
    case AttrType.TypeProto: return typeText(a.tp);
    case AttrType.Floats: return [...(a.floats ?? [])];
    case AttrType.Ints: return (a.ints ?? []).map(int64Value);
    case AttrType.Strings: return [...(a.strings ?? [])];
    case AttrType.Tensors: return parts.tensors;
    case AttrType.Graphs: return parts.graphs;
    case AttrType.SparseTensors: return parts.sparse;
    case AttrType.TypeProtos: return (a.typeProtos ?? []).map(typeText);
    default: return inferValue(a, parts);
  }
}

/** Very old models omit `type`: take whichever value field is present. */
function inferValue(a: AttributeHeader, parts: AttributeParts): MetadataValue {
  if (a.f !== undefined) return a.f;
  if (a.i !== undefined) return int64Value(a.i);
  if (a.s !== undefined) return a.s;
  if (parts.tensors.length) return parts.tensors.length === 1 ? parts.tensors[0] : parts.tensors;
  if (parts.graphs.length) return parts.graphs.length === 1 ? parts.graphs[0] : parts.graphs;
  if (a.floats?.length) return [...a.floats];
  if (a.ints?.length) return a.ints.map(int64Value);
  if (a.strings?.length) return [...a.strings];
  return null;
}
