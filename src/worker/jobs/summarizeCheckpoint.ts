import type { Checkpoint, MetadataValue } from '../../core/formats/Checkpoint';
import type { DTypeShare, TensorSummary, ValueSummary } from '../../protocol/workerProtocol';

/** Longest metadata value sent to the UI; GGUF vocabularies alone can be megabytes. */
const MAX_METADATA_CHARS = 400;
const MAX_ARRAY_ITEMS = 16;

/** ONNX element type names as ONNX Runtime spells them, so both sources read alike. */
const ONNX_TYPE_NAMES: Readonly<Record<string, string>> = {
  FLOAT: 'float32', DOUBLE: 'float64', FLOAT16: 'float16', BFLOAT16: 'bfloat16',
  INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64',
  BOOL: 'bool', STRING: 'string', COMPLEX64: 'complex64', COMPLEX128: 'complex128',
  FLOAT8E4M3FN: 'float8e4m3fn', FLOAT8E5M2: 'float8e5m2', INT4: 'int4', UINT4: 'uint4',
};

/** Renders a metadata value as short text: long arrays are cut, with their length kept. */
export function metadataText(v: MetadataValue): string {
  const short = (x: MetadataValue): unknown => {
    if (typeof x === 'bigint') return x.toString();
    if (Array.isArray(x)) {
      const items = (x as readonly MetadataValue[]).slice(0, MAX_ARRAY_ITEMS).map(short);
      return x.length > MAX_ARRAY_ITEMS ? [...items, `… ${x.length} items`] : items;
    }
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, short(y)]));
    return x;
  };
  const text = typeof v === 'string' ? v : JSON.stringify(short(v));
  return text.length > MAX_METADATA_CHARS ? `${text.slice(0, MAX_METADATA_CHARS)}… (${text.length} characters)` : text;
}

/** The listing part of a model summary: tensors, dtype shares, graph facts, metadata. */
export function summarizeCheckpoint(c: Checkpoint): {
  tensors: TensorSummary[];
  parameterCount: number;
  dtypes: DTypeShare[];
  metadata: Record<string, string>;
  graph?: { nodes: number; opsets: Record<string, number>; opTypes: Record<string, number> };
  inputs: ValueSummary[];
  outputs: ValueSummary[];
} {
  const tensors = c.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], elements: t.elements, byteLength: t.byteLength }));
  const shares = new Map<string, { dtype: string; tensors: number; elements: number; byteLength: number }>();
  let parameterCount = 0;
  for (const t of c.tensors) {
    parameterCount += t.elements;
    const s = shares.get(t.dtype) ?? { dtype: t.dtype, tensors: 0, elements: 0, byteLength: 0 };
    s.tensors++;
    s.elements += t.elements;
    s.byteLength += t.byteLength;
    shares.set(t.dtype, s);
  }
  const metadata = Object.fromEntries(
    Object.entries(c.metadata)
      .map(([k, v]) => [k, metadataText(v)] as const)
      .filter(([, v]) => v !== '' && v !== '{}' && v !== '[]'),
  );
  const value = (v: { name: string; type: string; shape: readonly (number | string)[] | undefined }): ValueSummary => ({
    name: v.name,
    kind: 'tensor',
    type: ONNX_TYPE_NAMES[v.type] ?? v.type,
    shape: (v.shape ?? []).map((d) => (d === '' ? '?' : d)),
  });
  let graph;
  if (c.graph) {
    const opTypes: Record<string, number> = {};
    for (const n of c.graph.nodes) {
      const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType;
      opTypes[key] = (opTypes[key] ?? 0) + 1;
    }
    graph = { nodes: c.graph.nodes.length, opsets: { ...c.graph.opsets }, opTypes };
  }
  return {
    tensors,
    parameterCount,
    dtypes: [...shares.values()].sort((a, b) => b.elements - a.elements),
    metadata,
    ...(graph ? { graph } : {}),
    inputs: c.graph?.inputs.map(value) ?? [],
    outputs: c.graph?.outputs.map(value) ?? [],
  };
}
