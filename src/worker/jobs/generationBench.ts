/**
 * The benchmark job's generation mode: a prompt through a decoder with a KV cache (the prefill,
 * whose time is the time to first token), then greedy decoding with the cache fed back, one token
 * per step. Models run whole generations in interleaved rounds, as the latency mode runs single
 * runs, so drift of the machine hits all models alike.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { FormatError } from '../../core/FormatError';
import { nbitsAccuracyLevels, readDecoderGraph, weightBytesPerToken, type DecoderGraph } from '../../core/onnx/decoderGraph';
import { OnnxModel } from '../../core/onnx/OnnxModel';
import { seededRandom } from '../../core/random/seededRandom';
import { halfToFloat } from '../../core/tensor/floatTables';
import type { BenchComparison, BenchParams, BenchReport, GenerationComparison, ModelBench, ModelGeneration } from '../../protocol/benchTypes';
import { openTimedSession, runtimeVersion, type RunTensor, type TimedSession } from '../ort';
import { graphOps, latencyStats, percentile, profiledEvents, summarizeProfile, weightBits, type ProfileEvent } from './benchmark';
import { benchVerdicts } from './benchVerdicts';
import { readCpuFeatures } from './cpuFeatures';
import { throwIfCancelled, type JobContext } from './JobContext';
import { loadTokenizer } from './loadTokenizer';

/** Default prompt length and decode steps. */
const DEFAULT_PROMPT = 32;
const DEFAULT_NEW = 32;
/** Decode steps of the separate profiling pass: enough for operator shares, not a whole generation. */
const PROFILE_STEPS = 8;
/** Larger traces are skipped rather than parsed. */

/** One generation: the prefill's time, each decode step's, the greedy tokens and the final cache. */
export interface Generation {
  readonly prefillMs: number;
  readonly decodeMs: readonly number[];
  /** The prefill's token, then one per decode step. */
  readonly tokens: readonly number[];
  readonly cache: Readonly<Record<string, RunTensor>>;
}

const int64 = (values: readonly number[]): RunTensor => ({ type: 'int64', dims: [1, values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });

/** The index of the largest of the last `vocab` logits (float32 or float16). */
function argmaxLast(logits: RunTensor, vocab: number): number {
  const data = logits.data;
  const start = data.length - vocab;
  const value = logits.type === 'float16' ? (i: number): number => halfToFloat(Number(data[i])) : (i: number): number => Number(data[i]);
  if (logits.type !== 'float32' && logits.type !== 'float16') throw new FormatError(`logits are ${logits.type}; generation reads float32 or float16 logits`, { format: 'onnx' });
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) {
    const v = value(start + i);
    if (v > max) {
      max = v;
      best = i;
    }
  }
  return best;
}

/**
 * Greedy decoding on `session`: the prompt in one run against an empty cache, then `newTokens`
 * runs of one token each with the previous run's `present.*` fed back as `past_key_values.*`.
 * Each step is timed with its feeds and the argmax, as a caller of the model would see it.
 */
export async function generateGreedy(session: TimedSession, g: DecoderGraph, prompt: readonly number[], newTokens: number, ctx: JobContext): Promise<Generation> {
  const kvType = g.kvElementBytes === 2 ? 'float16' : 'float32';
  let cache: Record<string, RunTensor> = {};
  for (let i = 0; i < g.layers; i++) {
    const empty: RunTensor = { type: kvType, dims: [1, g.kvHeads, 0, g.headDim], data: kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0) };
    cache[`past_key_values.${i}.key`] = empty;
    cache[`past_key_values.${i}.value`] = empty;
  }
  const tokens: number[] = [];
  const decodeMs: number[] = [];
  let prefillMs = 0;
  let ids: readonly number[] = prompt;
  let past = 0;
  for (let step = 0; step <= newTokens; step++) {
    throwIfCancelled(ctx);
    const t0 = performance.now();
    const feeds: Record<string, RunTensor> = { ...cache, input_ids: int64(ids) };
    if (g.hasAttentionMask) feeds.attention_mask = int64(new Array<number>(past + ids.length).fill(1));
    if (g.hasPositionIds) feeds.position_ids = int64(ids.map((_, j) => past + j));
    const out = await session.run(feeds);
    const logits = out.logits;
    if (!logits) throw new FormatError('the decoder returned no logits', { format: 'onnx' });
    const next = argmaxLast(logits, g.vocabSize);
    const nextCache: Record<string, RunTensor> = {};
    for (let i = 0; i < g.layers; i++) {
      nextCache[`past_key_values.${i}.key`] = out[`present.${i}.key`];
      nextCache[`past_key_values.${i}.value`] = out[`present.${i}.value`];
    }
    const ms = performance.now() - t0;
    if (step === 0) prefillMs = ms;
    else decodeMs.push(ms);
    cache = nextCache;
    past += ids.length;
    tokens.push(next);
    ids = [next];
  }
  return { prefillMs, decodeMs, tokens, cache };
}

/** Bytes of the tensors of a cache. */
function cacheBytes(cache: Readonly<Record<string, RunTensor>>): number {
  return Object.values(cache).reduce((s, t) => s + t.data.byteLength, 0);
}

/** The prompt's ids: the tokenized text, or seeded ids below the smallest vocabulary. */
async function promptIds(params: BenchParams, vocab: number): Promise<{ ids: number[]; from: 'generated' | 'text' }> {
  const gen = params.generate ?? {};
  if (gen.prompt !== undefined) {
    if (!gen.tokenizer) throw new RangeError('a text prompt needs a tokenizer.json to turn it into token ids');
    const tok = await loadTokenizer(gen.tokenizer);
    const ids = tok.encode(gen.prompt);
    if (!ids.length) throw new RangeError(`the prompt gives no tokens with ${basename(gen.tokenizer)}`);
    const over = ids.find((id) => id >= vocab);
    if (over !== undefined) throw new RangeError(`${basename(gen.tokenizer)} gives token id ${over}, beyond the model's vocabulary of ${vocab}`);
    return { ids, from: 'text' };
  }
  const p = gen.promptTokens ?? DEFAULT_PROMPT;
  if (!Number.isInteger(p) || p < 1) throw new RangeError(`the prompt needs at least 1 token, got ${p}`);
  const random = seededRandom(0);
  return { ids: Array.from({ length: p }, () => Math.floor(random() * vocab)), from: 'generated' };
}

/** Operator times of decode steps only: a profiled session generates once, and events of the prefill run are dropped. */
async function profileDecode(path: string, g: DecoderGraph, prompt: readonly number[], params: BenchParams, dir: string, index: number, ctx: JobContext): Promise<ReturnType<typeof summarizeProfile> | undefined> {
  const events = await profiledEvents(path, params, dir, index, (session) => generateGreedy(session, g, prompt, Math.min(PROFILE_STEPS, params.generate?.newTokens ?? DEFAULT_NEW), ctx));
  if (!events) return undefined;
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run' && typeof e.ts === 'number' && typeof e.dur === 'number');
  const first = runs.reduce<ProfileEvent | undefined>((a, e) => (a === undefined || Number(e.ts) < Number(a.ts) ? e : a), undefined);
  const prefillEnd = first ? Number(first.ts) + Number(first.dur) : -Infinity;
  return summarizeProfile(events.filter((e) => e !== first && (typeof e.ts !== 'number' || e.ts >= prefillEnd)));
}

/** p10 and p90 of finite ratios. */
function spread(ratios: readonly number[]): readonly [number, number] {
  const sorted = ratios.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  return [percentile(sorted, 0.1), percentile(sorted, 0.9)];
}

const median = (xs: readonly number[]): number => percentile([...xs].sort((a, b) => a - b), 0.5);
const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

/**
 * Benchmarks generation on `params.models` (decoders with a KV cache): warm-up generations per
 * model, then `runs` rounds in which every model generates once, the starting model rotating.
 * The report's `models` describe the decode step (per-token latencies, decode-step profile) and
 * `generation` the rest. Throws {@link CancelledError} when cancelled.
 */
export async function benchmarkGeneration(params: BenchParams, ctx: JobContext): Promise<BenchReport> {
  if (!params.models.length) throw new RangeError('benchmark needs at least one model');
  const newTokens = params.generate?.newTokens ?? DEFAULT_NEW;
  if (!Number.isInteger(newTokens) || newTokens < 1) throw new RangeError(`generation needs at least 1 new token, got ${newTokens}`);
  const warmup = Math.max(0, params.warmup ?? 1);
  const runs = Math.max(1, params.runs ?? 3);
  const profile = params.profile ?? true;
  const optimization = params.optimizationLevel ?? 'all';
  const threads = params.threads ?? 0;
  const cpu = await readCpuFeatures();
  const n = params.models.length;

  const loaded: { path: string; fileSize: number; bits: number | null; ops: Record<string, number>; graph: DecoderGraph; bytesPerToken: number; levels: number[] }[] = [];
  for (const path of params.models) {
    throwIfCancelled(ctx);
    ctx.progress(`reading ${path}`, 0);
    const model = await OnnxModel.load(path);
    loaded.push({
      path, fileSize: (await stat(path)).size, bits: weightBits(model), ops: graphOps(model), graph: readDecoderGraph(model, basename(path)),
      bytesPerToken: weightBytesPerToken(model), levels: nbitsAccuracyLevels(model),
    });
  }
  const prompt = await promptIds(params, Math.min(...loaded.map((l) => l.graph.vocabSize)));

  const sessions: TimedSession[] = [];
  const createMs: number[] = [];
  const peakRss: number[] = [];
  const rounds: Generation[][] = loaded.map(() => []);
  try {
    for (let m = 0; m < n; m++) {
      throwIfCancelled(ctx);
      ctx.progress(`creating session ${m + 1}/${n}`, 0);
      const t0 = performance.now();
      sessions.push(await openTimedSession(loaded[m].path, { ...(threads ? { threads } : {}), optimization }));
      createMs.push(performance.now() - t0);
      for (let w = 0; w < warmup; w++) {
        ctx.progress(`warm-up ${w + 1}/${warmup} of model ${m + 1}/${n}`, 0);
        await generateGreedy(sessions[m], loaded[m].graph, prompt.ids, newTokens, ctx);
      }
      // maxRSS is per process and never falls, so later models include earlier ones; after a warm-up it covers a whole generation's cache.
      peakRss.push(process.resourceUsage().maxRSS * 1024);
    }
    const budget = params.timeBudgetMs ?? Infinity;
    const start = performance.now();
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < n; k++) {
        const m = (r + k) % n;
        rounds[m].push(await generateGreedy(sessions[m], loaded[m].graph, prompt.ids, newTokens, ctx));
      }
      ctx.progress(`round ${r + 1}/${runs}`, (r + 1) / runs);
      if (performance.now() - start > budget) break;
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  // The last model's figure is the process's peak over every generation.
  peakRss[n - 1] = Math.max(peakRss[n - 1], process.resourceUsage().maxRSS * 1024);

  const profiles: (ReturnType<typeof summarizeProfile> | undefined)[] = [];
  if (profile) {
    const dir = await mkdtemp(join(tmpdir(), 'quantscope-bench-'));
    try {
      for (let m = 0; m < n; m++) {
        throwIfCancelled(ctx);
        ctx.progress(`profiling decode ${m + 1}/${n}`, undefined);
        profiles.push(await profileDecode(loaded[m].path, loaded[m].graph, prompt.ids, params, dir, m, ctx));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const P = prompt.ids.length;
  const generations: ModelGeneration[] = loaded.map((l, m) => {
    const gens = rounds[m];
    const last = gens[gens.length - 1];
    const tokenMs = Array.from({ length: newTokens }, (_, i) => median(gens.map((g) => g.decodeMs[i])));
    const perToken = median(gens.flatMap((g) => g.decodeMs));
    const g = l.graph;
    return {
      path: l.path,
      decoder: { layers: g.layers, kvHeads: g.kvHeads, headDim: g.headDim, vocabSize: g.vocabSize, kvElementBytes: g.kvElementBytes },
      prefillSamples: gens.map((x) => x.prefillMs),
      prefillMs: latencyStats(gens.map((x) => x.prefillMs)).stats,
      tokenMs,
      decodeTokensPerSec: perToken > 0 ? 1000 / perToken : 0,
      tokens: gens[0].tokens,
      kvCacheBytes: cacheBytes(last.cache),
      kvCacheBytesComputed: 2 * g.layers * g.kvHeads * g.headDim * g.kvElementBytes * (P + newTokens),
      weightBytesPerToken: l.bytesPerToken,
      nbitsAccuracyLevels: l.levels,
    };
  });
  const models: ModelBench[] = loaded.map((l, m) => {
    const samples = rounds[m].flatMap((g) => g.decodeMs);
    const { stats, cv } = latencyStats(samples);
    const p = profiles[m];
    return {
      path: l.path, fileSize: l.fileSize, bitsPerWeight: l.bits, graphOps: l.ops,
      sessionCreateMs: createMs[m], latencyMs: stats, samples,
      throughputPerSec: stats.p50 > 0 ? 1000 / stats.p50 : 0, cv,
      peakRssBytes: peakRss[m],
      opTimes: p?.opTimes ?? [], quantDequantShare: p?.quantDequantShare ?? 0,
      ...(p?.kernels.length ? { kernels: p.kernels } : {}),
    };
  });
  const done = Math.min(...rounds.map((r) => r.length));
  const perRound = (m: number, f: (g: Generation) => number): number[] => rounds[m].slice(0, done).map(f);
  const genComparisons: GenerationComparison[] = [];
  const comparisons: BenchComparison[] = [];
  for (let b = 1; b < n; b++) {
    const ta = generations[0].tokens, tb = generations[b].tokens;
    let diverge: number | null = null;
    for (let i = 0; i < Math.max(ta.length, tb.length); i++) {
      if (ta[i] !== tb[i]) {
        diverge = i;
        break;
      }
    }
    const decodeA = perRound(0, (g) => mean(g.decodeMs)), decodeB = perRound(b, (g) => mean(g.decodeMs));
    const prefillA = perRound(0, (g) => g.prefillMs), prefillB = perRound(b, (g) => g.prefillMs);
    const decodeSpread = spread(decodeA.map((x, r) => x / decodeB[r]));
    genComparisons.push({
      a: loaded[0].path, b: loaded[b].path,
      prefillRatio: generations[0].prefillMs.p50 / generations[b].prefillMs.p50,
      prefillSpread: spread(prefillA.map((x, r) => x / prefillB[r])),
      decodeRatio: models[0].latencyMs.p50 / models[b].latencyMs.p50,
      decodeSpread,
      tokensAgree: diverge === null, firstDivergence: diverge,
    });
    comparisons.push({ a: loaded[0].path, b: loaded[b].path, ratioOfMedians: models[0].latencyMs.p50 / models[b].latencyMs.p50, spread: decodeSpread });
  }
  const partial = {
    cpu, models, comparisons,
    settings: {
      threads, warmup, runs, rounds: done, optimizationLevel: optimization, profile,
      inputs: { input_ids: [1, P] }, inputsFrom: 'generated' as const,
      runtime: runtimeVersion(), timeBudgetMs: params.timeBudgetMs ?? null,
    },
    generation: { promptTokens: P, newTokens, promptFrom: prompt.from, prompt: prompt.ids, models: generations, comparisons: genComparisons },
  };
  return { ...partial, verdicts: benchVerdicts(partial) };
}
