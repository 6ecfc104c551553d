import {
  KV_PRECISIONS,
  WEIGHT_PRECISIONS,
  type FitRow,
  type KvPrecision,
  type MemoryCurve,
  type MemoryPlan,
  type MemorySettings,
  type ModelArchitecture,
  type WeightPrecision,
} from '../../protocol/servingTypes';
import { activationEstimate } from './activationEstimate';
import { kvPerLayer, kvSequenceBytes } from './kvCache';
import { weightCost } from './weightCosts';
import { weightInventory } from './weightInventory';

/** The context length a plan uses when neither the settings nor the model give one. */
export const FALLBACK_CONTEXT = 4096;
/** Batch sizes the chart draws. */
export const CURVE_BATCHES = [1, 8, 32] as const;
/** Weight and KV precisions the chart draws besides the chosen pair. */
const CURVE_PAIRS: readonly (readonly [WeightPrecision, KvPrecision])[] = [['float16', 'fp16'], ['int8', 'fp8'], ['int4', 'int8']];

/** The settings a plan uses when the user gives none (24 GiB, float16 weights and cache, vLLM's 16-token blocks). */
export function defaultMemorySettings(a: ModelArchitecture, given: Partial<MemorySettings> = {}): MemorySettings {
  return {
    budgetBytes: given.budgetBytes ?? 24 * 2 ** 30,
    weights: given.weights ?? 'float16',
    kv: given.kv ?? 'fp16',
    blockSize: given.blockSize ?? 16,
    contextLength: given.contextLength ?? a.contextLength ?? FALLBACK_CONTEXT,
    prefillTokens: given.prefillTokens ?? 2048,
    int4GroupSize: given.int4GroupSize ?? 128,
  };
}

/** Context lengths from 512 by doubling up to `max`, and `max` itself. */
function contexts(max: number): number[] {
  const out: number[] = [];
  for (let c = 512; c < max; c *= 2) out.push(c);
  out.push(max);
  return out;
}

/** The longest context (≤ `cap`) whose cache fits `available` bytes, by bisection: the cache only grows with the context. */
function longestContext(a: ModelArchitecture, kv: KvPrecision, blockSize: number, available: number, cap: number): number {
  if (available < kvSequenceBytes(a, kv, 1, blockSize)) return 0;
  let lo = 1;
  let hi = cap;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (kvSequenceBytes(a, kv, mid, blockSize) <= available) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Plans serving memory for a decoder: its weights at every precision, its KV cache per token and
 * per sequence at every cache type, the activations of one prefill step, and with the chosen
 * precisions how many sequences of each context length fit the budget (weights and the
 * flash-attention activation estimate come off first), plus the chart's curves.
 */
export function planMemory(a: ModelArchitecture, given: Partial<MemorySettings> = {}): MemoryPlan {
  const settings = defaultMemorySettings(a, given);
  const warnings: string[] = [...a.notes];
  if (a.contextLength === undefined && given.contextLength === undefined) warnings.push(`no context length known; ${FALLBACK_CONTEXT} tokens assumed`);
  if (a.contextLength !== undefined && settings.contextLength > a.contextLength) warnings.push(`context ${settings.contextLength} is longer than the model's ${a.contextLength}`);
  const groups = weightInventory(a);
  const total = groups.reduce((s, g) => s + g.parameters, 0);
  const active = groups.reduce((s, g) => s + g.activeParameters, 0);
  if (a.countedParameters !== undefined && a.countedParameters !== total) {
    warnings.push(`the weights hold ${a.countedParameters.toLocaleString('en-US')} parameters; the architecture accounts for ${total.toLocaleString('en-US')}`);
  }
  const weights = WEIGHT_PRECISIONS.map((p) => weightCost(groups, p, settings.int4GroupSize));
  const kv = KV_PRECISIONS.map((p) => {
    const layer = kvPerLayer(a, p);
    return { precision: p, bytesPerToken: a.numLayers * (layer.values + layer.scales), scaleBytesPerToken: a.numLayers * layer.scales, bytesPerSequence: kvSequenceBytes(a, p, settings.contextLength) };
  });
  const activations = activationEstimate(a, settings.prefillTokens);
  const weightBytes = (p: WeightPrecision): number => weights.find((w) => w.precision === p)?.bytes ?? 0;
  const fixedBytes = weightBytes(settings.weights) + activations.flashBytes;
  const available = settings.budgetBytes - fixedBytes;
  if (available <= 0) warnings.push(`the ${settings.weights} weights and activations alone need more than the budget`);
  const contextList = contexts(settings.contextLength);
  const fits: FitRow[] = contextList.map((c) => {
    const bytes = kvSequenceBytes(a, settings.kv, c, settings.blockSize);
    return { contextLength: c, kvBytesPerSequence: bytes, pagingWasteBytes: bytes - kvSequenceBytes(a, settings.kv, c), maxBatch: available > 0 ? Math.floor(available / bytes) : 0 };
  });
  const pairs = CURVE_PAIRS.some(([w, k]) => w === settings.weights && k === settings.kv) ? CURVE_PAIRS : [[settings.weights, settings.kv] as const, ...CURVE_PAIRS];
  const curves: MemoryCurve[] = pairs.flatMap(([w, k]) => CURVE_BATCHES.map((batch) => ({
    weights: w,
    kv: k,
    batch,
    bytes: contextList.map((c) => weightBytes(w) + activations.flashBytes + batch * kvSequenceBytes(a, k, c, settings.blockSize)),
  })));
  return {
    architecture: a,
    settings,
    parameters: { total, active, embedding: groups.find((g) => g.role === 'embedding')?.parameters ?? 0 },
    groups,
    weights,
    kv,
    activations,
    fixedBytes,
    fits,
    maxContextAtBatch1: available > 0 ? longestContext(a, settings.kv, settings.blockSize, available, Math.max(settings.contextLength, a.contextLength ?? 0)) : 0,
    curveContexts: contextList,
    curves,
    warnings,
  };
}
