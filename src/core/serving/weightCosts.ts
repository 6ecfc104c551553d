import type { WeightCost, WeightGroup, WeightPrecision } from '../../protocol/servingTypes';

const FLOAT16 = 2;

/** How each scheme stores a quantized matrix, in words for the table. */
function schemeText(precision: WeightPrecision, group: number): string {
  switch (precision) {
    case 'float32': return 'every weight in float32';
    case 'float16': return 'every weight in float16 (or bfloat16)';
    case 'int8': return 'linear weights int8 per output channel with a float32 scale and an int8 zero point per row (ONNX per-axis QuantizeLinear); embedding, norms and routers in float16';
    case 'int4': return `linear weights 4-bit in groups of ${group} along the input with a float16 scale and a 4-bit zero point per group (MatMulNBits); embedding, norms and routers in float16`;
  }
}

/** Bytes of one [rows, cols] matrix at a quantized precision: values, then scales and zero points. */
function quantizedMatrix(precision: 'int8' | 'int4', rows: number, cols: number, group: number): { values: number; scales: number } {
  if (precision === 'int8') return { values: rows * cols, scales: rows * (4 + 1) };
  const groups = Math.ceil(cols / group);
  // MatMulNBits pads the last block and packs two zero points per byte.
  return { values: rows * groups * (group / 2), scales: rows * groups * FLOAT16 + rows * Math.ceil(groups / 2) };
}

/** The weights' bytes at `precision`, given the inventory and the INT4 group size. */
export function weightCost(groups: readonly WeightGroup[], precision: WeightPrecision, int4Group: number): WeightCost {
  const params = groups.reduce((s, g) => s + g.parameters, 0);
  let bytes = 0;
  let scaleBytes = 0;
  for (const g of groups) {
    if (precision === 'float32' || precision === 'float16') {
      bytes += g.parameters * (precision === 'float32' ? 4 : FLOAT16);
      continue;
    }
    if (!g.quantized) {
      bytes += g.parameters * FLOAT16;
      continue;
    }
    let inMatrices = 0;
    for (const [rows, cols, n] of g.matrices) {
      const m = quantizedMatrix(precision, rows, cols, int4Group);
      bytes += n * (m.values + m.scales);
      scaleBytes += n * m.scales;
      inMatrices += rows * cols * n;
    }
    // Biases stay in float16.
    bytes += (g.parameters - inMatrices) * FLOAT16;
  }
  return { precision, bytes, scaleBytes, bitsPerWeight: params > 0 ? (8 * bytes) / params : 0, scheme: schemeText(precision, int4Group) };
}
