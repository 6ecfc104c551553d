/**
 * The benchmark job: latency of one or more ONNX models run interleaved on the same inputs,
 * per-operator times from a separate profiling pass, and plain-language verdicts on why a
 * quantized model is or is not faster on this CPU.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrationFiles, declaredInputs, SyntheticInputs, type Batch } from '../../core/calibration/calibrationInputs';
import { intAttribute, OnnxModel } from '../../core/onnx/OnnxModel';
import type { NodeMessage } from '../../core/onnx/onnxMessages';
import { rawByteLength } from '../../core/onnx/tensorData';
import type { BenchComparison, BenchParams, BenchReport, LatencyStats, ModelBench, OpTime } from '../../protocol/benchTypes';
import type { OutputMetrics } from '../../protocol/quantizeTypes';
import { benchVerdicts } from './benchVerdicts';
import { readCpuFeatures } from './cpuFeatures';
import { throwIfCancelled, type JobContext } from './JobContext';
import { openTimedSession, runtimeVersion, type BoundRun, type TimedSession } from '../ort';
import { OutputMetricsAccumulator } from './outputMetrics';
import { resolveModelInput } from './modelInput';
import { benchmarkGeneration } from './generationBench';

/** Profiled runs per model; the profiler slows runs down, so a few are enough for shares. */
const PROFILE_RUNS = 5;
/** Larger traces are skipped rather than parsed; a few runs of even large models stay far below. */
const MAX_PROFILE_BYTES = 256 * 1024 * 1024;
/** Operators that only convert between float and integer codes. */
const QUANT_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']);

/** Nearest-rank percentile of sorted values (monotone in q, so min ≤ p50 ≤ p90 ≤ p99 ≤ max). */
export function percentile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** Latency statistics and the coefficient of variation of samples in ms. */
export function latencyStats(samples: readonly number[]): { stats: LatencyStats; cv: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((s, x) => s + x, 0) / Math.max(1, samples.length);
  const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, samples.length - 1);
  return {
    stats: { min: sorted[0] ?? NaN, p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN, mean },
    cv: mean > 0 ? Math.sqrt(variance) / mean : 0,
  };
}

/** Stored bits per weight over the weights of MatMul, Gemm and their quantized forms, scales and zero points included. */
export function weightBits(model: OnnxModel): number | null {
  const producer = new Map<string, NodeMessage>();
  for (const n of model.nodes) for (const o of n.output ?? []) producer.set(o, n);
  const bytesOf = (name: string | undefined): number => {
    const info = name ? model.tensorInfo(name) : undefined;
    return info ? rawByteLength(info.dataType, info.dims.reduce((a, b) => a * b, 1)) : 0;
  };
  const elementsOf = (name: string | undefined): number => model.tensorInfo(name ?? '')?.dims.reduce((a, b) => a * b, 1) ?? 0;
  let weights = 0;
  let bytes = 0;
  for (const n of model.nodes) {
    const inputs = n.input ?? [];
    const op = n.opType ?? '';
    if (op === 'MatMul' || op === 'Gemm') {
      const w = inputs[1];
      if (w && model.tensorInfo(w)) {
        weights += elementsOf(w);
        bytes += bytesOf(w);
        continue;
      }
      const dq = w ? producer.get(w) : undefined;
      if (dq?.opType === 'DequantizeLinear' && model.tensorInfo(dq.input?.[0] ?? '')) {
        weights += elementsOf(dq.input?.[0]);
        for (const i of dq.input ?? []) bytes += bytesOf(i);
      }
    } else if (op === 'MatMulNBits') {
      weights += intAttribute(n, 'K', 0) * intAttribute(n, 'N', 0);
      for (const i of inputs.slice(1, 4)) bytes += bytesOf(i);
    } else if (op === 'DynamicQuantizeMatMul' || op === 'MatMulInteger' || op === 'MatMulIntegerToFloat') {
      if (!model.tensorInfo(inputs[1] ?? '')) continue;
      weights += elementsOf(inputs[1]);
      for (const i of op === 'MatMulInteger' ? [inputs[1], inputs[3]] : inputs.slice(1, 4)) bytes += bytesOf(i);
    }
  }
  return weights ? (bytes * 8) / weights : null;
}

/** Node counts per operator type of the stored graph. */
export function graphOps(model: OnnxModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of model.nodes) out[n.opType ?? '?'] = (out[n.opType ?? '?'] ?? 0) + 1;
  return out;
}

/** One event of ONNX Runtime's JSON profile (Chrome trace format); only the fields read here. */
export interface ProfileEvent {
  readonly cat?: unknown;
  readonly name?: unknown;
  readonly dur?: unknown;
  /** Start in µs since the session began. */
  readonly ts?: unknown;
  readonly args?: { readonly op_name?: unknown; readonly provider?: unknown };
}

/**
 * Sums ONNX Runtime's profile (a JSON array of trace events) per operator type: `dur` (µs) of
 * `Node` events, kernel-time events only when the trace splits nodes into fences and kernels.
 * Times are per run: divided by the number of `model_run` events.
 */
export function summarizeProfile(events: readonly ProfileEvent[]): { opTimes: OpTime[]; quantDequantShare: number; kernels: string[] } {
  const perOp = new Map<string, { us: number; nodes: Set<string> }>();
  const kernels = new Set<string>();
  let runs = 0;
  const split = events.some((e) => typeof e.name === 'string' && e.name.endsWith('_kernel_time'));
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') runs++;
    if (e.cat !== 'Node' || typeof e.dur !== 'number' || typeof e.args?.op_name !== 'string') continue;
    const name = typeof e.name === 'string' ? e.name : '';
    if (split && !name.endsWith('_kernel_time')) continue;
    const op = e.args.op_name;
    const entry = perOp.get(op) ?? { us: 0, nodes: new Set<string>() };
    entry.us += e.dur;
    entry.nodes.add(name.replace(/_kernel_time$/, ''));
    perOp.set(op, entry);
    if (typeof e.args.provider === 'string') kernels.add(`${op}@${e.args.provider}`);
  }
  const total = [...perOp.values()].reduce((s, v) => s + v.us, 0);
  const perRun = Math.max(1, runs);
  const opTimes = [...perOp.entries()]
    .map(([opType, v]) => ({ opType, ms: v.us / 1000 / perRun, share: total ? v.us / total : 0, nodes: v.nodes.size }))
    .sort((a, b) => b.ms - a.ms);
  const quantDequantShare = opTimes.filter((o) => QUANT_OPS.has(o.opType)).reduce((s, o) => s + o.share, 0);
  return { opTimes, quantDequantShare, kernels: [...kernels].sort() };
}

/** The inputs of one model: the user's first batch, or generated ones (seeded, so equal specs get equal data). */
async function inputsFor(model: OnnxModel, params: BenchParams): Promise<Batch> {
  const specs = declaredInputs(model);
  if (params.inputsFile) return (await calibrationFiles([params.inputsFile], specs)).load(0);
  return new SyntheticInputs(specs, {
    ...(params.batch ? { batchSize: params.batch } : {}),
    ...(params.sequenceLength ? { sequenceLength: params.sequenceLength } : {}),
    ...(params.dims ? { dims: params.dims } : {}),
  }).next();
}

function sameShapes(a: Batch, b: Batch): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] && b[k].type === a[k].type && b[k].dims.join() === a[k].dims.join());
}

/** Output agreement of `b` against `a` on `a`'s inputs, for outputs both models have. */
async function agreement(a: TimedSession, b: TimedSession, feeds: Batch): Promise<OutputMetrics[]> {
  const ref = await a.run(feeds);
  const test = await b.run(feeds);
  const out: OutputMetrics[] = [];
  for (const name of a.outputNames) {
    const r = ref[name], t = test[name];
    if (!r || !t || r.data.length !== t.data.length) continue;
    const acc = new OutputMetricsAccumulator(name);
    acc.add(r, t);
    out.push(acc.result());
  }
  return out;
}

/**
 * The events ONNX Runtime's profiler records while `drive` uses a session opened only for
 * profiling (never for latency), or undefined when it wrote none or too many; the file is removed.
 */
export async function profiledEvents(path: string, params: BenchParams, dir: string, index: number, drive: (session: TimedSession) => Promise<unknown>): Promise<ProfileEvent[] | undefined> {
  const session = await openTimedSession(path, {
    ...(params.threads ? { threads: params.threads } : {}),
    optimization: params.optimizationLevel ?? 'all',
    profileFilePrefix: join(dir, `profile${index}`),
  });
  let file: string | undefined;
  try {
    await drive(session);
  } finally {
    file = await session.endProfiling();
    await session.release();
  }
  if (!file) return undefined;
  try {
    if ((await stat(file)).size > MAX_PROFILE_BYTES) return undefined;
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return Array.isArray(parsed) ? (parsed as ProfileEvent[]) : undefined;
  } finally {
    await rm(file, { force: true });
  }
}

/** Per-operator times of one model over a few runs of a profiled session. */
async function profileModel(path: string, feeds: Batch, params: BenchParams, dir: string, index: number): Promise<ReturnType<typeof summarizeProfile> | undefined> {
  const events = await profiledEvents(path, params, dir, index, async (session) => {
    const run = session.bind(feeds);
    for (let i = 0; i < PROFILE_RUNS; i++) await run();
  });
  return events && summarizeProfile(events);
}

/**
 * Benchmarks `params.models`: sessions are created one after the other, warmed up, then timed in
 * interleaved rounds (each round runs every model once, the starting model rotating) so drift of
 * the machine hits all models alike. A separate profiled session per model gives operator times,
 * because the profiler's own cost must not leak into the latencies. Checks cancellation between
 * runs; throws {@link CancelledError} when cancelled. With `params.generate` the models are
 * decoders and whole generations are timed instead (see {@link benchmarkGeneration}).
 */
export async function benchmarkModels(given: BenchParams, ctx: JobContext): Promise<BenchReport> {
  if (!given.models.length) throw new RangeError('benchmark needs at least one model');
  // A language-model checkpoint is timed as its built (cached) graph.
  const graphs: string[] = [];
  for (const m of given.models) graphs.push((await resolveModelInput(m, ctx)).onnx);
  const params: BenchParams = { ...given, models: graphs };
  if (params.generate) return benchmarkGeneration(params, ctx);
  const warmup = Math.max(0, params.warmup ?? 3);
  const runs = Math.max(1, params.runs ?? 20);
  const profile = params.profile ?? true;
  const optimization = params.optimizationLevel ?? 'all';
  const threads = params.threads ?? 0;
  const cpu = await readCpuFeatures();
  const n = params.models.length;

  const loaded: { path: string; fileSize: number; bits: number | null; ops: Record<string, number>; feeds: Batch }[] = [];
  for (const path of params.models) {
    throwIfCancelled(ctx);
    ctx.progress(`reading ${path}`, 0);
    const model = await OnnxModel.load(path);
    loaded.push({ path, fileSize: (await stat(path)).size, bits: weightBits(model), ops: graphOps(model), feeds: await inputsFor(model, params) });
  }

  const sessions: TimedSession[] = [];
  const samples: number[][] = loaded.map(() => []);
  const createMs: number[] = [];
  const peakRss: number[] = [];
  let agreementMetrics: OutputMetrics[] | undefined;
  let rounds = 0;
  try {
    const bound: BoundRun[] = [];
    for (let m = 0; m < n; m++) {
      throwIfCancelled(ctx);
      ctx.progress(`creating session ${m + 1}/${n}`, 0);
      const t0 = performance.now();
      const s = await openTimedSession(loaded[m].path, { ...(threads ? { threads } : {}), optimization });
      createMs.push(performance.now() - t0);
      sessions.push(s);
      bound.push(s.bind(loaded[m].feeds));
      for (let w = 0; w < warmup; w++) {
        throwIfCancelled(ctx);
        await bound[m]();
      }
      // maxRSS is per process and never falls, so later models include the memory of earlier ones.
      peakRss.push(process.resourceUsage().maxRSS * 1024);
    }

    const budget = params.timeBudgetMs ?? Infinity;
    const start = performance.now();
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < n; k++) {
        throwIfCancelled(ctx);
        const m = (r + k) % n;
        const run = bound[m];
        const t0 = performance.now();
        await run();
        samples[m].push(performance.now() - t0);
      }
      rounds++;
      ctx.progress(`round ${rounds}/${runs}`, rounds / runs);
      if (performance.now() - start > budget) break;
    }

    if (n === 2 && sameShapes(loaded[0].feeds, loaded[1].feeds)) {
      throwIfCancelled(ctx);
      agreementMetrics = await agreement(sessions[0], sessions[1], loaded[0].feeds);
    }
  } finally {
    for (const s of sessions) await s.release();
  }

  const profiles: (ReturnType<typeof summarizeProfile> | undefined)[] = [];
  if (profile) {
    const dir = await mkdtemp(join(tmpdir(), 'quantscope-bench-'));
    try {
      for (let m = 0; m < n; m++) {
        throwIfCancelled(ctx);
        ctx.progress(`profiling ${m + 1}/${n}`, undefined);
        profiles.push(await profileModel(loaded[m].path, loaded[m].feeds, params, dir, m));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const models: ModelBench[] = loaded.map((l, m) => {
    const { stats, cv } = latencyStats(samples[m]);
    // The leading axis of the first input is the batch for nearly every model, and it is right for user files too.
    const batch = Object.values(l.feeds)[0]?.dims[0] || 1;
    const p = profiles[m];
    return {
      path: l.path, fileSize: l.fileSize, bitsPerWeight: l.bits, graphOps: l.ops,
      sessionCreateMs: createMs[m], latencyMs: stats, samples: samples[m],
      throughputPerSec: stats.p50 > 0 ? (batch * 1000) / stats.p50 : 0, cv,
      peakRssBytes: peakRss[m],
      opTimes: p?.opTimes ?? [], quantDequantShare: p?.quantDequantShare ?? 0,
      ...(p?.kernels.length ? { kernels: p.kernels } : {}),
    };
  });
  const comparisons: BenchComparison[] = models.slice(1).map((b, i) => {
    const a = models[0];
    const ratios = samples[0].map((x, r) => x / samples[i + 1][r]).filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
    return {
      a: a.path, b: b.path,
      ratioOfMedians: a.latencyMs.p50 / b.latencyMs.p50,
      spread: [percentile(ratios, 0.1), percentile(ratios, 0.9)] as const,
      ...(agreementMetrics ? { agreement: agreementMetrics } : {}),
    };
  });
  const inputs: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(loaded[0].feeds)) inputs[name] = [...t.dims];
  const partial = {
    cpu, models, comparisons,
    settings: {
      threads, warmup, runs, rounds, optimizationLevel: optimization, profile, inputs,
      inputsFrom: params.inputsFile ? 'file' as const : 'generated' as const,
      runtime: runtimeVersion(), timeBudgetMs: params.timeBudgetMs ?? null,
    },
  };
  return { ...partial, verdicts: benchVerdicts(partial) };
}
