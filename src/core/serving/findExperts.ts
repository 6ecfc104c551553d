import type { Checkpoint, TensorInfo } from '../formats/Checkpoint';

/** One routed expert's matrices in one layer, each as a tensor (a slice, for stacked storage). */
export interface ExpertTensors {
  readonly expert: number;
  /** By role (`w1`, `gate_proj`, `ffn_gate_exps`), in a fixed order. */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
}

/** The routed experts of one layer. */
export interface ExpertGroup {
  readonly layer: number;
  readonly experts: readonly ExpertTensors[];
}

/** Where a checkpoint's experts are. */
export interface ExpertLayout {
  readonly detectedBy: string;
  readonly layers: readonly ExpertGroup[];
  readonly sharedExpertTensors: number;
  readonly notes: readonly string[];
}

/** `…layers.3.….experts.5.w1.weight` (Hugging Face, and ONNX exports that keep the names). */
export const NAMED_EXPERT = /(?:^|\.)(?:layers|h|blocks)\.(\d+)\..*?\.experts\.(\d+)\.(.+?)(?:\.weight)?$/;
/** `blk.3.ffn_gate_exps.weight` (GGUF) and stacked `experts.gate_up_proj` / MoE initializers [experts, …]. */
const STACKED = /^blk\.(\d+)\.(ffn_\w+_exps)\.weight$|(?:^|\.)(?:layers|h|blocks)\.(\d+)\..*?\.experts\.(gate_up_proj|down_proj|gate_proj|up_proj)$/;
const SHARED = /shared_expert|_shexp/;

/** Expert `e` of a tensor that stacks experts along its first dimension, as a tensor of its own. */
function slice(t: TensorInfo, e: number, count: number): TensorInfo | undefined {
  if (t.byteLength % count !== 0 || t.elements % count !== 0) return undefined;
  const length = t.byteLength / count;
  const common = { ...t, name: `${t.name}[${e}]`, shape: t.shape.slice(1), elements: t.elements / count, byteLength: length, strides: undefined };
  if (t.source.kind === 'file') return { ...common, source: { ...t.source, offset: t.source.offset + e * length, length } };
  if (t.source.kind === 'inline') return { ...common, source: { kind: 'inline', bytes: t.source.bytes.subarray(e * length, (e + 1) * length) } };
  return undefined;
}

/**
 * Finds the routed experts of a checkpoint by tensor names: Hugging Face's `experts.N.` (Mixtral,
 * Qwen2-MoE, DeepSeek), GGUF's stacked `ffn_{gate,up,down}_exps`, or stacked `experts.*_proj`
 * tensors and ONNX initializers named either way, or the weights of ONNX Runtime's `MoE` nodes.
 * Shared experts are counted, not compared.
 */
export function findExperts(checkpoint: Checkpoint): ExpertLayout {
  const byLayer = new Map<number, Map<number, Map<string, TensorInfo>>>();
  const notes: string[] = [];
  let shared = 0;
  let named = 0;
  let stacked = 0;
  const add = (layer: number, expert: number, role: string, t: TensorInfo): void => {
    const experts = byLayer.get(layer) ?? new Map<number, Map<string, TensorInfo>>();
    byLayer.set(layer, experts);
    const roles = experts.get(expert) ?? new Map<string, TensorInfo>();
    experts.set(expert, roles);
    roles.set(role, t);
  };
  for (const t of checkpoint.tensors) {
    if (SHARED.test(t.name)) {
      shared++;
      continue;
    }
    const n = NAMED_EXPERT.exec(t.name);
    if (n) {
      add(Number(n[1]), Number(n[2]), n[3], t);
      named++;
      continue;
    }
    const s = STACKED.exec(t.name);
    if (s && t.shape.length === 3) {
      const layer = Number(s[1] ?? s[3]);
      const role = s[2] ?? s[4];
      const count = t.shape[0];
      for (let e = 0; e < count; e++) {
        const part = slice(t, e, count);
        if (!part) {
          notes.push(`${t.name}: its experts cannot be read one by one (compressed or uneven storage), so layer ${layer} is left out`);
          break;
        }
        add(layer, e, role, part);
      }
      stacked++;
    }
  }
  // ONNX Runtime's com.microsoft MoE node takes its experts stacked: fc1 (input 2), fc2 (4), fc3 (6).
  const byName = new Map(checkpoint.tensors.map((t) => [t.name, t]));
  let moeNodes = 0;
  if (named === 0 && stacked === 0) {
    for (const node of checkpoint.graph?.nodes ?? []) {
      if (node.opType !== 'MoE') continue;
      const layer = moeNodes++;
      for (const [role, index] of [['fc1', 2], ['fc2', 4], ['fc3', 6]] as const) {
        const t = byName.get(node.inputs[index] ?? '');
        if (!t || t.shape.length !== 3) continue;
        for (let e = 0; e < t.shape[0]; e++) {
          const part = slice(t, e, t.shape[0]);
          if (part) add(layer, e, role, part);
        }
      }
    }
  }
  const layers: ExpertGroup[] = [...byLayer.entries()].sort((a, b) => a[0] - b[0]).map(([layer, experts]) => ({
    layer,
    experts: [...experts.entries()].sort((a, b) => a[0] - b[0]).map(([expert, tensors]) => ({ expert, tensors: new Map([...tensors.entries()].sort((a, b) => a[0].localeCompare(b[0]))) })),
  }));
  const detectedBy = named > 0 ? 'experts.N. tensor names'
    : stacked > 0 ? (checkpoint.format === 'gguf' ? 'ffn_*_exps tensors (experts stacked along the first dimension)' : 'stacked expert tensors')
      : moeNodes > 0 ? 'MoE nodes (com.microsoft) and their stacked expert weights' : 'no routed experts found';
  return { detectedBy, layers, sharedExpertTensors: shared, notes };
}
