/**
 * The row permutation llama.cpp's converter applies to Llama's Q and K weights: within each head,
 * Hugging Face's rotate-half row t·d/2 + i moves to row 2i + t (interleaved pairs). It is the
 * inverse of decoder/unpermuteRotary. `rowLength` is 1 for a bias.
 */
export function permuteRotary(values: Float32Array, heads: number, rowLength: number): Float32Array {
  const rows = values.length / rowLength;
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let t = 0; t < 2; t++) {
        const from = (h * headDim + t * half + i) * rowLength;
        const to = (h * headDim + 2 * i + t) * rowLength;
        out.set(values.subarray(from, from + rowLength), to);
      }
    }
  }
  return out;
}
