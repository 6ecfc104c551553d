import { FormatError } from '../../FormatError';
import type { MetadataValue } from '../Checkpoint';
import { PyDict, PyObject, PyTuple, type PyValue } from './pyValues';
import { TorchTensor } from './torchGlobals';

/** Tensors found in an unpickled object, by dotted path, and the small scalars next to them. */
export interface Collected {
  readonly tensors: { readonly name: string; readonly tensor: TorchTensor }[];
  readonly scalars: Record<string, MetadataValue>;
}

const MAX_DEPTH = 200;
const MAX_SCALARS = 256;
const MAX_SCALAR_DEPTH = 4;
const MAX_STRING = 200;

/** Defines `key` as an own property, so a `__proto__` key from a pickle stays data. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function keyName(k: PyValue, index: number): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k === null) return 'None';
  if (k instanceof PyTuple) return k.items.map((x, i) => keyName(x, i)).join(',');
  return String(index);
}

/**
 * Walks a checkpoint object (a state dict, a nested `{model, optimizer}` dict, a TorchScript module)
 * and names every tensor by its path: dict keys, list indices and module attributes joined with
 * dots (`model.layer.weight`, `optimizer.state.0.exp_avg`). Shared objects are visited once per
 * path, cycles are cut, and the total number of visits is bounded so that a pickle built as a
 * deep diamond cannot make the walk exponential.
 */
export function collectTensors(root: PyValue, maxVisits: number): Collected {
  const tensors: { name: string; tensor: TorchTensor }[] = [];
  const scalars: Record<string, MetadataValue> = {};
  let scalarCount = 0;
  let visits = 0;
  const onPath = new Set<object>();
  const join = (prefix: string, key: string): string => (prefix ? `${prefix}.${key}` : key);

  const visit = (v: PyValue, name: string, depth: number): void => {
    if (++visits > maxVisits) throw new FormatError(`the checkpoint's object graph has more than ${maxVisits} references`, { format: 'pytorch' });
    if (depth > MAX_DEPTH) throw new FormatError(`the checkpoint nests objects more than ${MAX_DEPTH} levels deep`, { format: 'pytorch' });
    if (v instanceof TorchTensor) {
      tensors.push({ name: name || 'tensor', tensor: v });
      return;
    }
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) {
      if (name && depth <= MAX_SCALAR_DEPTH && scalarCount < MAX_SCALARS && (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string')) {
        setOwn(scalars, name, typeof v === 'string' && v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}…` : v);
        scalarCount++;
      }
      return;
    }
    if (onPath.has(v)) return;
    onPath.add(v);
    try {
      if (Array.isArray(v) || v instanceof PyTuple) {
        const items = Array.isArray(v) ? v : v.items;
        items.forEach((x, i) => visit(x, join(name, String(i)), depth + 1));
      } else if (v instanceof PyDict) {
        let i = 0;
        for (const [k, x] of v.entries()) visit(x, join(name, keyName(k, i++)), depth + 1);
      } else if (v instanceof PyObject) {
        visit(v.state, name, depth + 1);
        let i = 0;
        for (const [k, x] of v.dict.entries()) visit(x, join(name, keyName(k, i++)), depth + 1);
        v.items.forEach((x, j) => visit(x, join(name, String(j)), depth + 1));
      }
    } finally {
      onPath.delete(v);
    }
  };
  visit(root, '', 0);
  return { tensors, scalars };
}
