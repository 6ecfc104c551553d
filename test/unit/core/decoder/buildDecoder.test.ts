import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDecoder, openDecoderSource } from '../../../../src/core/decoder';
import { fixture } from '../../support/paths';
import { DecoderRunner, reference, relativeError } from './decoderRuns';

const FAMILIES = ['llama', 'llama_gqa', 'mistral', 'qwen2', 'mqa', 'meta', 'meta_pth', 'llama_gqa.gguf', 'qwen2_q8.gguf'];

for (const name of FAMILIES) {
  test(`${name}: the built graph's logits equal the numpy reference, at once and token by token with the KV cache`, async () => {
    const source = await openDecoderSource(fixture('decoder', name));
    const model = await buildDecoder(source);
    const ref = reference(name);
    const vocab = source.config.vocabSize;
    const runner = await DecoderRunner.open(model, source.config);
    try {
      const full = await runner.step([ref.tokens], runner.emptyCache(), 0);
      assert.equal(full.logits.length, ref.tokens.length * vocab);
      const err = relativeError(full.logits, ref.logits.flat());
      assert.ok(err < 1e-4, `${name}: relative error ${err} against numpy`);

      let cache = runner.emptyCache();
      for (let t = 0; t < ref.tokens.length; t++) {
        const step = await runner.step([[ref.tokens[t]]], cache, t);
        cache = step.cache;
        const row = full.logits.subarray(t * vocab, (t + 1) * vocab);
        const e = relativeError(step.logits, row);
        assert.ok(e < 1e-5, `${name}: step ${t} differs from the full pass by ${e}`);
        assert.ok(relativeError(step.logits, ref.logits[t]) < 1e-4, `${name}: step ${t} against numpy`);
      }
    } finally {
      await runner.release();
    }
  });
}
