import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { buildDecoder, openDecoderSource } from '../../../../src/core/decoder';
import { parseGgufTarget } from '../../../../src/core/gguf/ggufTypeRules';
import { quantizeToGguf, type GgufQuantizeReport } from '../../../../src/core/gguf/quantizeToGguf';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { exportGguf } from '../../../../src/worker/jobs/exportGguf';
import { DecoderRunner, relativeError } from '../decoder/decoderRuns';
import { fixture, repoRoot } from '../../support/paths';
import { TINY_LLAMA, writeTinyLlamaFolder } from '../../support/tinyLlamaFolder';

const PROMPTS = [[1, 72, 101, 108, 108, 111], [1, 3, 200, 17, 42, 250, 9, 9], [1, 258]];
/** Worst relative logit difference accepted: llama.cpp multiplies quantized weights with 8-bit-quantized activations. */
const TOLERANCE: Readonly<Record<string, number>> = { F32: 2e-3, Q8_0: 0.04, Q6_K: 0.04, Q4_K: 0.05, Q4_K_M: 0.05, Q3_K_M: 0.08 };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quantscope-llamacpp-'));
  await writeTinyLlamaFolder(join(dir, 'tiny'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface LlamaCppOutput {
  readonly buildType: string;
  readonly gpu: string | false;
  /** Next-token log-probabilities: the logits up to a constant per prompt. */
  readonly models: readonly { readonly logits: readonly (readonly number[])[] }[];
}

/** `v` minus its mean: logits and log-probabilities of the same distribution agree after it. */
function centered(v: ArrayLike<number>): Float64Array {
  let mean = 0;
  for (let i = 0; i < v.length; i++) mean += v[i] / v.length;
  return Float64Array.from(v, (x) => x - mean);
}

async function ourLogits(path: string): Promise<Float32Array[]> {
  const source = await openDecoderSource(path);
  const runner = await DecoderRunner.open(await buildDecoder(source), source.config);
  try {
    const out: Float32Array[] = [];
    for (const p of PROMPTS) {
      const { logits } = await runner.step([p], runner.emptyCache(), 0);
      out.push(logits.slice((p.length - 1) * TINY_LLAMA.vocab));
    }
    return out;
  } finally {
    await runner.release();
  }
}

test('every GGUF we write loads in llama.cpp, and its next-token logits agree with our decoder on the same dequantized weights', { timeout: 120_000 }, async () => {
  const reports: GgufQuantizeReport[] = [];
  for (const t of Object.keys(TOLERANCE).filter((k) => k !== 'Q3_K_M')) reports.push(await quantizeToGguf(join(dir, 'tiny'), { target: parseGgufTarget(t) }));
  // Importance-weighted blocks (an imatrix from English text) are ordinary blocks to llama.cpp.
  const calibration = { file: fixture('workspace', 'tiny_qwen2', 'calibration.txt'), tokenizer: join(dir, 'tiny', 'tokenizer.json'), samples: 4, sequenceLength: 64 };
  for (const target of ['q4_k_m', 'q3_k_m']) {
    const weighted = await exportGguf({ path: join(dir, 'tiny'), target, output: join(dir, `tiny.${target}.imatrix.gguf`), calibration }, QUIET_JOB);
    assert.ok(weighted.tensors.some((t) => t.importance), `${target} has importance-weighted tensors`);
    reports.push(weighted);
  }
  for (const r of reports) assert.deepEqual(r.tensors.filter((t) => t.wanted), [], `${r.target}: every row fits its type`);
  const script = join(repoRoot(), 'test', 'unit', 'support', 'llamaCppLogits.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, JSON.stringify({ models: reports.map((r) => r.output), prompts: PROMPTS })], { maxBuffer: 64 << 20, timeout: 100_000 });
  const llama = JSON.parse(stdout) as LlamaCppOutput;
  assert.equal(llama.buildType, 'prebuilt', 'the shipped prebuilt library was used, nothing was compiled');
  assert.equal(llama.gpu, false);
  for (let m = 0; m < reports.length; m++) {
    const ours = await ourLogits(reports[m].output);
    for (let p = 0; p < PROMPTS.length; p++) {
      const theirs = llama.models[m].logits[p];
      assert.equal(theirs.length, TINY_LLAMA.vocab);
      const err = relativeError(centered(theirs), centered(ours[p]));
      assert.ok(err < TOLERANCE[reports[m].target], `${reports[m].target} prompt ${p}: llama.cpp and our decoder differ by ${err}`);
      // A random model's logits nearly tie; llama.cpp's most likely token must be among our five.
      const top = Array.from(ours[p].keys()).sort((a, b) => ours[p][b] - ours[p][a]).slice(0, 5);
      const best = theirs.indexOf(Math.max(...theirs));
      assert.ok(top.includes(best), `${reports[m].target} prompt ${p}: llama.cpp's next token ${best} is not in our top five ${top.join(', ')}`);
    }
  }
});
