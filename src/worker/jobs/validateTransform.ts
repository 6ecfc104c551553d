import type { Batch } from '../../core/calibration/calibrationInputs';
import { throwIfCancelled, type JobContext } from './JobContext';
import { openSession, type ModelSession } from '../ort';
import { OutputMetricsAccumulator } from './outputMetrics';
import type { OutputMetrics } from '../../protocol/quantizeTypes';

/**
 * Runs the original and the transformed model on the same held-out batches and measures, per
 * output of the original, how far the transformed model's output moved. Sessions run as a
 * deployment would (all graph optimizations), so the figures are what a user gets.
 */
export async function validateTransform(original: string | Uint8Array, transformed: string, batches: readonly Batch[], ctx: JobContext, onBatch?: (done: number) => void): Promise<OutputMetrics[]> {
  const sessions: ModelSession[] = [];
  try {
    const a = await openSession(original);
    sessions.push(a);
    const b = await openSession(transformed);
    sessions.push(b);
    const accs = new Map(a.outputNames.map((n) => [n, new OutputMetricsAccumulator(n)]));
    for (let i = 0; i < batches.length; i++) {
      throwIfCancelled(ctx);
      const ref = await a.run(batches[i]);
      const test = await b.run(batches[i], [...accs.keys()]);
      for (const [name, acc] of accs) {
        const r = ref[name], t = test[name];
        if (r && t) acc.add(r, t);
      }
      onBatch?.(i + 1);
    }
    return [...accs.values()].map((acc) => acc.result());
  } finally {
    for (const s of sessions) await s.release();
  }
}
