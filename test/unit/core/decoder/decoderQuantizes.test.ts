import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runQuantize } from '../../../../src/cli/quantizeCommand';
import { buildDecoder, openDecoderSource } from '../../../../src/core/decoder';
import { findWeightTargets, NameAllocator, rewriteMatMulNBits } from '../../../../src/core/onnx/rewrite';
import { quantizeRtn } from '../../../../src/core/quant';
import { transposeWeight } from '../../../../src/core/quant/transposeWeight';
import { seededRandom } from '../../../../src/core/random/seededRandom';
import type { QuantizeReport } from '../../../../src/protocol/quantizeTypes';
import { captureOutput } from '../../support/captureOutput';
import { npyInt64 } from '../../support/npyInt64';
import { fixture } from '../../support/paths';
import { DecoderRunner, reference, relativeError } from './decoderRuns';

test('the existing INT4 MatMulNBits rewrite turns every projection of a built decoder into a runnable model that stays close', async () => {
  const source = await openDecoderSource(fixture('decoder', 'llama_gqa'));
  const model = await buildDecoder(source);
  const ref = reference('llama_gqa');
  const { targets } = findWeightTargets(model);
  const names = new NameAllocator(model);
  for (const t of targets) {
    const w = transposeWeight(model.getFloatTensor(t.weight), t.inFeatures, t.outFeatures);
    const q = quantizeRtn({ rows: t.outFeatures, cols: t.inFeatures, data: w }, { bits: 4, symmetric: true, granularity: 'group', groupSize: 32 });
    rewriteMatMulNBits(model, t, q, names);
  }
  assert.equal(model.nodes.filter((n) => n.opType === 'MatMulNBits').length, targets.length);
  assert.equal(model.nodes.filter((n) => n.opType === 'MatMul' && model.tensorInfo(n.input?.[1] ?? '') !== undefined).length, 0);
  const runner = await DecoderRunner.open(model, source.config);
  try {
    const full = await runner.step([ref.tokens], runner.emptyCache(), 0);
    const err = relativeError(full.logits, ref.logits.flat());
    // 4-bit weights move the logits, but a working graph keeps them near the float ones.
    assert.ok(err > 1e-3 && err < 0.5, `INT4 against float: ${err}`);
    // The cache still works after the rewrite: the last step equals the full pass's last row.
    const prefix = await runner.step([ref.tokens.slice(0, -1)], runner.emptyCache(), 0);
    const last = await runner.step([ref.tokens.slice(-1)], prefix.cache, ref.tokens.length - 1);
    const vocab = source.config.vocabSize;
    assert.ok(relativeError(last.logits, full.logits.subarray(full.logits.length - vocab)) < 1e-4);
  } finally {
    await runner.release();
  }
});

test('on a built decoder, GPTQ INT4 calibrated on a file of token ids keeps next-token distributions closer than RTN INT4', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'decoder-gptq-'));
  try {
    const source = await openDecoderSource(fixture('decoder', 'llama_gqa'));
    const model = join(dir, 'llama_gqa.onnx');
    await (await buildDecoder(source)).save(model);
    // 17 sequences of 64 ids: each row a batch, 16 to calibrate and the last held out. The file
    // holds only input_ids; the mask, positions and empty cache are filled from it.
    const random = seededRandom(5);
    const ids = Array.from({ length: 17 * 64 }, () => Math.floor(random() * source.config.vocabSize));
    const calib = join(dir, 'input_ids.npy');
    await writeFile(calib, npyInt64(ids, [17, 64]));
    const kl: Record<string, number> = {};
    for (const method of ['rtn', 'gptq']) {
      const out = join(dir, `${method}.onnx`);
      const run = await captureOutput((o) => runQuantize([model, '--method', method, '--bits', '4', '--group', '32', '--format', 'nbits', '--calib', calib, '--samples', '16', '-o', out, '--json'], true, o));
      assert.equal(run.code, 0, run.err);
      const report = JSON.parse(run.out) as QuantizeReport;
      assert.equal(report.validation.synthetic, false);
      if (method === 'gptq') assert.equal(report.synthetic, false);
      const logits = report.validation.outputs.find((o) => o.name === 'logits');
      assert.ok(logits?.kl !== undefined && logits.kl !== null);
      kl[method] = logits.kl;
    }
    assert.ok(kl.gptq < 0.8 * kl.rtn, `KL of GPTQ ${kl.gptq} against RTN ${kl.rtn}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('on a decoder with outlier channels, SmoothQuant W8A8 keeps next-token distributions where plain static W8A8 loses them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'decoder-smooth-'));
  try {
    const source = await openDecoderSource(fixture('decoder', 'llama'));
    const built = await buildDecoder(source);
    // Outlier channels as real LLMs grow them: a few RMSNorm gains far above the rest, so the
    // projections after each norm see a handful of huge activation channels.
    for (const init of built.graph.initializer ?? []) {
      if (!/layernorm\.weight$/.test(init.name ?? '')) continue;
      const g = built.getFloatTensor(init.name ?? '');
      for (const c of [3, 17]) g[c] *= 60;
      built.setInitializer(init.name ?? '', 1, [g.length], g);
    }
    const model = join(dir, 'outliers.onnx');
    await built.save(model);
    const random = seededRandom(9);
    const ids = Array.from({ length: 17 * 32 }, () => Math.floor(random() * source.config.vocabSize));
    const calib = join(dir, 'input_ids.npy');
    await writeFile(calib, npyInt64(ids, [17, 32]));
    const kl: Record<string, number> = {};
    for (const method of ['rtn', 'smoothquant']) {
      const out = join(dir, `${method}.onnx`);
      const args = [model, '--method', method, '--bits', '8', '--format', 'static', '--calib', calib, '--samples', '16', '-o', out, '--json'];
      const run = await captureOutput((o) => runQuantize(method === 'smoothquant' ? [...args, '--alpha', '0.75'] : args, true, o));
      assert.equal(run.code, 0, run.err);
      const report = JSON.parse(run.out) as QuantizeReport;
      const logits = report.validation.outputs.find((o) => o.name === 'logits');
      assert.ok(logits?.kl !== undefined && logits.kl !== null);
      kl[method] = logits.kl;
    }
    assert.ok(kl.smoothquant < 0.25 * kl.rtn, `KL of SmoothQuant ${kl.smoothquant} against plain W8A8 ${kl.rtn}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
