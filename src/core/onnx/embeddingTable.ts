import type { OnnxModel } from './OnnxModel';

/** Ops that pass integer values through unchanged between a graph input and the Gather it feeds. */
const VALUE_PRESERVING = new Set(['Cast', 'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

/** An embedding table that the token ids index. */
export interface EmbeddingTable {
  /** The initializer or Constant holding the table. */
  readonly tensor: string;
  /** The number of rows, the largest id + 1 that the model accepts. */
  readonly rows: number;
}

/**
 * The constant table that the integer input `input` indexes (a token or position embedding,
 * reached directly or through casts and reshapes), or undefined when it indexes none. With
 * several tables, the smallest: every id must fit all of them.
 */
export function embeddingTable(model: OnnxModel, input: string): EmbeddingTable | undefined {
  const reached = new Set([input]);
  const queue = [input];
  let best: EmbeddingTable | undefined;
  while (queue.length) {
    const value = queue.shift() ?? '';
    for (const node of model.consumersOf(value)) {
      if ((node.domain ?? '') !== '') continue;
      const op = node.opType ?? '';
      if (op === 'Gather' && node.input?.[1] === value) {
        const info = model.tensorInfo(node.input[0] ?? '');
        const axisAttr = node.attribute?.find((a) => a.name === 'axis');
        const rank = info?.dims.length ?? 0;
        const axis = axisAttr?.i === undefined ? 0 : Number(axisAttr.i);
        const rows = info?.dims[axis < 0 ? axis + rank : axis];
        if (rows !== undefined && (best === undefined || rows < best.rows)) best = { tensor: node.input[0] ?? '', rows };
      } else if (VALUE_PRESERVING.has(op) && node.input?.[0] === value) {
        const out = node.output?.[0];
        if (out && !reached.has(out)) {
          reached.add(out);
          queue.push(out);
        }
      }
    }
  }
  return best;
}

/** The number of rows of the table that `input` indexes; see {@link embeddingTable}. */
export function embeddingRows(model: OnnxModel, input: string): number | undefined {
  return embeddingTable(model, input)?.rows;
}
