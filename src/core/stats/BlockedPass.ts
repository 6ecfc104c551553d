/** Values are copied into float64 blocks of this size, so every kernel loop runs on L1-resident data of one type. */
export const BLOCK = 4096;

/**
 * The chunking both statistics passes share: each chunk of the tensor is copied, {@link BLOCK}
 * values at a time, into one reusable float64 block that the pass's kernel then scans. The
 * kernel is called once per block, never per value, so the hot loops stay inside each pass.
 */
export abstract class BlockedPass {
  /** The current block; `pushBlock(n)` reads its first n values. */
  protected readonly block = new Float64Array(BLOCK);
  /** Scratch of the same size for a block with its non-finite values removed. */
  protected readonly compact = new Float64Array(BLOCK);

  /** Adds the next values of the tensor, in row-major order. */
  push(chunk: Float32Array | Float64Array): void {
    for (let off = 0; off < chunk.length; off += BLOCK) {
      const n = Math.min(BLOCK, chunk.length - off);
      this.block.set(chunk.subarray(off, off + n));
      this.pushBlock(n);
    }
  }

  /** Scans the first `n` values of {@link block}. */
  protected abstract pushBlock(n: number): void;
}
