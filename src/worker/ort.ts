/**
 * The only module that imports onnxruntime-node. ONNX Runtime's native calls block the thread
 * that makes them, so this module is loaded only in the worker process and the CLI, never in
 * the extension host.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ValueSummary } from '../protocol/workerProtocol';

/**
 * Sessions log only fatal problems: an error in a run (an index out of range, a shape mismatch)
 * reaches the caller as the rejected promise's message, and ONNX Runtime's own red copy of it on
 * stderr would only garble the CLI's output and the worker log.
 */
const LOG_SEVERITY_FATAL = 4;

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
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: LOG_SEVERITY_FATAL });
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
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: options.optimization ?? 'all', logSeverityLevel: LOG_SEVERITY_FATAL };
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

/** Options for {@link openTimedSession}. */
export interface TimedSessionOptions extends SessionOptions {
  /**
   * When set, ONNX Runtime profiles every run and writes its JSON trace to a file whose name
   * starts with this path; {@link TimedSession.endProfiling} returns that file.
   */
  readonly profileFilePrefix?: string;
}

/** Feeds already wrapped as runtime tensors; running them allocates no input of ours. */
export type BoundRun = () => Promise<void>;

/** A session for benchmarking: runs bound once to their feeds, and optional profiling. */
export interface TimedSession {
  readonly inputs: readonly ValueSummary[];
  readonly outputNames: readonly string[];
  /** Wraps `feeds` once, so a timed loop only calls the returned function; outputs are dropped. */
  bind(feeds: Readonly<Record<string, RunTensor>>): BoundRun;
  /** Runs the model and returns its tensor outputs (for output agreement, not for timing). */
  run(feeds: Readonly<Record<string, RunTensor>>): Promise<Record<string, RunTensor>>;
  /** Stops profiling and returns the trace file, or undefined when profiling was off or no file appeared. */
  endProfiling(): Promise<string | undefined>;
  release(): Promise<void>;
}

function toOrtFeeds(feeds: Readonly<Record<string, RunTensor>>): Record<string, ort.Tensor> {
  const input: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data, t.dims);
  return input;
}

/** Opens a model file for benchmarking, optionally with ONNX Runtime's profiler on. */
export async function openTimedSession(path: string, options: TimedSessionOptions = {}): Promise<TimedSession> {
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: options.optimization ?? 'all', logSeverityLevel: LOG_SEVERITY_FATAL };
  if (options.threads) opts.intraOpNumThreads = options.threads;
  if (options.profileFilePrefix) {
    opts.enableProfiling = true;
    opts.profileFilePrefix = options.profileFilePrefix;
  }
  const session = await ort.InferenceSession.create(path, opts);
  return {
    inputs: summarize(session.inputMetadata),
    outputNames: session.outputNames,
    bind(feeds) {
      const input = toOrtFeeds(feeds);
      return async () => {
        await session.run(input);
      };
    },
    async run(feeds) {
      const result = await session.run(toOrtFeeds(feeds));
      const out: Record<string, RunTensor> = {};
      for (const [name, v] of Object.entries(result)) {
        if (!(v instanceof ort.Tensor) || typeof v.data === 'string' || Array.isArray(v.data)) continue;
        out[name] = { type: v.type, dims: v.dims, data: v.data };
      }
      return out;
    },
    async endProfiling() {
      const prefix = options.profileFilePrefix;
      if (!prefix) return undefined;
      // The binding's endProfiling returns nothing; ORT names the file <prefix>_<timestamp>.json.
      session.endProfiling();
      const dir = dirname(prefix);
      const stem = basename(prefix);
      const found = (await readdir(dir)).filter((f) => f.startsWith(stem) && f.endsWith('.json')).sort();
      return found.length ? join(dir, found[found.length - 1]) : undefined;
    },
    release: () => session.release(),
  };
}

/**
 * The reference a benchmark is held against: what a user would write by hand. It creates a
 * session, wraps the feeds once and times `run()` in a bare loop, nothing else.
 */
export async function minimalRunLoop(path: string, feeds: Readonly<Record<string, RunTensor>>, runs: number, options: SessionOptions = {}): Promise<number[]> {
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: options.optimization ?? 'all', logSeverityLevel: LOG_SEVERITY_FATAL };
  if (options.threads) opts.intraOpNumThreads = options.threads;
  const session = await ort.InferenceSession.create(path, opts);
  try {
    const input = toOrtFeeds(feeds);
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await session.run(input);
      samples.push(performance.now() - t0);
    }
    return samples;
  } finally {
    await session.release();
  }
}
