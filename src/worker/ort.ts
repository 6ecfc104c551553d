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

/** Numeric tensor data that crosses the boundary to and from ONNX Runtime. */
export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** A tensor fed to or fetched from a session, in ONNX Runtime's type names (`float32`, `int64`, `bool`, …). */
export interface RunTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: NumericArray;
}

/** Options for {@link openSession}. */
export interface SessionOptions {
  /** Intra-op threads; 0 or undefined lets ONNX Runtime decide. */
  readonly threads?: number;
  /** Graph optimization level; default `all`, as a deployment would run. */
  readonly optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** A loaded model that runs feeds to fetches. */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Declared inputs (type and possibly symbolic shape) as ONNX Runtime reports them. */
  readonly inputs: readonly ValueSummary[];
  /** Runs the model; `fetches` selects outputs (default: all). Non-tensor outputs are skipped. */
  run(feeds: Readonly<Record<string, RunTensor>>, fetches?: readonly string[]): Promise<Record<string, RunTensor>>;
  release(): Promise<void>;
}

/** Opens a session on a model file or on an encoded model in memory. */
export async function openSession(model: string | Uint8Array, options: SessionOptions = {}): Promise<ModelSession> {
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: options.optimization ?? 'all' };
  if (options.threads) opts.intraOpNumThreads = options.threads;
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputs: summarize(session.inputMetadata),
    async run(feeds, fetches) {
      const input: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data, t.dims);
      const result = fetches ? await session.run(input, [...fetches]) : await session.run(input);
      const out: Record<string, RunTensor> = {};
      for (const [name, v] of Object.entries(result)) {
        if (!(v instanceof ort.Tensor) || typeof v.data === 'string' || Array.isArray(v.data)) continue;
        out[name] = { type: v.type, dims: v.dims, data: v.data };
      }
      return out;
    },
    release: () => session.release(),
  };
}
