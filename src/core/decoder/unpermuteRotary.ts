/**
 * Undoes the row permutation that Meta's layout (and llama.cpp's converter, which writes it)
 * applies to Q and K: there the two halves of each head's rotary pairs are interleaved
 * (row 2i + t of a head holds Hugging Face's row t·d/2 + i), while the graph rotates halves.
 * `rowLength` is 1 for a bias. Returns a new array in Hugging Face's row order.
 */
export function unpermuteRotary(values: Float32Array, heads: number, rowLength: number): Float32Array {
  const rows = values.length / rowLength;
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let t = 0; t < 2; t++) {
        const from = (h * headDim + 2 * i + t) * rowLength;
        const to = (h * headDim + t * half + i) * rowLength;
        out.set(values.subarray(from, from + rowLength), to);
      }
    }
  }
  return out;
}
