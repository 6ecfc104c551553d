/**
 * The knobs every fuzz test shares: a base seed and an iteration count, both from the environment
 * so that a failure found by a long run can be replayed exactly, and so that CI and a nightly run
 * are the same code at different sizes.
 */

/** Seed and size of a fuzz run. */
export interface FuzzSettings {
  /** `QUANTSCOPE_FUZZ_SEED` (decimal or 0x hex), or a fixed default so CI is reproducible. */
  readonly seed: number;
  /** `QUANTSCOPE_FUZZ_ITERATIONS`: mutants per fixture and random cases per writer. */
  readonly iterations: number;
  /** True when the iteration count was raised above the CI default. */
  readonly long: boolean;
}

const DEFAULT_SEED = 0x5eed;
/** Keeps the whole fuzz file well under half a minute on two shared cores. */
export const DEFAULT_FUZZ_ITERATIONS = 20;

function parseInteger(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = /^0x[0-9a-f]+$/i.test(raw) ? Number.parseInt(raw.slice(2), 16) : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** The settings of this run, read once from the environment. */
export function fuzzSettings(): FuzzSettings {
  const seed = parseInteger('QUANTSCOPE_FUZZ_SEED', DEFAULT_SEED) >>> 0;
  const iterations = Math.max(1, parseInteger('QUANTSCOPE_FUZZ_ITERATIONS', DEFAULT_FUZZ_ITERATIONS));
  return { seed, iterations, long: iterations > DEFAULT_FUZZ_ITERATIONS };
}

/**
 * A 32-bit seed for one case, mixed from the base seed, a label and an index: each case is
 * independent of how many came before it, so replaying case 5301 needs only the base seed.
 */
export function caseSeed(base: number, label: string, index: number): number {
  // FNV-1a over the label, then a murmur-style finalizer over everything.
  let h = 0x811c9dc5 ^ base;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ index, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The words a failure message ends with, so whoever reads it can run the same case again. */
export function replayHint(settings: FuzzSettings, index: number): string {
  return `replay: QUANTSCOPE_FUZZ_SEED=0x${settings.seed.toString(16)} QUANTSCOPE_FUZZ_ITERATIONS=${Math.max(index + 1, settings.iterations)}`;
}
