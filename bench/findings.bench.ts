/**
 * The longest stall of the extension host's event loop while a 7B-shaped profile (224 layers of
 * 4,096 channels) is judged by the findings engine: run on the host itself, as before, against
 * asking the worker (dist/worker.js, forked and spoken to over JSON-RPC as the extension does),
 * which keeps the profile it computed or reads the extension's cache entry once. A 1 ms timer on
 * the host measures the gaps; the goal is the design's 50 ms. Prints the stalls and their ratio.
 * Needs `node esbuild.mjs` first (scripts/bench.mjs builds).
 */
import { fork } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter } from 'vscode-jsonrpc/node';
import { deriveFindings } from '../src/core/findings/deriveFindings';
import type { FindingsParams, FindingsResult } from '../src/protocol/workerProtocol';
import { syntheticProfile } from '../test/unit/support/syntheticProfile';
import { median, ratio, repoRoot, withTempDirAsync } from './support/benchSupport';

const ROUNDS = 6;
const GOAL_MS = 50;

/** Watches the event loop with a 1 ms timer and keeps the longest gap beyond it. */
class StallMonitor {
  private last = performance.now();
  private worst = 0;
  private readonly timer = setInterval(() => {
    const now = performance.now();
    this.worst = Math.max(this.worst, now - this.last - 1);
    this.last = now;
  }, 1);

  /** The longest stall since the last call, in ms, and starts over. */
  take(): number {
    const w = this.worst;
    this.worst = 0;
    this.last = performance.now();
    return w;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const workerJs = join(repoRoot(), 'dist', 'worker.js');
  if (!existsSync(workerJs)) throw new Error('dist/worker.js is missing: run node esbuild.mjs first');
  await withTempDirAsync('quantscope-findings-bench-', async (dir) => {
    const path = join(dir, 'model.onnx');
    const profile = syntheticProfile(path);
    const cacheFile = join(dir, 'model-7b.json');
    writeFileSync(cacheFile, JSON.stringify(profile));
    const layers = profile.layers.length, d = profile.layers[0].d;
    const monitor = new StallMonitor();

    // The floor: what the same timer sees on a host doing nothing (a shared machine, the collector).
    const idle: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      monitor.take();
      await settle(200);
      idle.push(monitor.take());
    }

    // Before: the engine on the host's own thread, as the extension ran it.
    const host: number[] = [];
    let count = 0;
    for (let i = 0; i < ROUNDS; i++) {
      await settle(20);
      monitor.take();
      count = deriveFindings({ weights: profile.weights, model: profile }).findings.length;
      await settle(20);
      host.push(monitor.take());
    }

    // After: the worker judges the profile it keeps; the host only waits for the report.
    const child = fork(workerJs, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    const connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    connection.listen();
    const ask = async (params: FindingsParams): Promise<{ stall: number; ms: number; result: FindingsResult }> => {
      await settle(20);
      monitor.take();
      const t0 = performance.now();
      const result = await connection.sendRequest<FindingsResult>('findings', params);
      const ms = performance.now() - t0;
      await settle(20);
      return { stall: monitor.take(), ms, result };
    };
    try {
      await connection.sendRequest('ping', {});
      const kept = { type: 'kept', kind: 'model', key: 'model-7b', cacheFile } as const;
      const worker: { stall: number; ms: number }[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const r = await ask({ path, source: kept });
        if (r.result.type !== 'findings') throw new Error(`the worker answered ${r.result.type}: ${r.result.reason}`);
        if (r.result.report.findings.length !== count) throw new Error(`the worker found ${r.result.report.findings.length} findings, the host ${count}`);
        worker.push(r);
      }
      // The fallback for a worker restarted with the cache off: the profile crosses inline.
      const inline = await ask({ path, source: { type: 'inline', weights: profile.weights, model: profile } });

      const fmt = (x: number): string => `${x.toFixed(1)} ms`;
      const hostWorst = Math.max(...host), workerWorst = Math.max(...worker.map((w) => w.stall));
      console.log(`profile: ${layers} layers × ${d} channels (${(JSON.stringify(profile).length / 2 ** 20).toFixed(0)} MiB as JSON), ${count} findings; ${ROUNDS} rounds each`);
      console.log(`idle host         : longest stall ${fmt(Math.max(...idle))} (median ${fmt(median(idle))}), the floor of this timer here`);
      console.log(`host derives      : longest stall ${fmt(hostWorst)} (first ${fmt(host[0])}, median of the rest ${fmt(median(host.slice(1)))})`);
      console.log(`worker derives    : longest host stall ${fmt(workerWorst)} (first, reading the cache file: ${fmt(worker[0].stall)} in ${fmt(worker[0].ms)}; kept: median ${fmt(median(worker.slice(1).map((w) => w.stall)))} in ${fmt(median(worker.slice(1).map((w) => w.ms)))})`);
      console.log(`fallback (inline) : longest host stall ${fmt(inline.stall)} in ${fmt(inline.ms)} (only when the worker restarted with the cache off)`);
      console.log(`longest stall, host / worker: ${ratio(hostWorst, Math.max(workerWorst, 0.1))}× — goal ≤ ${GOAL_MS} ms: ${workerWorst <= GOAL_MS ? 'met' : 'missed'}`);
    } finally {
      monitor.stop();
      connection.dispose();
      child.kill();
    }
  });
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
