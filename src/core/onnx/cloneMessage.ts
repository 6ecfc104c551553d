/**
 * A deep copy of a decoded ONNX message that shares byte arrays (tensor data) with the original.
 * Edits replace byte arrays rather than write into them, so sharing is safe and a copy of a large
 * model costs only its small objects.
 */
export function cloneMessage<T>(value: T): T {
  return copy(value) as T;
}

function copy(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map(copy);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = copy(x);
  return out;
}
