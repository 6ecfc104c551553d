import { seededRandom } from '../../../src/core/random/seededRandom';
import { openSession, type RunTensor } from '../../../src/worker/ort';

/** A float32 tensor of uniform values in [-1, 1). */
export function randomFloats(dims: readonly number[], seed: number): RunTensor {
  const rnd = seededRandom(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return { type: 'float32', dims, data: Float32Array.from({ length: n }, () => rnd() * 2 - 1) };
}

/** Runs a model (file or bytes) once and returns every output. */
export async function runOnce(model: string | Uint8Array, feeds: Record<string, RunTensor>, fetches?: readonly string[]): Promise<Record<string, RunTensor>> {
  const s = await openSession(model, { threads: 1 });
  try {
    return await s.run(feeds, fetches);
  } finally {
    await s.release();
  }
}
