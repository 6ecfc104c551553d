/**
 * A full disk during the writes of quantize, prune and export, on a real small tmpfs (the tests
 * run as root), through the worker client and the real worker process.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { atomicWrite, DiskFullError } from '../../../../src/core/io/atomicWrite';
import { WorkerClient, WorkerRequestError } from '../../../../src/extension/client/WorkerClient';
import { repoRoot } from '../../support/paths';
import { writeTinyLlamaFolder } from '../../support/tinyLlamaFolder';
import { writeWideMlp } from '../../support/wideMlp';

const WORKER = join(repoRoot(), 'dist', 'worker.js');
const scratch = mkdtempSync(join(tmpdir(), 'quantscope-disk-full-'));
const disk = join(scratch, 'disk');
let mounted = false;
let mountError = '';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const client = new WorkerClient(WORKER, quiet);

before(async () => {
  mkdirSync(disk);
  try {
    // 40 MiB: room for the sources, and a filler file decides how much is left for an output.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', disk], { stdio: 'pipe' });
    mounted = true;
  } catch (e) {
    mountError = e instanceof Error ? e.message : String(e);
    return;
  }
  await writeWideMlp(join(scratch, 'wide.onnx'), 768, 6);
  mkdirSync(join(disk, 'mlp'));
  copyFileSync(join(scratch, 'wide.onnx'), join(disk, 'mlp', 'wide.onnx'));
  await writeTinyLlamaFolder(join(disk, 'llama'));
});

after(async () => {
  await client.stopped();
  if (mounted) execFileSync('umount', [disk], { stdio: 'pipe' });
  rmSync(scratch, { recursive: true, force: true });
});

function free(): number {
  const s = statfsSync(disk);
  return s.bavail * s.bsize;
}

/** Fills the tmpfs until `left` bytes are free (a whole number of pages). */
function leaveFree(left: number): void {
  rmSync(join(disk, 'filler'), { force: true });
  const size = free() - left;
  assert.ok(size > 0, `the tmpfs has only ${free()} bytes free`);
  writeFileSync(join(disk, 'filler'), Buffer.alloc(size));
  assert.equal(free(), left);
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

function skipUnlessMounted(t: TestContext): boolean {
  if (mounted) return false;
  t.skip(`mount -t tmpfs was refused (${mountError.split('\n')[0]}), so no disk can be filled here`);
  return true;
}

/** The figures a disk-full message gives. */
function figures(message: string, output: RegExp): { needed: number; free: number } {
  const m = /^no space left on the device for (.+): it needs (\d+) bytes, and (\d+) bytes were free on its file system when the write began$/.exec(message);
  assert.ok(m, `a disk-full message, got: ${message}`);
  assert.match(m[1], output);
  return { needed: Number(m[2]), free: Number(m[3]) };
}

const PAGE = 4096;
const jobs = [
  {
    kind: 'quantize', dir: 'mlp', source: 'mlp/wide.onnx', output: /\/mlp\/wide\.q8\.onnx$/, left: 64 * PAGE,
    run: () => client.request('quantize', { path: join(disk, 'mlp', 'wide.onnx'), method: 'rtn', bits: 8, format: 'qdq' }).then((r) => [r.output]),
  },
  {
    kind: 'prune', dir: 'mlp', source: 'mlp/wide.onnx', output: /\/mlp\/wide\.pruned\.onnx$/, left: 256 * PAGE,
    run: () => client.request('prune', { path: join(disk, 'mlp', 'wide.onnx'), method: 'magnitude', sparsity: 0.5 }).then((r) => [r.output]),
  },
  {
    kind: 'export', dir: 'llama', source: 'llama/model.safetensors', output: /\/llama\/model\.onnx$/, left: 128 * PAGE,
    run: () => client.request('exportDecoder', { path: join(disk, 'llama') }).then((r) => [r.output, ...(r.dataFile ? [r.dataFile] : [])]),
  },
] as const;

for (const job of jobs) {
  test(`disk full during the ${job.kind} write (a 40 MiB tmpfs): the temporary file is removed, the source untouched, the error gives the bytes needed and free`, async (t) => {
    if (skipUnlessMounted(t)) return;
    leaveFree(job.left);
    const dir = join(disk, job.dir);
    const before = listing(dir);
    const sourceHash = sha(join(disk, job.source));
    const error = await job.run().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof WorkerRequestError, `the job failed, got ${String(error)}`);
    console.log(`${job.kind}: ${error.message}`);
    const { needed, free: freeThen } = figures(error.message, job.output);
    assert.equal(freeThen, job.left);
    assert.ok(needed > freeThen);
    assert.deepEqual(listing(dir), before, 'no temporary file or output remains');
    assert.equal(sha(join(disk, job.source)), sourceHash);
    assert.equal(free(), job.left, 'the space the write took is free again');
    // With room, the same job writes exactly the bytes the message said it needed.
    rmSync(join(disk, 'filler'));
    const written = await job.run();
    const bytes = written.reduce((n, p) => n + statSync(p).size, 0);
    for (const p of written) rmSync(p);
    assert.equal(bytes, needed);
  });
}

test('disk full under the atomic writer itself (no size announced): the figure is what it had written plus the chunk that failed', async (t) => {
  if (skipUnlessMounted(t)) return;
  leaveFree(16 * PAGE);
  const target = join(disk, 'blob.bin');
  const chunk = new Uint8Array(10 * PAGE);
  await assert.rejects(atomicWrite(target, [chunk, chunk]), (e: unknown) => {
    assert.ok(e instanceof DiskFullError, String(e));
    assert.equal(e.bytesNeeded, 20 * PAGE);
    assert.equal(e.bytesFree, 16 * PAGE);
    assert.equal((e.cause as NodeJS.ErrnoException).code, 'ENOSPC');
    return true;
  });
  assert.deepEqual(readdirSync(disk).filter((n) => n.startsWith('.blob')), []);
  rmSync(join(disk, 'filler'));
});
