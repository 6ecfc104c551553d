/**
 * `quantscope quantize MODEL --to gguf:TYPE [-o OUT.gguf]`: writes a GGUF for llama.cpp from a
 * `.gguf` (re-quantization) or a Hugging Face decoder folder, in one ggml type for every
 * quantizable weight (as llama-quantize --pure) or a preset (q4_k_m, q5_k_m, q3_k_m, q8_0).
 */
import { basename } from 'node:path';
import { targetName, type GgufTarget } from '../core/gguf/ggufTypeRules';
import type { GgufExportParams, GgufExportReport } from '../protocol/ggufExportTypes';
import { exportGguf } from '../worker/jobs/exportGguf';
import type { QuantizeCalibration } from '../protocol/transformTypes';
import { bytes } from './renderOutputs';
import { UsageError, type ParsedArgs } from './parseArgs';
import { runCliJob, type CliOutput } from './runCliJob';

/** The report as text: output, size and bits per weight, the type mix, fallbacks and warnings. */
export function renderGgufQuantize(r: GgufExportReport): string {
  const lines = [`GGUF ${r.target} (${r.architecture}): ${r.source} → ${r.output}`];
  lines.push(`Size: ${bytes(r.fileBytes)}, ${r.bitsPerWeight.toFixed(2)} bits per weight over ${r.elements.toLocaleString('en-US')} values in ${r.tensors.length} tensors`);
  const mix = new Map<string, number>();
  for (const t of r.tensors) mix.set(t.type, (mix.get(t.type) ?? 0) + 1);
  lines.push(`Types: ${[...mix].map(([t, n]) => `${t} × ${n}`).join(', ')}`);
  lines.push('Checked: re-opened, every tensor decodes, names, shapes, types and metadata as written');
  if (r.calibration) {
    const c = r.calibration;
    lines.push(`Importance matrix: ${c.layers} weights from ${c.batches} calibration batches${c.synthetic ? ' of generated token ids (synthetic: give --calibration FILE for real data)' : ''}, ${c.seconds.toFixed(1)} s`);
    const weighted = r.tensors.filter((t) => t.importance);
    if (weighted.length) {
      lines.push('Importance-weighted error Σ imp·ΔW² / Σ imp·W² (imatrix vs round-to-nearest):');
      const width = Math.max(...weighted.map((t) => t.name.length));
      for (const t of weighted) {
        const e = t.importance;
        if (e) lines.push(`  ${t.name.padEnd(width)}  ${t.type.padEnd(5)} ${e.weightedError.toExponential(3)} vs ${e.rtnWeightedError.toExponential(3)} (${e.rtnWeightedError > 0 ? `${((1 - e.weightedError / e.rtnWeightedError) * 100).toFixed(1)} % less` : 'exact'})`);
      }
    }
  }
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}

/**
 * Runs the GGUF path of `quantize` for a parsed command line; with a calibration (from
 * --calibration or --calib, read by the caller) an importance matrix is measured first.
 */
export async function runGgufQuantize(args: ParsedArgs, target: GgufTarget, calibration: QuantizeCalibration | undefined, output: CliOutput): Promise<number> {
  const model = args.positional[0];
  if (model === undefined) throw new UsageError('quantize --to gguf:TYPE needs MODEL (a .gguf or a Hugging Face model folder)', 'quantize');
  for (const onnxOnly of ['method', 'recipe', 'plan-only', 'layers', 'overwrite']) {
    if (args.has(onnxOnly)) throw new UsageError(`--${onnxOnly} goes with ONNX output; --to gguf:TYPE uses ggml's block quantizers`, 'quantize');
  }
  const out = args.string('output');
  const params: GgufExportParams = { path: model, target: targetName(target), ...(out === undefined ? {} : { output: out }), ...(calibration ? { calibration } : {}) };
  return runCliJob(
    'quantize',
    (ctx) => exportGguf(params, { isCancelled: ctx.isCancelled, progress: (m, f) => ctx.progress(`${basename(model)}: ${m}`, f) }),
    renderGgufQuantize,
    args.json,
    'interrupted; no GGUF was written',
    output,
  );
}
