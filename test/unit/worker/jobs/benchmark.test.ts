import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { benchParamsFromArgs } from '../../../../src/cli/benchCommand';
import { renderBench } from '../../../../src/cli/renderBench';
import type { BenchReport, ModelBench } from '../../../../src/protocol/benchTypes';
import { benchmarkModels, summarizeProfile } from '../../../../src/worker/jobs/benchmark';
import { benchVerdicts } from '../../../../src/worker/jobs/benchVerdicts';
import { parseCpuInfo } from '../../../../src/worker/jobs/cpuFeatures';
import { CancelledError, QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { quantizeModel } from '../../../../src/worker/jobs/quantize';
import { fixture } from '../../support/paths';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-bench-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TINY = join(dir, 'tiny_mlp.onnx');
const INT4 = join(dir, 'tiny_mlp.int4.onnx');
const INT8 = join(dir, 'tiny_mlp.int8dyn.onnx');

/** Bits per weight the quantizer reported for INT4 and INT8, to check the benchmark's own count against. */
const quantizerBits: number[] = [];

before(async () => {
  copyFileSync(fixture('workspace', 'tiny_mlp.onnx'), TINY);
  const q4 = await quantizeModel({ path: TINY, output: INT4, method: 'rtn', bits: 4, group: 16, format: 'nbits' }, QUIET_JOB);
  const q8 = await quantizeModel({ path: TINY, output: INT8, method: 'rtn', bits: 8, format: 'dynamic' }, QUIET_JOB);
  quantizerBits.push(q4.sizes.bitsPerWeight, q8.sizes.bitsPerWeight);
});

const CPUINFO_ICELAKE = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16
`;
const CPUINFO_ZEN2 = `processor\t: 0
model name\t: AMD EPYC 7R32
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2
`;

function sane(m: ModelBench, rounds: number): void {
  const l = m.latencyMs;
  assert.ok(l.min > 0 && l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
  assert.ok(l.mean >= l.min && l.mean <= l.max);
  assert.equal(m.samples.length, rounds);
  assert.ok(m.throughputPerSec > 0 && m.cv >= 0 && m.peakRssBytes > 0 && m.sessionCreateMs > 0 && m.fileSize > 0);
}

const ops = (m: ModelBench): string[] => m.opTimes.map((o) => o.opType);

test('parseCpuInfo reads VNNI, AVX-512 and the model name, and tells a CPU without them', () => {
  const ice = parseCpuInfo(CPUINFO_ICELAKE);
  assert.equal(ice.model, 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz');
  assert.equal(ice.cores, 2);
  assert.deepEqual([ice.known, ice.avx2, ice.avx512f, ice.avx512vnni, ice.avxVnni, ice.amxInt8, ice.f16c, ice.fma], [true, true, true, true, false, false, true, true]);
  const zen = parseCpuInfo(CPUINFO_ZEN2, 8);
  assert.equal(zen.cores, 8);
  assert.deepEqual([zen.known, zen.avx2, zen.avx512f, zen.avx512vnni, zen.avxVnni], [true, true, false, false, false]);
  assert.equal(parseCpuInfo('processor : 0\nmodel name : Something').known, false);
  assert.ok(parseCpuInfo('flags : avx_vnni amx_tile amx_int8').avxVnni && parseCpuInfo('flags : avx_vnni amx_tile amx_int8').amxInt8);
});

test('summarizeProfile sums kernel time per operator type and per run, and the Q/DQ share', () => {
  const node = (name: string, op: string, dur: number): object => ({ cat: 'Node', name, dur, args: { op_name: op, provider: 'CPUExecutionProvider' } });
  const s = summarizeProfile([
    { cat: 'Session', name: 'model_run', dur: 500 }, { cat: 'Session', name: 'model_run', dur: 500 },
    node('dq_fence_before', 'DequantizeLinear', 5), node('dq_kernel_time', 'DequantizeLinear', 300), node('mm_kernel_time', 'MatMul', 100),
  ]);
  assert.deepEqual(s.opTimes.map((o) => o.opType), ['DequantizeLinear', 'MatMul']);
  assert.equal(s.opTimes[0].ms, 0.15);
  assert.equal(s.quantDequantShare, 0.75);
  assert.deepEqual(s.kernels, ['DequantizeLinear@CPUExecutionProvider', 'MatMul@CPUExecutionProvider']);
});

test('three models interleaved: sane percentiles, equal sample counts, operators of each format, verdicts', async () => {
  const r = await benchmarkModels({ models: [TINY, INT4, INT8], runs: 15, warmup: 2, threads: 1, optimizationLevel: 'disabled' }, QUIET_JOB);
  assert.equal(r.settings.rounds, 15);
  for (const m of r.models) sane(m, 15);
  const [fp, q4, q8] = r.models;
  assert.ok(ops(fp).includes('MatMul'), ops(fp).join());
  assert.ok(ops(q4).includes('MatMulNBits'), ops(q4).join());
  assert.ok(ops(q8).includes('DynamicQuantizeMatMul'), ops(q8).join());
  assert.equal(fp.bitsPerWeight, 32);
  assert.ok(q4.bitsPerWeight !== null && Math.abs(q4.bitsPerWeight - quantizerBits[0]) < 1e-9, `${q4.bitsPerWeight} vs ${quantizerBits[0]}`);
  assert.ok(q8.bitsPerWeight !== null && Math.abs(q8.bitsPerWeight - quantizerBits[1]) < 1e-9, `${q8.bitsPerWeight} vs ${quantizerBits[1]}`);
  assert.equal(r.comparisons.length, 2);
  for (const c of r.comparisons) {
    assert.equal(c.a, TINY);
    assert.ok(c.ratioOfMedians > 0 && c.spread[0] <= c.spread[1]);
    assert.equal(c.agreement, undefined, 'agreement is for two models');
  }
  assert.ok(r.verdicts.length > 0);
  assert.ok(r.verdicts.some((v) => v.includes('MatMulNBits')), r.verdicts.join('\n'));
  assert.ok(r.verdicts.some((v) => v.includes('DynamicQuantizeMatMul') && /VNNI/.test(v)), r.verdicts.join('\n'));
  assert.ok(r.verdicts.some((v) => v.startsWith('measured')));
  const text = renderBench(r);
  assert.match(text, /Why:/);
  console.log(text);
});

test('two models: ratio of medians, output agreement, no profile when asked', async () => {
  const r = await benchmarkModels({ models: [TINY, INT8], runs: 6, warmup: 1, profile: false }, QUIET_JOB);
  assert.equal(r.comparisons.length, 1);
  const c = r.comparisons[0];
  assert.ok(Number.isFinite(c.ratioOfMedians) && c.ratioOfMedians > 0);
  assert.ok(c.agreement && c.agreement.length > 0 && c.agreement[0].cosine > 0.99);
  assert.deepEqual(r.models.map((m) => m.opTimes.length), [0, 0]);
  assert.ok(r.verdicts.some((v) => v.includes('DynamicQuantizeMatMul')), 'without a profile the stored graph names the operators');
});

test('a weight-only QDQ profile dominated by DequantizeLinear gets the QDQ verdict naming the fix; a fused one says so', () => {
  const base = { path: 'a.onnx', fileSize: 1, bitsPerWeight: 8, graphOps: { DequantizeLinear: 2, MatMul: 2 }, sessionCreateMs: 1, latencyMs: { min: 1, p50: 1, p90: 1, p99: 1, max: 1, mean: 1 }, samples: [1], throughputPerSec: 1000, cv: 0, peakRssBytes: 1, quantDequantShare: 0.73 };
  const report: Omit<BenchReport, 'verdicts'> = {
    cpu: parseCpuInfo(CPUINFO_ICELAKE),
    models: [{ ...base, opTimes: [{ opType: 'DequantizeLinear', ms: 0.73, share: 0.73, nodes: 2 }, { opType: 'MatMul', ms: 0.27, share: 0.27, nodes: 2 }] }],
    comparisons: [],
    settings: { threads: 0, warmup: 0, runs: 1, rounds: 1, optimizationLevel: 'all', profile: true, inputs: {}, inputsFrom: 'generated', runtime: 'x', timeBudgetMs: null },
  };
  const v = benchVerdicts(report);
  assert.ok(v.some((x) => x.startsWith('a.onnx: 73% of the time is DequantizeLinear') && x.includes('MatMulNBits')), v.join('\n'));
  const fused = benchVerdicts({ ...report, models: [{ ...base, quantDequantShare: 0, opTimes: [{ opType: 'MatMulNBits', ms: 1, share: 1, nodes: 2 }] }] });
  assert.ok(fused.some((x) => x.includes('fused DequantizeLinear→MatMul into MatMulNBits')), fused.join('\n'));
});

test('cancellation stops within a run or two; the time budget cuts rounds short', { timeout: 60_000 }, async () => {
  let calls = 0;
  // 100,000 runs would outlast the test's timeout: the rejection itself shows the job stopped.
  await assert.rejects(
    benchmarkModels({ models: [TINY, INT8], runs: 100000, warmup: 0, profile: false }, { isCancelled: () => ++calls > 20, progress: () => undefined }),
    CancelledError,
  );
  const r = await benchmarkModels({ models: [TINY], runs: 1_000_000, warmup: 0, profile: false, timeBudgetMs: 50 }, QUIET_JOB);
  assert.ok(r.settings.rounds < 1_000_000 && r.settings.rounds >= 1);
  assert.equal(r.models[0].samples.length, r.settings.rounds);
});

test('bench arguments: models, numbers, dims and flags', () => {
  const p = benchParamsFromArgs(['a.onnx', 'b.onnx', '--threads', '2', '--runs=7', '--seq', '64', '--dim', 'width=640', '--no-profile', '--opt', 'basic']);
  assert.deepEqual(p, { models: ['a.onnx', 'b.onnx'], threads: 2, runs: 7, sequenceLength: 64, dims: { width: 640 }, optimizationLevel: 'basic', profile: false });
  assert.throws(() => benchParamsFromArgs([]), /MODEL/);
  assert.throws(() => benchParamsFromArgs(['a.onnx', '--runs', '0']), /--runs/);
});
