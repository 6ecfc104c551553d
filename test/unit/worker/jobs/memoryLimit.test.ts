/**
 * The worker's memory cap: how it reaches the worker (`--max-old-space-size` and our own
 * argument), and a job whose big buffers would exceed it refused before it starts, naming what it
 * would need.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decoderBuildBytes, openDecoderSource } from '../../../../src/core/decoder';
import { isFormatError } from '../../../../src/core/FormatError';
import { formatBytes } from '../../../../src/core/tensor/formatBytes';
import { WorkerClient, workerLaunchArgs } from '../../../../src/extension/client/WorkerClient';
import { exportDecoder } from '../../../../src/worker/jobs/exportDecoder';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { jobMemoryLimit, memoryCapFromArgv } from '../../../../src/worker/jobs/memoryLimit';
import { repoRoot } from '../../support/paths';
import { writeTinyLlamaFolder } from '../../support/tinyLlamaFolder';

const MiB = 1024 * 1024;
const root = mkdtempSync(join(tmpdir(), 'quantscope-memory-cap-'));
const folder = join(root, 'llama');
before(() => writeTinyLlamaFolder(folder));
after(() => rmSync(root, { recursive: true, force: true }));

test('a cap in MiB starts the worker with that V8 heap limit and tells it the cap; none adds no flag', () => {
  assert.deepEqual(workerLaunchArgs({ maxMemoryMB: 2048 }), { args: ['--max-memory-mb=2048'], execArgv: ['--max-old-space-size=2048'] });
  assert.deepEqual(workerLaunchArgs({ maxMemoryMB: 0, nodeFlags: ['--expose-gc'] }), { args: [], execArgv: ['--expose-gc'] });
  assert.deepEqual(workerLaunchArgs({}), { args: [], execArgv: [] });
  assert.equal(memoryCapFromArgv(workerLaunchArgs({ maxMemoryMB: 2048 }).args), 2048 * MiB);
  for (const bad of ['--max-memory-mb=', '--max-memory-mb=-5', '--max-memory-mb=1.5', '--max-memory-mb=lots']) assert.equal(memoryCapFromArgv([bad]), undefined, bad);
});

test('the real worker started with a cap has a V8 heap limit and a job limit of that size', async () => {
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const client = new WorkerClient(join(repoRoot(), 'dist', 'worker.js'), quiet, () => undefined, () => ({ maxMemoryMB: 256 }));
  try {
    const m = await client.request('memoryUsage', {});
    assert.equal(m.jobLimit, 256 * MiB);
    // V8 adds its young generation to the old space's limit.
    assert.ok(m.heapLimit >= 256 * MiB && m.heapLimit < 384 * MiB, `heap limit ${m.heapLimit}`);
  } finally {
    await client.stopped();
  }
});

test('the job limit is the cap when it is below 80% of RAM, else 80% of RAM', () => {
  const ram = 16 * 1024 * MiB;
  assert.deepEqual(jobMemoryLimit({ memoryCapBytes: 512 * MiB }, ram), { bytes: 512 * MiB, origin: "the worker's memory cap, quantscope.worker.maxMemoryMB" });
  assert.equal(jobMemoryLimit({ memoryCapBytes: 64 * 1024 * MiB }, ram).bytes, Math.floor(ram * 0.8));
  assert.equal(jobMemoryLimit({}, ram).bytes, Math.floor(ram * 0.8));
});

test('an export whose decoder build would exceed the cap is refused before it starts, with the figure it needs, and leaves nothing', async () => {
  const need = decoderBuildBytes(await openDecoderSource(folder));
  const before = readdirSync(folder).sort();
  const cap = Math.floor(need / 2);
  let progressed = 0;
  const refused = await exportDecoder({ path: folder }, { ...QUIET_JOB, progress: () => progressed++, memoryCapBytes: cap }).then(() => undefined, (e: unknown) => e);
  assert.ok(isFormatError(refused), `a format error, got ${String(refused)}`);
  const message = (refused as Error).message;
  console.log(message);
  assert.ok(message.includes(`needs about ${formatBytes(need)} of memory`), message);
  assert.ok(message.includes(`more than the ${formatBytes(cap)} available (the worker's memory cap, quantscope.worker.maxMemoryMB)`), message);
  // Only the first report ("reading the checkpoint") came: no tensor was built.
  assert.equal(progressed, 1);
  assert.deepEqual(readdirSync(folder).sort(), before, 'no output nor temporary file');
  // The same job under a cap that fits goes through.
  const report = await exportDecoder({ path: folder }, { ...QUIET_JOB, memoryCapBytes: need * 2 });
  rmSync(report.output, { force: true });
});
