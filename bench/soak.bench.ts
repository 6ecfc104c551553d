/**
 * A soak run of one real worker process (`dist/worker.js`, started by the extension's own
 * WorkerClient): 200 models in a row, each opened (`inspect`), profiled (`profileWeights`, kept
 * under a key as the editor does) and then dropped, never named again. Every model is a file of
 * its own (copies of the ONNX test fixtures and generated safetensors of varied shapes and
 * dtypes), so a cache keyed by path that never forgets would show here. Prints the worker's RSS,
 * heap and open file descriptors (/proc/PID/fd) before any model, after a warm-up of as many
 * other models and after the run, each taken after a full garbage collection (`--expose-gc`),
 * and the ratios.
 * Goal: memory after within 10% of before, no descriptor more. A benchmark: it prints, it does not assert.
 *   npm run bench -- soak [--models=200] [--warmup=200]
 */
import { copyFileSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerClient, type WorkerLog } from '../src/extension/client/WorkerClient';
import { writeSafetensors, type SafetensorsTensor } from '../src/core/formats/safetensors/safetensorsWriter';
import { seededNormal } from '../src/core/random/seededRandom';
import type { WorkerMemory } from '../src/protocol/workerProtocol';
import { ratio, repoRoot, withTempDirAsync } from './support/benchSupport';

/** The goal: memory after the run at most this times memory before. */
const GOAL = 1.1;

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const v = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

const ONNX_FIXTURES = ['constants.onnx', 'subgraph.onnx', 'transformer.onnx', 'typed.onnx', 'external.onnx'];
const DTYPES = ['F32', 'F16', 'BF16'] as const;

/** Float32 bits to the top half (bf16) or an IEEE half (f16, round-to-nearest without subnormal care: values are small normals). */
function encode(values: Float32Array, dtype: (typeof DTYPES)[number]): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = bits[i];
    if (dtype === 'BF16') {
      out[i] = b >>> 16;
    } else {
      const sign = (b >>> 16) & 0x8000;
      const exp = ((b >>> 23) & 0xff) - 127 + 15;
      const mant = (b >>> 13) & 0x3ff;
      out[i] = exp <= 0 ? sign : exp >= 31 ? sign | 0x7c00 : sign | (exp << 10) | mant;
    }
  }
  return new Uint8Array(out.buffer);
}

/** Model `i`: a copy of an ONNX fixture for every fifth, else a seeded safetensors file whose shapes and dtype vary with `i`. */
async function writeModel(dir: string, i: number): Promise<string> {
  if (i % 5 === 0) {
    const fixture = ONNX_FIXTURES[(i / 5) % ONNX_FIXTURES.length];
    const fixtures = join(repoRoot(), 'test', 'fixtures', 'onnx');
    // external.onnx names its data file by a fixed name, so each copy gets a folder of its own.
    const folder = join(dir, `m${i}`);
    mkdirSync(folder);
    copyFileSync(join(fixtures, fixture), join(folder, fixture));
    if (fixture === 'external.onnx') copyFileSync(join(fixtures, 'external.onnx.data'), join(folder, 'external.onnx.data'));
    return join(folder, fixture);
  }
  const normal = seededNormal(1000 + i);
  const dtype = DTYPES[i % DTYPES.length];
  const layers = 1 + (i % 4);
  const width = 64 * (1 + (i % 6));
  const tensors: SafetensorsTensor[] = [];
  for (let l = 0; l < layers; l++) {
    const rows = 32 * (1 + ((i + l) % 8));
    const values = new Float32Array(rows * width);
    for (let k = 0; k < values.length; k++) values[k] = 0.05 * normal();
    tensors.push({ name: `model.layers.${l}.mlp.weight`, dtype, shape: [rows, width], data: encode(values, dtype) });
    tensors.push({ name: `model.layers.${l}.norm.weight`, dtype: 'F32', shape: [width], data: encode(new Float32Array(width).fill(1), 'F32') });
  }
  const path = join(dir, `m${i}.safetensors`);
  await writeSafetensors(path, tensors);
  return path;
}

/** The worker's open descriptors by what they point at (`anon_inode:[eventfd]`, a path, `socket:[…]` with the inode cut). */
function openFds(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).flatMap((fd) => {
    try {
      return [readlinkSync(join(dir, fd)).replace(/:\[\d+\]$/, '')];
    } catch {
      // The descriptor of the listing itself is gone by the time it is read.
      return [];
    }
  });
}

/** What `after` holds more of than `before`, as `target ×n`. */
function grown(before: readonly string[], after: readonly string[]): string {
  const count = new Map<string, number>();
  for (const t of after) count.set(t, (count.get(t) ?? 0) + 1);
  for (const t of before) count.set(t, (count.get(t) ?? 0) - 1);
  return [...count].filter(([, n]) => n > 0).map(([t, n]) => `${t} ×${n}`).join(', ') || 'none';
}

interface Snapshot {
  readonly memory: WorkerMemory;
  readonly fds: string[];
}

async function snapshot(client: WorkerClient): Promise<Snapshot> {
  // Twice: the first collection may leave finalizers whose objects the second frees.
  await client.request('memoryUsage', { collect: true });
  const memory = await client.request('memoryUsage', { collect: true });
  const pid = client.pid;
  if (pid === undefined) throw new Error('the worker is not running');
  return { memory, fds: openFds(pid) };
}

const mib = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MiB`;

function line(label: string, s: Snapshot): string {
  const m = s.memory;
  return `${label.padEnd(22)} rss ${mib(m.rss).padStart(10)}  heap used ${mib(m.heapUsed).padStart(9)} of ${mib(m.heapTotal).padStart(9)}  external ${mib(m.external).padStart(9)}  fds ${s.fds.length}`;
}

async function main(): Promise<void> {
  const count = option('models', 200);
  // Models run before the baseline. The first ones load code and ONNX Runtime, and V8 grows its
  // reserved heap (not the live objects) under the profiles' allocation rate for some 150 more;
  // none of that repeats, so the baseline is taken once it has settled.
  const WARMUP = option('warmup', 200);
  const lines: string[] = [];
  const log: WorkerLog = { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
  const client = new WorkerClient(join(repoRoot(), 'dist', 'worker.js'), log, () => undefined, () => ({ nodeFlags: ['--expose-gc'] }));
  try {
    await withTempDirAsync('quantscope-bench-soak-', async (dir) => {
      const models: string[] = [];
      for (let i = 0; i < WARMUP + count; i++) models.push(await writeModel(dir, i));
      const cold = await snapshot(client);
      if (!cold.memory.collected) throw new Error('the worker did not collect garbage: it was not started with --expose-gc');
      let tensors = 0;
      const run = async (path: string): Promise<void> => {
        await client.request('inspect', { path });
        const profile = await client.request('profileWeights', { path, keepAs: `soak:${path}` });
        tensors += profile.tensors.length;
      };
      console.log(`one worker (pid ${client.pid ?? '?'}): ${count} models, each opened, profiled and dropped, after ${WARMUP} for warm-up; figures after a full GC`);
      console.log(line('cold (no model yet)', cold));
      for (let i = 0; i < WARMUP; i++) {
        await run(models[i]);
        if (i + 1 === 10 && WARMUP > 10) console.log(line('after 10 (warm-up)', await snapshot(client)));
      }
      const before = await snapshot(client);
      console.log(line(`before (after ${WARMUP})`, before));
      tensors = 0;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        await run(models[WARMUP + i]);
        if ((i + 1) % 100 === 0 && i + 1 < count) console.log(line(`after ${i + 1}`, await snapshot(client)));
      }
      const seconds = (performance.now() - t0) / 1000;
      const after = await snapshot(client);
      console.log(line(`after ${count}`, after));
      const rss = after.memory.rss / before.memory.rss;
      const heap = after.memory.heapUsed / before.memory.heapUsed;
      console.log(`${count} models (${tensors} tensors profiled in all) in ${seconds.toFixed(1)} s`);
      console.log(`rss after/before ${ratio(after.memory.rss, before.memory.rss, 3)}, heap used after/before ${ratio(after.memory.heapUsed, before.memory.heapUsed, 3)}, fds ${before.fds.length} → ${after.fds.length} (new: ${grown(before.fds, after.fds)}; since cold: ${grown(cold.fds, after.fds)})`);
      const met = rss <= GOAL && heap <= GOAL && after.fds.length <= before.fds.length;
      console.log(`goal: memory after within ${Math.round((GOAL - 1) * 100)}% of before, no fd growth: ${met ? 'met' : 'MISSED'}`);
    });
  } finally {
    await client.stopped();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
