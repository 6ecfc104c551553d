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
import { DecoderRunner, relativeError } from '../decoder/decoderRuns';
import { repoRoot } from '../../support/paths';
import { TINY_LLAMA, writeTinyLlamaFolder } from '../../support/tinyLlamaFolder';

const PROMPTS = [[1, 72, 101, 108, 108, 111], [1, 3, 200, 17, 42, 250, 9, 9], [1, 258]];
/** Worst relative log-probability difference accepted: llama.cpp multiplies quantized weights with 8-bit-quantized activations. */
const TOLERANCE: Readonly<Record<string, number>> = { F32: 1e-3, Q8_0: 0.02, Q6_K: 0.02, Q4_K: 0.02, Q4_K_M: 0.02 };

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
  readonly models: readonly { readonly logProbabilities: readonly (readonly number[])[] }[];
}

/** log softmax, in float64: what llama.cpp's probabilities give back after a log. */
function logSoftmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(logits, (v) => v - lse);
}

async function ourLogProbabilities(path: string): Promise<Float64Array[]> {
  const source = await openDecoderSource(path);
  const runner = await DecoderRunner.open(await buildDecoder(source), source.config);
  try {
    const out: Float64Array[] = [];
    for (const p of PROMPTS) {
      const { logits } = await runner.step([p], runner.emptyCache(), 0);
      out.push(logSoftmax(logits.slice((p.length - 1) * TINY_LLAMA.vocab)));
    }
    return out;
  } finally {
    await runner.release();
  }
}

test('every GGUF we write loads in llama.cpp, and its next-token log-probabilities agree with our decoder on the same dequantized weights', { timeout: 60_000 }, async () => {
  const reports: GgufQuantizeReport[] = [];
  for (const t of Object.keys(TOLERANCE)) reports.push(await quantizeToGguf(join(dir, 'tiny'), { target: parseGgufTarget(t) }));
  for (const r of reports) assert.deepEqual(r.tensors.filter((t) => t.wanted), [], `${r.target}: every row fits its type`);
  const script = join(repoRoot(), 'test', 'unit', 'support', 'llamaCppLogits.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, JSON.stringify({ models: reports.map((r) => r.output), prompts: PROMPTS })], { maxBuffer: 64 << 20, timeout: 50_000 });
  const llama = JSON.parse(stdout) as LlamaCppOutput;
  assert.equal(llama.buildType, 'prebuilt', 'the shipped prebuilt library was used, nothing was compiled');
  assert.equal(llama.gpu, false);
  for (let m = 0; m < reports.length; m++) {
    const ours = await ourLogProbabilities(reports[m].output);
    for (let p = 0; p < PROMPTS.length; p++) {
      const theirs = llama.models[m].logProbabilities[p];
      assert.equal(theirs.length, TINY_LLAMA.vocab);
      const err = relativeError(theirs, ours[p]);
      assert.ok(err < TOLERANCE[reports[m].target], `${reports[m].target} prompt ${p}: llama.cpp and our decoder differ by ${err}`);
      // A random model's logits nearly tie; llama.cpp's most likely token must be among our five.
      const top = Array.from(ours[p].keys()).sort((a, b) => ours[p][b] - ours[p][a]).slice(0, 5);
      const best = theirs.indexOf(Math.max(...theirs));
      assert.ok(top.includes(best), `${reports[m].target} prompt ${p}: llama.cpp's next token ${best} is not in our top five ${top.join(', ')}`);
    }
  }
});
