/**
 * A safetensors file that declares large float32 tensors whose data are holes in a sparse file
 * (they read as zeros and take no disk), and a run of the CLI in a child process that reports its
 * own peak RSS: together they show that `stats` streams, for the stats test and bench.
 */
import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { safetensorsHeader } from '../../../src/core/formats/safetensors/safetensorsWriter';
import { repoRoot } from './paths';

/** Tensor names of {@link writeSparseSafetensors}'s files, one per tensor asked for. */
export function sparseTensorNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `model.layers.${i}.mlp.up_proj.weight`);
}

/** Writes the header of `count` F32 tensors of `shape` and extends the file to its declared length without writing the data; returns that length. */
export function writeSparseSafetensors(path: string, count: number, shape: readonly [number, number]): number {
  const header = safetensorsHeader(sparseTensorNames(count).map((name) => ({ name, dtype: 'F32' as const, shape })));
  const total = header.length + count * shape[0] * shape[1] * 4;
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    ftruncateSync(fd, total);
  } finally {
    closeSync(fd);
  }
  return total;
}

/** What {@link runCliWithPeak} saw. */
export interface CliPeak {
  readonly stdout: string;
  readonly code: number | null;
  /** The child's peak resident set in bytes, from getrusage as it exits. */
  readonly maxRss: number;
}

/**
 * Runs the built CLI (`dist/cli.js`) with `args` in a child process. A module preloaded into it
 * (written beside `scratch`) reports its peak RSS as it exits, whatever ends it, so the figure is
 * the CLI's own and not the caller's.
 */
export function runCliWithPeak(args: readonly string[], scratch: string): Promise<CliPeak> {
  const preload = join(dirname(scratch), 'peak-rss.cjs');
  writeFileSync(preload, "process.on('exit', () => require('node:fs').writeSync(2, `\\npeak-rss-kib ${process.resourceUsage().maxRSS}\\n`));\n");
  const child = spawn(process.execPath, ['--require', preload, join(repoRoot(), 'dist', 'cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /peak-rss-kib (\d+)/.exec(stderr);
      if (!m) reject(new Error(`the CLI reported no peak; stderr: ${stderr}`));
      else resolve({ stdout, code, maxRss: Number(m[1]) * 1024 });
    });
  });
}
