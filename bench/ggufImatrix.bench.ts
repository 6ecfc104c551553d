/**
 * The error table of GGUF output on a Llama-shaped checkpoint (hidden 256, intermediate 512, two
 * layers, seeded weights; every row splits into k-quant blocks): per ggml type, round-to-nearest
 * against importance-weighted (imatrix) blocks, and GPTQ INT4 g32 (our GPTQ safetensors) beside
 * the 4-bit types. Calibration is English text from the start of the workspace's calibration
 * file, tokenized by the checkpoint's byte tokenizer; held-out windows come from its end.
 *
 * Columns: the importance-weighted weight error Σ imp·ΔW² / Σ imp·W² (what imatrix minimizes),
 * the layer error tr(ΔW H ΔWᵀ) / tr(W H Wᵀ) with the full H = XᵀX, both averaged over the 15
 * projections and the head, and the logit error of the written file run by our decoder on the
 * held-out windows against the float model (relative L2 and mean KL). Ratios are imatrix / RTN.
 * A benchmark, not a test: it prints, it does not assert. Run it with:
 *   node esbuild.mjs && node dist/bench/ggufImatrix.bench.js
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HESSIAN_BUDGET } from '../src/core/calibration/layerGroups';
import { buildDecoder, openDecoderSource } from '../src/core/decoder';
import { decodeGgml, importanceError } from '../src/core/gguf/importanceError';
import { quadraticTrace, quadraticTraceOfDifference } from '../src/core/linalg/quadraticTrace';
import { OnnxModel } from '../src/core/onnx/OnnxModel';
import { canonicalWeight, findWeightTargets } from '../src/core/onnx/rewrite/weightTargets';
import { dequantize } from '../src/core/quant/dequantize';
import { gptq } from '../src/core/quant/gptq';
import { encodeGgml, writableGgmlType } from '../src/core/tensor/ggmlQuantizers';
import { exportGguf, importanceFromHessian } from '../src/worker/jobs/exportGguf';
import { exportGptq } from '../src/worker/jobs/exportGptq';
import { QUIET_JOB } from '../src/worker/jobs/JobContext';
import { streamCalibration } from '../src/worker/jobs/layerCalibration';
import { resolveModelInput } from '../src/worker/jobs/modelInput';
import { transformInputs } from '../src/worker/jobs/transformInputs';
import { DecoderRunner } from '../test/unit/core/decoder/decoderRuns';
import { TINY_LLAMA, writeTinyLlamaFolder } from '../test/unit/support/tinyLlamaFolder';
import { repoRoot } from './support/benchSupport';

const TYPES = ['Q3_K', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_0', 'Q5_1', 'Q5_K', 'Q6_K'];
const TEXT = join(repoRoot(), 'test', 'fixtures', 'workspace', 'tiny_qwen2', 'calibration.txt');

interface Layer {
  readonly name: string;
  readonly W: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly H: Float64Array;
  readonly imp: Float32Array;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Relative L2 and mean KL(p_float ‖ p_quant) over the positions of [seq × vocab] logits. */
function logitError(ref: Float32Array, got: Float32Array, vocab: number): { l2: number; kl: number } {
  let d = 0, n = 0, kl = 0;
  for (let i = 0; i < ref.length; i++) {
    d += (ref[i] - got[i]) ** 2;
    n += ref[i] ** 2;
  }
  const positions = ref.length / vocab;
  for (let p = 0; p < positions; p++) {
    const a = ref.subarray(p * vocab, (p + 1) * vocab), b = got.subarray(p * vocab, (p + 1) * vocab);
    const ma = Math.max(...a), mb = Math.max(...b);
    let za = 0, zb = 0;
    for (let i = 0; i < vocab; i++) {
      za += Math.exp(a[i] - ma);
      zb += Math.exp(b[i] - mb);
    }
    for (let i = 0; i < vocab; i++) {
      const pa = Math.exp(a[i] - ma) / za;
      kl += pa * (a[i] - ma - Math.log(za) - (b[i] - mb - Math.log(zb)));
    }
  }
  return { l2: Math.sqrt(d / n), kl: kl / positions };
}

async function logits(path: string, prompts: readonly (readonly number[])[]): Promise<Float32Array[]> {
  const source = await openDecoderSource(path);
  const runner = await DecoderRunner.open(await buildDecoder(source), source.config);
  try {
    const out: Float32Array[] = [];
    for (const p of prompts) out.push((await runner.step([p], runner.emptyCache(), 0)).logits);
    return out;
  } finally {
    await runner.release();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'quantscope-imatrix-'));
  try {
    const model = join(dir, 'tiny');
    await writeTinyLlamaFolder(model);
    const calibration = { file: TEXT, tokenizer: join(model, 'tokenizer.json'), samples: 8, sequenceLength: 64 };

    // H per projection from the same calibration the job runs.
    const input = await resolveModelInput(model, QUIET_JOB);
    const graph = await OnnxModel.load(input.onnx);
    const targets = findWeightTargets(graph).targets;
    const inputs = await transformInputs(graph, { calibration }, true);
    const byLayer = new Map(targets.map((t) => [t.layer, t]));
    const layers: Layer[] = [];
    await streamCalibration(graph, targets, inputs.calib, DEFAULT_HESSIAN_BUDGET, QUIET_JOB, (group, stats) => {
      for (const l of group.layers) {
        const t = byLayer.get(l), h = stats.get(l);
        if (!t || !h) continue;
        layers.push({ name: t.weight, W: canonicalWeight(graph, t), rows: t.outFeatures, cols: t.inFeatures, H: Float64Array.from(h.hessian, (v) => v / h.rows), imp: importanceFromHessian(h.hessian, t.inFeatures, h.rows) });
      }
    });

    // Held-out windows from the end of the text: <s> then one byte token per byte (id 3 + byte).
    const bytes = new Uint8Array(await readFile(TEXT));
    const prompts = [0, 1, 2, 3].map((k) => [1, ...Array.from(bytes.subarray(bytes.length - 48 * (k + 1), bytes.length - 48 * k), (b) => 3 + b)]);
    const ref = await logits(model, prompts);
    const logitErr = async (path: string): Promise<{ l2: number; kl: number }> => {
      const got = await logits(path, prompts);
      const e = got.map((g, i) => logitError(ref[i], g, TINY_LLAMA.vocab));
      return { l2: mean(e.map((x) => x.l2)), kl: mean(e.map((x) => x.kl)) };
    };

    const rows: string[] = [];
    const fmt = (x: number): string => x.toExponential(2);
    for (const name of TYPES) {
      const type = writableGgmlType(name)!;
      const weighted: number[][] = [[], []], layerErr: number[][] = [[], []];
      for (const l of layers) {
        const H = { rows: l.cols, cols: l.cols, data: l.H };
        const Wm = { rows: l.rows, cols: l.cols, data: l.W };
        const base = quadraticTrace(Wm, H);
        [undefined, l.imp].forEach((imp, k) => {
          const back = decodeGgml(type, encodeGgml(type, l.W, imp), l.W.length);
          weighted[k].push(importanceError(l.W, back, l.imp));
          layerErr[k].push(quadraticTraceOfDifference(Wm, { rows: l.rows, cols: l.cols, data: back }, H) / base);
        });
      }
      const pure = name.toLowerCase();
      const rtn = await exportGguf({ path: model, target: pure, output: join(dir, `${pure}.rtn.gguf`) }, QUIET_JOB);
      const imx = await exportGguf({ path: model, target: pure, output: join(dir, `${pure}.imatrix.gguf`), calibration }, QUIET_JOB);
      const [lr, li] = [await logitErr(rtn.output), await logitErr(imx.output)];
      rows.push(`| ${name} | ${rtn.bitsPerWeight.toFixed(2)} | ${fmt(mean(weighted[0]))} | ${fmt(mean(weighted[1]))} (${(mean(weighted[1]) / mean(weighted[0])).toFixed(2)}×) | ${fmt(mean(layerErr[0]))} | ${fmt(mean(layerErr[1]))} (${(mean(layerErr[1]) / mean(layerErr[0])).toFixed(2)}×) | ${fmt(lr.l2)} / ${fmt(lr.kl)} | ${fmt(li.l2)} / ${fmt(li.kl)} |`);
    }
    // GPTQ INT4, symmetric, groups of 32 (Q4_0's block): our GPTQ safetensors, measured the same way.
    const scheme = { bits: 4, symmetric: true, granularity: 'group', groupSize: 32 } as const;
    const gw: number[] = [], gl: number[] = [];
    for (const l of layers) {
      const H = { rows: l.cols, cols: l.cols, data: l.H };
      const Wm = { rows: l.rows, cols: l.cols, data: l.W };
      const back = dequantize(gptq(Wm, H, { scheme }));
      gw.push(importanceError(l.W, back, l.imp));
      gl.push(quadraticTraceOfDifference(Wm, { rows: l.rows, cols: l.cols, data: back }, H) / quadraticTrace(Wm, H));
    }
    const g = await exportGptq({ path: model, bits: 4, groupSize: 32, calibration, output: join(dir, 'tiny-gptq') }, QUIET_JOB);
    const lg = await logitErr(g.output);
    rows.push(`| GPTQ INT4 g32 (safetensors) | ${(4 + 16 / 32).toFixed(2)} | — | ${fmt(mean(gw))} | — | ${fmt(mean(gl))} | — | ${fmt(lg.l2)} / ${fmt(lg.kl)} |`);

    console.log(`${layers.length} weights, calibration ${inputs.calib?.length ?? 0} windows of 64 tokens; logits on ${prompts.length} held-out windows of ${prompts[0].length} tokens`);
    console.log('| Type | bits/weight (file) | weighted error RTN | weighted error imatrix | layer error RTN | layer error imatrix | logits RTN (rel. L2 / KL) | logits imatrix (rel. L2 / KL) |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
