import type { Checkpoint } from '../formats/Checkpoint';
import type { MatrixLayout } from '../stats/MatrixLayout';

/** How a weight is used: the layer that consumes it and the matrix layout that use implies. */
export interface WeightUse {
  /** The consuming node's name (or its first output when unnamed). */
  readonly layer: string;
  readonly opType: string;
  readonly layout: MatrixLayout;
}

function attrNumber(v: unknown, fallback: number): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : fallback;
}

/**
 * Finds the 2-D weights of `MatMul` and `Gemm` nodes. ONNX stores a MatMul weight as
 * `[in, out]` (outputs on axis 1), and a Gemm weight likewise unless `transB = 1`; PyTorch-style
 * `[out, in]` is the default every other tensor gets.
 */
export function weightUses(checkpoint: Checkpoint): Map<string, WeightUse> {
  const uses = new Map<string, WeightUse>();
  if (!checkpoint.graph) return uses;
  const shapes = new Map(checkpoint.tensors.map((t) => [t.name, t.shape]));
  for (const node of checkpoint.graph.nodes) {
    if (node.opType !== 'MatMul' && node.opType !== 'Gemm') continue;
    const weight = node.inputs[1];
    const shape = weight ? shapes.get(weight) : undefined;
    if (!shape || shape.length !== 2 || uses.has(weight)) continue;
    const transposed = node.opType === 'Gemm' && attrNumber(node.attributes.transB, 0) === 1;
    uses.set(weight, {
      layer: node.name || node.outputs[0] || weight,
      opType: node.opType,
      layout: { rows: shape[0], cols: shape[1], outAxis: transposed ? 0 : 1 },
    });
  }
  return uses;
}
