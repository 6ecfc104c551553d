/**
 * `quantscope quantize MODEL --to gguf:TYPE [-o OUT.gguf]`: writes a GGUF for llama.cpp from a
 * `.gguf` (re-quantization) or a Hugging Face decoder folder, in one ggml type for every
 * quantizable weight (as llama-quantize --pure) or a preset (q4_k_m, q5_k_m, q3_k_m, q8_0).
 */
import { basename } from 'node:path';
import type { GgufTarget } from '../core/gguf/ggufTypeRules';
import { quantizeToGguf, type GgufQuantizeReport } from '../core/gguf/quantizeToGguf';
import { bytes } from './renderOutputs';
import { UsageError, type ParsedArgs } from './parseArgs';
import { runCliJob, type CliOutput } from './runCliJob';

/** The report as text: output, size and bits per weight, the type mix, fallbacks and warnings. */
export function renderGgufQuantize(r: GgufQuantizeReport): string {
  const lines = [`GGUF ${r.target} (${r.architecture}): ${r.source} → ${r.output}`];
  lines.push(`Size: ${bytes(r.fileBytes)}, ${r.bitsPerWeight.toFixed(2)} bits per weight over ${r.elements.toLocaleString('en-US')} values in ${r.tensors.length} tensors`);
  const mix = new Map<string, number>();
  for (const t of r.tensors) mix.set(t.type, (mix.get(t.type) ?? 0) + 1);
  lines.push(`Types: ${[...mix].map(([t, n]) => `${t} × ${n}`).join(', ')}`);
  lines.push('Checked: re-opened, every tensor decodes, names, shapes, types and metadata as written');
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}

/** Runs the GGUF path of `quantize` for a parsed command line. */
export async function runGgufQuantize(args: ParsedArgs, target: GgufTarget, output: CliOutput): Promise<number> {
  const model = args.positional[0];
  if (model === undefined) throw new UsageError('quantize --to gguf:TYPE needs MODEL (a .gguf or a Hugging Face model folder)', 'quantize');
  for (const onnxOnly of ['method', 'recipe', 'plan-only', 'layers', 'calib', 'overwrite']) {
    if (args.has(onnxOnly)) throw new UsageError(`--${onnxOnly} goes with ONNX output; --to gguf:TYPE uses round-to-nearest ggml types`, 'quantize');
  }
  const out = args.string('output');
  return runCliJob(
    'quantize',
    (ctx) => quantizeToGguf(model, {
      target,
      ...(out === undefined ? {} : { output: out }),
      onProgress: (done, total, tensor) => ctx.progress(`${basename(model)}: ${tensor}`, done / total),
      isCancelled: ctx.isCancelled,
    }),
    renderGgufQuantize,
    args.json,
    'interrupted; no GGUF was written',
    output,
  );
}
