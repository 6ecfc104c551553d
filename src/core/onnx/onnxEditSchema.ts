/**
 * The ONNX schema for editing: the reader's descriptor ({@link onnxRoot}) plus every field a
 * faithful round trip must keep. Fields we never edit (functions, training info, sparse tensors,
 * annotations, metadata on nodes and values) are declared `bytes`: an embedded message has the same
 * wire form as a byte string, so they come back out exactly as they went in. Attribute strings
 * are `bytes` here too, because ONNX does not promise they are UTF-8.
 */
import { Root, type INamespace, type IType, type Type } from 'protobufjs/light';
import { onnxRoot } from '../formats/onnx/onnxSchema';

/** Extra fields by message (path under `onnx`), each `[name, id, type, repeated]`. */
const EXTRA: Readonly<Record<string, readonly (readonly [string, number, string, boolean])[]>> = {
  ModelProto: [['trainingInfo', 20, 'bytes', true], ['functions', 25, 'bytes', true], ['configuration', 26, 'bytes', true]],
  GraphProto: [['sparseInitializer', 15, 'bytes', true], ['quantizationAnnotation', 14, 'bytes', true], ['metadataProps', 16, 'bytes', true]],
  NodeProto: [['overload', 8, 'string', false], ['metadataProps', 9, 'bytes', true], ['deviceConfigurations', 10, 'bytes', true]],
  AttributeProto: [['sparseTensor', 22, 'bytes', false], ['sparseTensors', 23, 'bytes', true]],
  TensorProto: [['metadataProps', 16, 'bytes', true]],
  ValueInfoProto: [['metadataProps', 4, 'bytes', true]],
  TypeProto: [['opaqueType', 7, 'bytes', false]],
};

function buildRoot(): Root {
  // A deep copy: the reader's root stays exactly as the reader expects it.
  const json = JSON.parse(JSON.stringify(onnxRoot.toJSON())) as INamespace;
  const onnx = json.nested?.onnx;
  const types = onnx && 'nested' in onnx ? (onnx.nested as Record<string, IType> | undefined) : undefined;
  if (!types) throw new Error('the ONNX schema has no onnx namespace');
  for (const [name, extra] of Object.entries(EXTRA)) {
    const t = types[name];
    for (const [field, id, type, repeated] of extra) {
      if (Object.values(t.fields).some((f) => f.id === id)) continue;
      t.fields[field] = repeated ? { type, id, rule: 'repeated' } : { type, id };
    }
  }
  const attr = types.AttributeProto;
  attr.fields.s = { type: 'bytes', id: 4 };
  attr.fields.strings = { type: 'bytes', id: 9, rule: 'repeated' };
  return Root.fromJSON(json);
}

let root: Root | undefined;
const cache = new Map<string, Type>();

/** Looks up `onnx.NAME` in the editing schema. */
export function editType(name: string): Type {
  let t = cache.get(name);
  if (!t) {
    root ??= buildRoot();
    t = root.lookupType(`onnx.${name}`);
    cache.set(name, t);
  }
  return t;
}
