/**
 * Meta's layout (and llama.cpp's converter, which writes it) interleaves the two halves of each
 * head's rotary pairs in Q and K: row 2i + t of a head holds Hugging Face's row t·d/2 + i, while
 * our graph rotates halves. `rowLength` is 1 for a bias.
 */

/** Undoes the interleaving: returns a new array in Hugging Face's row order. */
export function unpermuteRotary(values: Float32Array, heads: number, rowLength: number): Float32Array {
  return moveRotaryRows(values, heads, rowLength, true);
}

/** Applies the interleaving, as llama.cpp's converter does to Hugging Face's Q and K: the inverse of {@link unpermuteRotary}. */
export function permuteRotary(values: Float32Array, heads: number, rowLength: number): Float32Array {
  return moveRotaryRows(values, heads, rowLength, false);
}

function moveRotaryRows(values: Float32Array, heads: number, rowLength: number, toHalves: boolean): Float32Array {
  const rows = values.length / rowLength;
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let t = 0; t < 2; t++) {
        const interleaved = (h * headDim + 2 * i + t) * rowLength;
        const halves = (h * headDim + t * half + i) * rowLength;
        const [from, to] = toHalves ? [interleaved, halves] : [halves, interleaved];
        out.set(values.subarray(from, from + rowLength), to);
      }
    }
  }
  return out;
}
