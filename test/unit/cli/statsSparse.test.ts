/**
 * `quantscope stats` streams: over a safetensors file that declares 6 GiB of float32 weights
 * (three 2 GiB tensors whose data are holes in a sparse file, so they read as zeros and take no
 * disk), the CLI process's peak resident memory stays under 1 GiB. The CLI runs in a child
 * process of its own so that its peak is not this test runner's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { safetensorsHeader } from '../../../src/core/formats/safetensors/safetensorsWriter';
import type { WeightProfile } from '../../../src/protocol/workerProtocol';
import { repoRoot } from '../support/paths';

const GiB = 1024 ** 3;
const SHAPE = [16384, 32768] as const;
const TENSORS = ['model.layers.0.mlp.up_proj.weight', 'model.layers.0.mlp.down_proj.weight', 'lm_head.weight'];
const dir = mkdtempSync(join(tmpdir(), 'quantscope-sparse-stats-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the header and extends the file to its declared length without writing the data. */
function writeSparseSafetensors(path: string): number {
  const header = safetensorsHeader(TENSORS.map((name) => ({ name, dtype: 'F32' as const, shape: SHAPE })));
  const total = header.length + TENSORS.length * SHAPE[0] * SHAPE[1] * 4;
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    ftruncateSync(fd, total);
  } finally {
    closeSync(fd);
  }
  return total;
}

/** Runs the CLI with `args`; resolves with its stdout, exit code and peak RSS in bytes (from the process itself, as it exits). */
function runCli(args: readonly string[]): Promise<{ stdout: string; code: number | null; maxRss: number }> {
  // Preloaded into the child: reports getrusage's peak as the process exits, whatever ends it.
  const preload = join(dir, 'peak.cjs');
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
      if (!m) reject(new Error(`no peak reported; stderr: ${stderr}`));
      else resolve({ stdout, code, maxRss: Number(m[1]) * 1024 });
    });
  });
}

test('stats over a sparse 6 GiB safetensors file: every tensor profiled (all zeros), peak RSS under 1 GiB', { skip: process.platform !== 'linux' && 'relies on sparse files and getrusage in KiB' }, async () => {
  const path = join(dir, 'sparse.safetensors');
  const declared = writeSparseSafetensors(path);
  assert.ok(declared > 6 * GiB);
  // Holes: the file takes almost no disk, so this runs wherever /tmp has a little room.
  assert.ok(statSync(path).blocks * 512 < 1024 * 1024, 'the file is sparse');
  const { stdout, code, maxRss } = await runCli(['stats', path, '--json']);
  console.log(`stats over ${(declared / GiB).toFixed(2)} GiB declared: peak RSS ${(maxRss / 1024 ** 2).toFixed(0)} MiB`);
  assert.equal(code, 0, stdout);
  const profile = JSON.parse(stdout) as WeightProfile;
  assert.deepEqual(profile.tensors.map((t) => t.name).sort(), [...TENSORS].sort());
  for (const t of profile.tensors) {
    assert.equal(t.error, undefined, t.error);
    assert.equal(t.stats?.count, SHAPE[0] * SHAPE[1]);
    assert.equal(t.stats?.absmax, 0);
  }
  assert.ok(maxRss < GiB, `peak RSS ${maxRss} bytes`);
});
