import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDecoder, openDecoderSource } from '../../../src/core/decoder';
import { findWeightTargets, NameAllocator, rewriteMatMulNBits } from '../../../src/core/onnx/rewrite';
import { quantizeRtn } from '../../../src/core/quant';
import { transposeWeight } from '../../../src/core/quant/transposeWeight';
import { fixture } from '../support/paths';
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
