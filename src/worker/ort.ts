/**
 * The only module that imports onnxruntime-node. ONNX Runtime's native calls block the thread
 * that makes them, so this module is loaded only in the worker process and the CLI, never in
 * the extension host.
 */
import * as ort from 'onnxruntime-node';
import type { ValueSummary } from '../protocol/workerProtocol';

/** Inputs and outputs of a model as ONNX Runtime sees them. */
export interface SessionSignature {
  readonly inputs: readonly ValueSummary[];
  readonly outputs: readonly ValueSummary[];
  readonly loadMs: number;
}

/** ONNX Runtime's version, for reports. */
export function runtimeVersion(): string {
  return ort.env.versions.common ?? 'unknown';
}

function summarize(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueSummary[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, kind: 'tensor', type: m.type, shape: m.shape.map((d) => (d === '' ? '?' : d)) }
      : { name: m.name, kind: 'other', type: '', shape: [] },
  );
}

/**
 * Creates a session for `path` to read its signature, then releases it. Graph optimizations are
 * off because we only want the declared inputs and outputs.
 */
export async function readSignature(path: string): Promise<SessionSignature> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  const loadMs = performance.now() - t0;
  try {
    return { inputs: summarize(session.inputMetadata), outputs: summarize(session.outputMetadata), loadMs };
  } finally {
    await session.release();
  }
}
