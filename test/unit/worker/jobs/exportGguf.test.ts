import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { CancelledError, QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { exportGguf, importanceFromHessian } from '../../../../src/worker/jobs/exportGguf';
import { fixture } from '../../support/paths';
import { writeTinyLlamaFolder } from '../../support/tinyLlamaFolder';

let dir: string;
let model: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quantscope-gguf-job-'));
  model = join(dir, 'tiny');
  await writeTinyLlamaFolder(model);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** English text, tokenized byte by byte by the tiny model's byte-fallback tokenizer. */
const TEXT = fixture('workspace', 'tiny_qwen2', 'calibration.txt');

describe('exportGguf', () => {
  it('with a text calibration, weights every projection by its importance and beats round-to-nearest on the weighted error', { timeout: 120_000 }, async () => {
    const r = await exportGguf({ path: model, target: 'q4_k_m', calibration: { file: TEXT, tokenizer: join(model, 'tokenizer.json'), samples: 4, sequenceLength: 64 } }, QUIET_JOB);
    assert.ok(r.calibration, 'an importance matrix was measured');
    assert.equal(r.calibration.synthetic, false);
    assert.equal(r.calibration.batches, 4);
    // 7 projections per layer and the output head.
    assert.equal(r.calibration.layers, 2 * 7 + 1);
    const weighted = r.tensors.filter((t) => t.importance);
    assert.deepEqual(weighted.map((t) => t.name).sort(), r.tensors.filter((t) => /^(blk\.\d+\.(attn_(q|k|v|output)|ffn_(gate|up|down))|output)\.weight$/.test(t.name)).map((t) => t.name).sort());
    let sum = 0;
    let rtn = 0;
    for (const t of weighted) {
      const e = t.importance!;
      assert.ok(e.weightedError <= e.rtnWeightedError, `${t.name} (${t.type}): imatrix ${e.weightedError} > RTN ${e.rtnWeightedError}`);
      sum += e.weightedError;
      rtn += e.rtnWeightedError;
    }
    assert.ok(sum < 0.95 * rtn, `imatrix ${sum} vs RTN ${rtn} summed over the projections`);
    const back = await openCheckpoint(r.output);
    assert.equal(back.tensors.length, r.tensors.length);
    assert.equal(r.output, join(model, 'tiny.q4_k_m.gguf'));
  });

  it('without a calibration rounds to nearest, writes beside the source under a new name and leaves nothing when cancelled', { timeout: 60_000 }, async () => {
    const r = await exportGguf({ path: model, target: 'q8_0' }, QUIET_JOB);
    assert.equal(r.calibration, undefined);
    assert.ok(r.tensors.every((t) => !t.importance));
    const again = await exportGguf({ path: model, target: 'q8_0' }, QUIET_JOB);
    assert.notEqual(again.output, r.output, 'an existing output is never overwritten');
    const before = await readdir(model);
    let calls = 0;
    await assert.rejects(exportGguf({ path: model, target: 'q4_k' }, { isCancelled: () => ++calls > 3, progress: () => undefined }), CancelledError);
    assert.deepEqual(await readdir(model), before);
    await assert.rejects(exportGguf({ path: model, target: 'q9_z' }, QUIET_JOB), /q9_z/i);
  });

  it('re-quantizes a GGUF with an importance matrix measured on the GGUF itself', { timeout: 120_000 }, async () => {
    const f16 = await exportGguf({ path: model, target: 'f16', output: join(dir, 'tiny-f16.gguf') }, QUIET_JOB);
    const r = await exportGguf({ path: f16.output, target: 'q4_k', calibration: { file: TEXT, tokenizer: join(model, 'tokenizer.json'), samples: 2, sequenceLength: 32 } }, QUIET_JOB);
    assert.equal(r.output, join(dir, 'tiny-f16.q4_k.gguf'));
    const weighted = r.tensors.filter((t) => t.importance).map((t) => t.name);
    assert.equal(weighted.length, 2 * 7 + 1, weighted.join(', '));
    assert.ok(weighted.includes('blk.1.ffn_down.weight') && weighted.includes('output.weight'));
  });

  it('turns the Hessian diagonal into mean x² and gives unseen columns a small weight', () => {
    const H = new Float64Array([4, 1, 1, 0]);
    assert.deepEqual(Array.from(importanceFromHessian(H, 2, 2)), [2, Math.fround(1e-6)]);
  });
});
