/**
 * What every benchmark needs around the code it measures: the repository root, the numpy
 * reference run in a Python of its own, wall-clock timing, temporary folders and ratio printing.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The same root the tests use: benchmarks and tests run from anywhere inside the checkout.
import { repoRoot } from '../../test/unit/support/paths';

export { repoRoot };
export { seededNormal, seededRandom } from '../../src/core/random/seededRandom';

/** A Python with numpy: $PYTHON, else Debian's system Python, else whatever python3 is on PATH. */
export function python(): string {
  return process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/**
 * Runs `bench/<script>` with {@link python} and the given arguments, synchronously, capturing
 * UTF-8 output. OpenBLAS tuning meant for other tools must not steer numpy's BLAS, so
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this command alone.
 */
export function runPython(script: string, args: readonly string[]): SpawnSyncReturns<string> {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return spawnSync(python(), [join(repoRoot(), 'bench', script), ...args], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
}

/** The last line of a failed command's standard error, for a one-line report. */
export function lastErrorLine(r: SpawnSyncReturns<string>): string {
  return r.stderr.trim().split('\n').pop() ?? '';
}

/** Runs `f` once and returns its value and wall-clock time in ms. */
export function time<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

/** The fastest of `runs` runs of `f` (at least one), with its value. */
export function best<T>(runs: number, f: () => T): { value: T; ms: number } {
  let out = time(f);
  for (let i = 1; i < runs; i++) {
    const t = time(f);
    if (t.ms < out.ms) out = t;
  }
  return out;
}

/** The upper median of `values` (the element at ⌊n/2⌋ in sorted order); `values` is not changed. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** `numerator / denominator` with `digits` decimals, as the benchmarks print their ratios. */
export function ratio(numerator: number, denominator: number, digits = 2): string {
  return (numerator / denominator).toFixed(digits);
}

/** Calls `f` with a new temporary folder named after `prefix`, removed afterwards whatever happens. */
export function withTempDir<T>(prefix: string, f: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** {@link withTempDir} for asynchronous work: the folder is removed once `f`'s promise settles. */
export async function withTempDirAsync<T>(prefix: string, f: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
