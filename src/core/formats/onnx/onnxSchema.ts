/**
 * The parts of ONNX's `onnx.proto` that a reader needs, as a protobufjs JSON descriptor. Field
 * numbers follow the published schema. `AttributeProto.s`/`strings` are declared `string` rather
 * than `bytes`: the wire format is identical and every real attribute string is UTF-8 text.
 *
 * The reader never hands protobufjs a message that still contains tensor payloads: its wire scanner
 * strips `raw_data`, the typed data fields, subgraphs and attribute tensors first, so decoding
 * here only ever sees small headers.
 */
import { Root, type INamespace, type Type } from 'protobufjs/light';

const descriptor: INamespace = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            domain: { type: 'string', id: 7 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            refAttrName: { type: 'string', id: 21 },
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'string', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            tp: { type: 'TypeProto', id: 14 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'string', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
            typeProtos: { rule: 'repeated', type: 'TypeProto', id: 15 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            segment: { type: 'Segment', id: 3 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int32Data: { rule: 'repeated', type: 'int32', id: 5 },
            stringData: { rule: 'repeated', type: 'bytes', id: 6 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            docString: { type: 'string', id: 12 },
            rawData: { type: 'bytes', id: 9 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
            doubleData: { rule: 'repeated', type: 'double', id: 10 },
            uint64Data: { rule: 'repeated', type: 'uint64', id: 11 },
          },
          nested: {
            Segment: { fields: { begin: { type: 'int64', id: 1 }, end: { type: 'int64', id: 2 } } },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType'] } },
          fields: {
            tensorType: { type: 'Tensor', id: 1 },
            sequenceType: { type: 'Sequence', id: 4 },
            mapType: { type: 'Map', id: 5 },
            optionalType: { type: 'Optional', id: 9 },
            sparseTensorType: { type: 'SparseTensor', id: 8 },
            denotation: { type: 'string', id: 6 },
          },
          nested: {
            Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
            Sequence: { fields: { elemType: { type: 'TypeProto', id: 1 } } },
            Map: { fields: { keyType: { type: 'int32', id: 1 }, valueType: { type: 'TypeProto', id: 2 } } },
            Optional: { fields: { elemType: { type: 'TypeProto', id: 1 } } },
            SparseTensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
          },
        },
      },
    },
  },
};

/** The protobufjs root holding the ONNX message types, built once from the descriptor above. */
export const onnxRoot: Root = Root.fromJSON(descriptor);

const types = new Map<string, Type>();

/** Looks up `onnx.NAME` (e.g. `ModelProto`) in {@link onnxRoot}. */
export function onnxType(name: string): Type {
  let t = types.get(name);
  if (!t) {
    t = onnxRoot.lookupType(`onnx.${name}`);
    types.set(name, t);
  }
  return t;
}

/** 64-bit integers after `toObject({ longs: String })`. */
type Int64 = string;

/** Decoded `StringStringEntryProto`. */
export interface StringStringEntry { readonly key?: string; readonly value?: string }
/** Decoded `OperatorSetIdProto`. */
export interface OperatorSetId { readonly domain?: string; readonly version?: Int64 }
/** Decoded `TensorShapeProto.Dimension`. */
export interface ShapeDim { readonly dimValue?: Int64; readonly dimParam?: string }
/** Decoded `TypeProto` (only what a summary shows). */
export interface TypeInfo {
  readonly tensorType?: { readonly elemType?: number; readonly shape?: { readonly dim?: readonly ShapeDim[] } };
  readonly sparseTensorType?: { readonly elemType?: number; readonly shape?: { readonly dim?: readonly ShapeDim[] } };
  readonly sequenceType?: { readonly elemType?: TypeInfo };
  readonly mapType?: { readonly keyType?: number; readonly valueType?: TypeInfo };
  readonly optionalType?: { readonly elemType?: TypeInfo };
}
/** Decoded `ValueInfoProto`. */
export interface ValueInfo { readonly name?: string; readonly type?: TypeInfo }
/** Decoded header fields of a `ModelProto` (its graph is scanned separately). */
export interface ModelHeader {
  readonly irVersion?: Int64;
  readonly opsetImport?: readonly OperatorSetId[];
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly domain?: string;
  readonly modelVersion?: Int64;
  readonly docString?: string;
  readonly metadataProps?: readonly StringStringEntry[];
}
/** Decoded header fields of a `GraphProto`. */
export interface GraphHeader {
  readonly name?: string;
  readonly docString?: string;
  readonly input?: readonly ValueInfo[];
  readonly output?: readonly ValueInfo[];
}
/** Decoded header fields of a `NodeProto` (attributes are scanned separately). */
export interface NodeHeader {
  readonly input?: readonly string[];
  readonly output?: readonly string[];
  readonly name?: string;
  readonly opType?: string;
  readonly domain?: string;
}
/** Decoded small fields of an `AttributeProto`. */
export interface AttributeHeader {
  readonly name?: string;
  readonly refAttrName?: string;
  readonly type?: number;
  readonly f?: number;
  readonly i?: Int64;
  readonly s?: string;
  readonly tp?: TypeInfo;
  readonly floats?: readonly number[];
  readonly ints?: readonly Int64[];
  readonly strings?: readonly string[];
  readonly typeProtos?: readonly TypeInfo[];
}
/** Decoded header fields of a `TensorProto` (its data fields are located, not decoded). */
export interface TensorHeader {
  readonly dims?: readonly Int64[];
  readonly dataType?: number;
  readonly segment?: { readonly begin?: Int64; readonly end?: Int64 };
  readonly name?: string;
  readonly externalData?: readonly StringStringEntry[];
  readonly dataLocation?: number;
}

/** Decodes `bytes` as `onnx.NAME` into plain objects, 64-bit integers as decimal strings. */
export function decodeAs<T>(name: string, bytes: Uint8Array): T {
  const type = onnxType(name);
  return type.toObject(type.decode(bytes), { longs: String, enums: Number, defaults: false, arrays: false }) as T;
}
