/**
 * A seeded uniform generator on [0, 1) (mulberry32): small and fast, and reproducible from a seed,
 * which Math.random cannot be. The engine's searches and synthetic inputs, the tests and the
 * benchmarks all draw from this one generator, so a seed means the same stream everywhere.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal samples from {@link seededRandom} by the Box–Muller transform (two uniforms per
 * sample; the first is clamped away from 0 so the logarithm stays finite).
 */
export function seededNormal(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(Math.max(u(), 1e-300))) * Math.cos(2 * Math.PI * u());
}
