import type { Finding } from '../../protocol/findingTypes';
import type { SharedWeight } from '../../protocol/workerProtocol';
import type { Graph } from '../formats/Checkpoint';

export type { SharedWeight } from '../../protocol/workerProtocol';

/** Ops that pass a weight through to a MatMul unchanged in value (a tied head reads the embedding transposed). */
const PASS_THROUGH = new Set(['Transpose', 'Identity', 'Cast']);

/**
 * Tensors that an embedding lookup (`Gather` on input 0) and a `MatMul`/`Gemm` (directly or
 * through a transpose) both read: a tied embedding. Quantizing the MatMul rewrites its weight into
 * a new tensor while the Gather keeps the float one, so the file stores the table twice.
 */
export function sharedWeights(graph: Graph | undefined, tensors: ReadonlySet<string>): SharedWeight[] {
  if (!graph) return [];
  const readers = new Map<string, { node: string; opType: string; input: number }[]>();
  for (const n of graph.nodes) n.inputs.forEach((v, i) => {
    if (!v) return;
    const list = readers.get(v) ?? [];
    list.push({ node: n.name || n.outputs[0] || '', opType: n.opType, input: i });
    readers.set(v, list);
  });
  const byOutput = new Map(graph.nodes.map((n) => [n.outputs[0], n]));
  const out: SharedWeight[] = [];
  for (const tensor of tensors) {
    const direct = readers.get(tensor) ?? [];
    const gathers = direct.filter((r) => r.opType === 'Gather' && r.input === 0);
    if (!gathers.length) continue;
    const matmuls: { node: string; opType: string }[] = [];
    const visit = (value: string, depth: number): void => {
      for (const r of readers.get(value) ?? []) {
        if ((r.opType === 'MatMul' || r.opType === 'Gemm') && r.input === 1) matmuls.push({ node: r.node, opType: r.opType });
        const n = PASS_THROUGH.has(r.opType) && depth < 3 ? graph.nodes.find((x) => (x.name || x.outputs[0]) === r.node) : undefined;
        if (n?.outputs[0] && byOutput.has(n.outputs[0])) visit(n.outputs[0], depth + 1);
      }
    };
    visit(tensor, 0);
    if (matmuls.length) out.push({ tensor, lookups: gathers.map((g) => g.node), layers: matmuls.map((m) => m.node) });
  }
  return out;
}

/** One finding per tied embedding, on the layer that reads it as a weight. */
export function sharedWeightFindings(shared: readonly SharedWeight[]): Finding[] {
  return shared.map((s) => ({
    id: `tied-embedding:${s.layers[0]}`, kind: 'tied-embedding', severity: 'warning', layer: s.layers[0], tensor: s.tensor,
    message: `${s.tensor} is a tied embedding: ${s.lookups.join(', ')} looks it up and ${s.layers.join(', ')} multiplies by it; quantizing the layer stores the table a second time, quantized, beside the float one`,
    evidence: { lookups: s.lookups.join(', '), layers: s.layers.join(', ') },
    fix: { kind: 'keep-float' }, alternatives: [],
    advice: 'Keep this layer in float, or quantize the embedding and its head together in the exporter',
  }));
}
