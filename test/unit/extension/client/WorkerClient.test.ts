/**
 * The worker client against the real worker process (`dist/worker.js`, built by esbuild.mjs):
 * a worker killed with SIGKILL in the middle of each kind of job, and a model changed under a
 * running profile, a damaged cache entry, and jobs running side by side.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { crashMessage, WorkerClient, WorkerRequestError, type RequestOptions, type WorkerCrash, type WorkerLog } from '../../../../src/extension/client/WorkerClient';
import { repoRoot } from '../../support/paths';
import { writeTinyLlamaFolder } from '../../support/tinyLlamaFolder';
import { writeWideMlp } from '../../support/wideMlp';

const WORKER = join(repoRoot(), 'dist', 'worker.js');
const root = mkdtempSync(join(tmpdir(), 'quantscope-worker-faults-'));
const clients: WorkerClient[] = [];
// A client left running (by a failed assertion) would keep this process alive through its IPC channel.
after(async () => {
  await Promise.all(clients.map((c) => c.stopped()));
  rmSync(root, { recursive: true, force: true });
});

/** A client whose log and crash reports are kept for the assertions. */
interface Harness {
  readonly client: WorkerClient;
  readonly lines: string[];
  readonly crashes: WorkerCrash[];
}

function harness(): Harness {
  const lines: string[] = [];
  const crashes: WorkerCrash[] = [];
  const log: WorkerLog = { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
  const client = new WorkerClient(WORKER, log, (c) => crashes.push(c));
  clients.push(client);
  return { client, lines, crashes };
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Everything under `dir`, hidden files and subfolders included, as relative paths. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

/**
 * Spins (blocking this process only; the worker is another process and keeps writing) until an
 * entry that was not in `before` appears in `dir`: the atomic writer's temporary file, or the
 * output once renamed. Returns its name.
 */
function waitForNewFile(dir: string, before: readonly string[], timeoutMs = 30_000): string | undefined {
  const known = new Set(before);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const fresh = readdirSync(dir).find((n) => !known.has(n));
    if (fresh) return fresh;
  }
  return undefined;
}

let wide: string;
let wideDir: string;
let llamaDir: string;

before(async () => {
  wideDir = join(root, 'wide');
  wide = join(wideDir, 'wide.onnx');
  // 6 × 768² float weights: 14 MB, so a transform's write takes long enough to be interrupted.
  mkdirSync(wideDir, { recursive: true });
  await writeWideMlp(wide, 768, 6);
  llamaDir = join(root, 'llama');
  await writeTinyLlamaFolder(llamaDir);
});

/**
 * Starts a job with `start` and SIGKILLs the worker as soon as the job starts writing in `dir` (on
 * the progress message `writing …`, then the first new file there); returns what the caller saw.
 */
async function killWhileWriting(h: Harness, start: (options: RequestOptions) => Promise<unknown>, dir: string): Promise<{ error: unknown; killed: number; sawFile: string | undefined }> {
  const before = readdirSync(dir);
  let killed = 0;
  let sawFile: string | undefined;
  const running = start({
    onProgress: (message) => {
      if (killed || !/^writing /.test(message)) return;
      sawFile = waitForNewFile(dir, before);
      killed = h.client.pid ?? 0;
      process.kill(killed, 'SIGKILL');
    },
  });
  const error = await running.then(() => undefined, (e: unknown) => e);
  return { error, killed, sawFile };
}

function assertLost(error: unknown, job: string): void {
  assert.ok(error instanceof WorkerRequestError, `a WorkerRequestError, got ${String(error)}`);
  assert.equal(error.kind, 'crashed');
  assert.match(error.message, new RegExp(`^the ${job.replace(/\./g, '\\.')} was lost: the Quantscope worker stopped \\(it was killed by SIGKILL\\)`));
}

const writers: readonly { readonly kind: string; readonly start: (h: Harness, options: RequestOptions) => Promise<unknown> }[] = [
  { kind: 'quantize', start: (h, options) => h.client.request('quantize', { path: wide, method: 'rtn', bits: 8, format: 'qdq' }, options) },
  { kind: 'prune', start: (h, options) => h.client.request('prune', { path: wide, method: 'magnitude', sparsity: 0.5 }, options) },
];

for (const { kind, start } of writers) {
  test(`SIGKILL during a ${kind} write: the job is named as lost, its partial file is removed, the source is untouched, the next request starts a new worker`, async () => {
    const h = harness();
    const before = listing(wideDir);
    const sourceHash = sha(wide);
    const { error, killed, sawFile } = await killWhileWriting(h, (options) => start(h, options), wideDir);
    console.log(`${kind}: killed worker ${killed} when ${sawFile ?? 'nothing'} had appeared; ${String(error)}`);
    assert.ok(killed > 0, 'the job reached its write');
    assert.ok(sawFile, 'the write had started a file when the worker was killed');
    assertLost(error, `${kind} job on wide.onnx`);
    assert.equal(h.crashes.length, 1);
    const crash = h.crashes[0];
    assert.deepEqual(crash.lostJobs, [`${kind} job on wide.onnx`]);
    assert.ok(crash.removedFiles.length >= 1, 'the file the job had started was removed');
    assert.ok(crash.removedFiles.some((f) => basename(f) === sawFile), `${sawFile} is among the removed ${crash.removedFiles.join(', ')}`);
    assert.match(crashMessage(crash), new RegExp(`while running the ${kind} job on wide\\.onnx, which was lost; the partial output it had started \\(.+\\) was removed`));
    assert.ok(h.lines.some((l) => l.startsWith('error ') && l.includes('SIGKILL') && l.includes(`${kind} job on wide.onnx`)), h.lines.join('\n'));
    assert.deepEqual(listing(wideDir), before, 'no partial output remains');
    assert.equal(sha(wide), sourceHash);
    const ping = await h.client.request('ping', {});
    assert.notEqual(ping.pid, killed);
    await h.client.stopped();
  });
}

test('SIGKILL during an export write: the export is named as lost and no model.onnx nor temporary file remains in the checkpoint folder', async () => {
  const h = harness();
  const before = listing(llamaDir);
  const { error, killed, sawFile } = await killWhileWriting(h, (options) => h.client.request('exportDecoder', { path: llamaDir }, options), llamaDir);
  console.log(`export: killed worker ${killed} when ${sawFile ?? 'nothing'} had appeared; ${String(error)}`);
  assert.ok(sawFile, 'the write had started a file when the worker was killed');
  assertLost(error, 'export job on llama');
  assert.deepEqual(h.crashes.map((c) => c.lostJobs), [['export job on llama']]);
  assert.ok(h.crashes[0].removedFiles.some((f) => basename(f) === sawFile));
  assert.deepEqual(listing(llamaDir), before);
  // The new worker does the whole export.
  const report = await h.client.request('exportDecoder', { path: llamaDir });
  assert.equal(basename(report.output), 'model.onnx');
  rmSync(report.output);
  await h.client.stopped();
});

test('SIGKILL during a profile (a job that only reads): named as lost, nothing written, and the next profile runs in a new worker', async () => {
  const h = harness();
  const before = listing(wideDir);
  let killed = 0;
  const error = await h.client
    .request('profileWeights', { path: wide }, {
      onProgress: () => {
        if (killed) return;
        killed = h.client.pid ?? 0;
        process.kill(killed, 'SIGKILL');
      },
    })
    .then(() => undefined, (e: unknown) => e);
  assertLost(error, 'profile job on wide.onnx');
  assert.deepEqual(h.crashes.map((c) => [c.lostJobs, c.removedFiles]), [[['profile job on wide.onnx'], []]]);
  assert.match(crashMessage(h.crashes[0]), /^The Quantscope worker stopped unexpectedly \(it was killed by SIGKILL\) while running the profile job on wide\.onnx, which was lost\. It restarts with the next request\.$/);
  assert.deepEqual(listing(wideDir), before);
  const profile = await h.client.request('profileWeights', { path: wide });
  assert.notEqual(h.client.pid, killed);
  assert.equal(profile.tensors.length, 6);
  await h.client.stopped();
});

/** Profiles a private copy of the wide model and runs `fault` on it at the first progress report. */
async function profileWith(name: string, fault: (path: string) => void): Promise<{ error: unknown; path: string; h: Harness }> {
  const path = join(root, name);
  copyFileSync(wide, path);
  const h = harness();
  let done = false;
  const error = await h.client
    .request('profileWeights', { path }, {
      onProgress: () => {
        if (done) return;
        done = true;
        fault(path);
      },
    })
    .then(() => undefined, (e: unknown) => e);
  return { error, path, h };
}

test('the model file grows while a profile runs: the job stops with an error naming the file and its sizes, and the worker goes on', async () => {
  const { error, path, h } = await profileWith('grown.onnx', (p) => appendFileSync(p, Buffer.alloc(4096)));
  assert.ok(error instanceof WorkerRequestError, String(error));
  assert.equal(error.kind, 'format');
  const size = statSync(path).size;
  assert.equal(error.message, `${path} changed while it was being profiled (${size - 4096} → ${size} bytes); the job was stopped, run it again on the new file`);
  assert.equal(h.crashes.length, 0);
  // Profiled again once it is a whole model again, the file gives a full result.
  copyFileSync(wide, path);
  assert.equal((await h.client.request('profileWeights', { path })).tensors.length, 6);
  await h.client.stopped();
});

test('the model file is deleted while a profile runs: the job stops with an error naming the file', async () => {
  const { error, path, h } = await profileWith('deleted.onnx', (p) => unlinkSync(p));
  assert.ok(error instanceof WorkerRequestError, String(error));
  assert.equal(error.message, `${path} was deleted while it was being profiled; the job was stopped`);
  await h.client.stopped();
});

test('the model file is replaced (renamed over) while a profile runs: the job stops with an error naming the file', async () => {
  const { error, path, h } = await profileWith('replaced.onnx', (p) => {
    copyFileSync(wide, `${p}.new`);
    renameSync(`${p}.new`, p);
  });
  assert.ok(error instanceof WorkerRequestError, String(error));
  assert.equal(error.message, `${path} was replaced while it was being profiled; the job was stopped, run it again on the new file`);
  await h.client.stopped();
});

test('a cached decoder graph cut short, then a fingerprint that is not JSON: each is ignored, rebuilt, and reported once in the log', async () => {
  const folder = join(root, 'llama-cache');
  await writeTinyLlamaFolder(folder);
  const cache = join(folder, '.quantscope', 'decoder', 'model.onnx');
  const h = harness();
  const reports = (): string[] => h.lines.filter((l) => l.includes('cached decoder graph'));
  const layers = await h.client.request('quantizableLayers', { path: folder });
  assert.ok(layers.length > 0);
  assert.deepEqual(reports(), [], 'a first build is not reported');
  const built = statSync(cache).size;

  truncateSync(cache, Math.floor(built / 2));
  assert.deepEqual(await h.client.request('quantizableLayers', { path: folder }), layers);
  assert.deepEqual(reports(), [`warn [worker] ignored the cached decoder graph ${cache}: model.onnx has ${Math.floor(built / 2)} bytes where its fingerprint records ${built} (cut short or changed after it was built); it is built again`]);
  assert.equal(statSync(cache).size, built, 'rebuilt whole');
  assert.deepEqual(await h.client.request('quantizableLayers', { path: folder }), layers);
  assert.equal(reports().length, 1, 'reported once');

  writeFileSync(`${cache}.json`, '{"version": 1, "sources": [');
  assert.deepEqual(await h.client.request('quantizableLayers', { path: folder }), layers);
  assert.equal(reports().length, 2);
  assert.match(reports()[1], new RegExp(`^warn \\[worker\\] ignored the cached decoder graph .+: its fingerprint model\\.onnx\\.json is not valid JSON \\(.+\\); it is built again$`));
  assert.deepEqual(await h.client.request('quantizableLayers', { path: folder }), layers);
  assert.equal(reports().length, 2, 'reported once');
  assert.deepEqual(readdirSync(join(folder, '.quantscope', 'decoder')).sort(), ['model.onnx', 'model.onnx.json']);
  await h.client.stopped();
});

test('two profiles and a quantize started together on different models: each result goes to its request, and cancelling one leaves the others running', async () => {
  const dir = join(root, 'together');
  mkdirSync(dir);
  const a = join(dir, 'a.onnx');
  const b = join(dir, 'b.onnx');
  const c = join(dir, 'c.onnx');
  await writeWideMlp(a, 512, 6, 11);
  await writeWideMlp(b, 512, 6, 12);
  await writeWideMlp(c, 512, 4, 13);
  const h = harness();
  const pid = (await h.client.request('ping', {})).pid;
  const progress = { a: 0, b: 0, c: 0 };
  const order: string[] = [];
  const cancelB = new CancellationTokenSource();
  const started = Date.now();
  const [ra, rb, rc] = await Promise.allSettled([
    h.client.request('profileWeights', { path: a }, { onProgress: () => order.push(`a${progress.a++}`) }),
    h.client.request('profileWeights', { path: b }, {
      token: cancelB.token,
      onProgress: () => {
        if (progress.b++ === 0) cancelB.cancel();
      },
    }),
    h.client.request('quantize', { path: c, method: 'rtn', bits: 8, format: 'qdq' }, { onProgress: () => order.push(`c${progress.c++}`) }),
  ]);
  console.log(`together in ${Date.now() - started} ms; progress reports ${JSON.stringify(progress)}`);
  assert.equal(rb.status, 'rejected');
  assert.ok(rb.reason instanceof WorkerRequestError && rb.reason.kind === 'cancelled', String(rb.reason));
  assert.equal(ra.status, 'fulfilled');
  assert.equal(rc.status, 'fulfilled');
  assert.equal(ra.value.path, a);
  assert.equal(ra.value.tensors.length, 6);
  assert.equal(rc.value.source, c);
  assert.equal(rc.value.output, join(dir, 'c.q8.onnx'));
  assert.ok(progress.a > 0 && progress.c > 0);
  // They ran side by side: the quantize reported progress before the profile of a had finished.
  assert.ok(order.indexOf('c0') < order.lastIndexOf(`a${progress.a - 1}`), order.join(' '));
  // The profile that ran beside the others equals one that ran alone, and B's alone differs from it.
  const alone = await h.client.request('profileWeights', { path: a });
  assert.deepEqual(ra.value.tensors, alone.tensors);
  const bAlone = await h.client.request('profileWeights', { path: b });
  assert.notDeepEqual(bAlone.tensors.map((t) => t.stats?.absmax), alone.tensors.map((t) => t.stats?.absmax));
  assert.equal(h.client.pid, pid, 'one worker served them all');
  assert.deepEqual(h.crashes, []);
  cancelB.dispose();
  await h.client.stopped();
});
