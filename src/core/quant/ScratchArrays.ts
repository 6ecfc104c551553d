/**
 * Working arrays reused from one layer to the next within a job. Allocating a fresh array per
 * layer for the decoded weight, its transpose, the codes and the dequantized copy costs more
 * than the arithmetic on them: every new page is zeroed by the system on first touch. An array
 * handed out is valid until the same slot is asked for again, so a caller must never keep one
 * past its layer or store it in a model.
 */
export class ScratchArrays {
  private readonly floats = new Map<string, Float32Array>();
  private signed = new Int8Array(0);
  private unsigned = new Uint8Array(0);

  /** A Float32Array of `n` values in the named slot (contents undefined). */
  float32(slot: string, n: number): Float32Array {
    let a = this.floats.get(slot);
    if (!a || a.length < n) {
      a = new Float32Array(n);
      this.floats.set(slot, a);
    }
    return a.subarray(0, n);
  }

  /** An Int8Array (or Uint8Array when `signed` is false) of `n` codes (contents undefined). */
  codes(n: number, signed: boolean): Int8Array | Uint8Array {
    if (signed) {
      if (this.signed.length < n) this.signed = new Int8Array(n);
      return this.signed.subarray(0, n);
    }
    if (this.unsigned.length < n) this.unsigned = new Uint8Array(n);
    return this.unsigned.subarray(0, n);
  }
}
