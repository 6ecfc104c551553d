/**
 * What every benchmark needs around the code it measures: the repository root, the numpy
 * reference run in a Python of its own (found by probing for numpy), wall-clock timing, temporary folders and ratio printing.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The same root the tests use: benchmarks and tests run from anywhere inside the checkout.
import { repoRoot } from '../../test/unit/support/paths';

export { repoRoot };
export { seededNormal, seededRandom } from '../../src/core/random/seededRandom';

/**
 * The thread count of our kernels in these benchmarks (they run on one JavaScript thread). The
 * peers' BLAS gets the same, so that a ratio compares algorithms rather than core counts.
 */
export const PEER_THREADS = 1;

/** The environment of a peer run: BLAS threads pinned, and OpenBLAS tuning meant for other tools removed. */
function peerEnv(threads: number): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  for (const name of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']) env[name] = String(threads);
  return env;
}

let probed: { python: string | undefined; tried: string[] } | undefined;

/** The interpreters tried for numpy, in order: $PYTHON, python3 on PATH, Debian's /usr/bin/python3. */
function candidates(): string[] {
  return [...new Set([process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => Boolean(p)))];
}

/** The first of {@link candidates} where `import numpy` works (probed once), or undefined. */
export function numpyPython(): string | undefined {
  if (!probed) {
    const tried: string[] = [];
    let found: string | undefined;
    for (const p of candidates()) {
      tried.push(p);
      const r = spawnSync(p, ['-c', 'import numpy'], { encoding: 'utf8', env: peerEnv(PEER_THREADS), timeout: 60_000 });
      if (r.status === 0) {
        found = p;
        break;
      }
    }
    probed = { python: found, tried };
  }
  return probed.python;
}

/** The Python the numpy peers run with, for messages ("none" when no candidate imports numpy). */
export function python(): string {
  return numpyPython() ?? 'none';
}

/**
 * Runs `bench/<script>` with {@link numpyPython} and the given arguments, synchronously,
 * capturing UTF-8 output, with the peer's BLAS pinned to `threads`. When no Python imports numpy
 * the result has status 127 and says which interpreters were tried, so callers report the peer
 * as missing.
 */
export function runPython(script: string, args: readonly string[], { threads = PEER_THREADS }: { threads?: number } = {}): SpawnSyncReturns<string> {
  const py = numpyPython();
  if (!py) {
    const stderr = `no Python with numpy (tried ${probed?.tried.join(', ')}; set PYTHON)`;
    return { pid: 0, output: [null, '', stderr], stdout: '', stderr, status: 127, signal: null };
  }
  return spawnSync(py, [join(repoRoot(), 'bench', script), ...args], { encoding: 'utf8', env: peerEnv(threads), maxBuffer: 1 << 24 });
}

/** Why a peer run gave no figures, for a one-line report: "missing (…)" or "failed: …". */
export function peerProblem(r: SpawnSyncReturns<string>): string {
  return r.status === 127 ? `missing (${lastErrorLine(r)})` : `failed: ${lastErrorLine(r)}`;
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
