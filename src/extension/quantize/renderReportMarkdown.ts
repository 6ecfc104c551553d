import type { QuantizeReport } from '../../protocol/quantizeTypes';
import { describeQuantize } from '../../core/transform/describeReport';

/** A report figure: exponent notation for very small or large values, a dash when there is none. */
export function formatReportNumber(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined ? '–' : v === 0 ? '0' : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(digits) : v.toFixed(digits + 2);
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(2)} MiB`;
}

const e = formatReportNumber;

/** The "output error on held-out inputs" section shared by every transform's report. */
export function outputErrorTable(v: QuantizeReport['validation']): string[] {
  return [
    '## Output error on held-out inputs',
    '',
    v.synthetic
      ? `Measured on ${v.batches} held-out batches of **generated** inputs (not the calibration batches): they show how far the outputs move, not the accuracy on your data.`
      : `Measured on ${v.batches} held-out batches of your data, not used for calibration.`,
    '',
    '| output | relative L2 | cosine | max abs error | KL | top-1 agreement |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...v.outputs.map((o) => `| ${o.name} | ${e(o.relativeL2)} | ${o.cosine.toFixed(6)} | ${e(o.maxAbsError)} | ${e(o.kl)} | ${o.top1Agreement === null ? '–' : `${(o.top1Agreement * 100).toFixed(1)}%`} |`),
  ];
}

/** How a layer's weights are stored, with its activation scale or float channels where it has them. */
function storedAs(l: QuantizeReport['layers'][number]): string {
  const parts = [l.choice ? `${l.choice}: ${l.container}` : l.container];
  if (l.activation) parts.push(`act. scale ${e(l.activation.scale)}`);
  if (l.outlierChannels?.length) parts.push(`${l.outlierChannels.length} float channels`);
  return parts.join(', ');
}

/** The quantization report as Markdown: what changed, what it cost, and how it was measured. */
export function renderReportMarkdown(r: QuantizeReport): string {
  const name = (p: string): string => p.split(/[\\/]/).pop() ?? p;
  const scheme = describeQuantize(r);
  const out: string[] = [
    `# ${name(r.source)} → ${name(r.output)}`,
    '',
    `**${scheme}** on ${r.layers.length} layers. ONNX Runtime ${r.runtimeVersion} loaded and ran the result.`,
    '',
    ...(r.decoderGraph ? [`The checkpoint ran as the decoder graph Quantscope builds from it (${r.decoderGraph.cacheHit ? 'reused from the cache' : `built in ${r.decoderGraph.buildSeconds.toFixed(1)} s and cached`} in \`.quantscope/decoder/\` beside it); the "source" size is that graph's.`, ''] : []),
    '## Size',
    '',
    '| | source | output |',
    '| --- | ---: | ---: |',
    `| file | ${mib(r.sizes.sourceBytes)} | ${mib(r.sizes.outputBytes)} |`,
    `| quantized weights (${r.sizes.quantizedWeights} values) | ${mib(r.sizes.floatWeightBytes)} | ${mib(r.sizes.quantizedWeightBytes)} |`,
    `| bits per weight | 32 | ${r.sizes.bitsPerWeight.toFixed(2)} |`,
    '',
    ...outputErrorTable(r.validation),
    '',
    '## Layers',
    '',
    r.synthetic ? 'Layer errors use H = XᵀX from calibration on **generated** inputs.' : r.calibrationBatches ? `Layer errors use H = XᵀX from ${r.calibrationBatches} calibration batches.` : 'RTN needs no calibration; layer errors are shown where H was computed.',
    '',
    '| layer | weight | stored as | error tr(ΔW H ΔWᵀ)/tr(W H Wᵀ) | RTN error | weight SQNR | bits/weight |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    ...r.layers.map((l) => `| ${l.layer} | ${l.weight} | ${storedAs(l)} | ${e(l.relativeError)} | ${e(l.rtnRelativeError)} | ${l.sqnrDb === null ? '–' : `${l.sqnrDb.toFixed(1)} dB`} | ${l.bitsPerWeight.toFixed(2)} |`),
  ];
  if (r.smoothing?.length) {
    out.push(
      '',
      '## SmoothQuant',
      '',
      `Per activation X, s_j = max|X_j|^α / max|W_j|^(1−α) with α = ${r.smoothing[0].alpha}; X is divided by s (folded into the producer where that is exact, else an explicit Mul) and the weights' input channels are multiplied by it. Difficulty is max/median of the channel absmax.`,
      '',
      '| activation | layers | s min | s max | difficulty before | after | how |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      ...r.smoothing.map((s) => `| ${s.activation} | ${s.layers.length} | ${e(s.minScale)} | ${e(s.maxScale)} | ${e(s.difficultyBefore)} | ${e(s.difficultyAfter)} | ${s.foldedInto ? `folded into ${s.foldedInto.opType} ${s.foldedInto.node}` : 'Mul node'} |`),
    );
  }
  const decomposed = r.layers.filter((l) => l.outlierChannels?.length);
  // Only LLM.int8() reports an outlier threshold.
  if (r.threshold !== undefined) {
    out.push('', '## LLM.int8() decomposition', '', decomposed.length
      ? `Input channels whose activation absmax reached ${r.threshold} stay in float (a Gather, a float MatMul and an Add); the rest go through INT8.`
      : `No input channel reached the threshold ${r.threshold}: every layer went to plain W8A8.`);
    if (decomposed.length) out.push('', ...decomposed.map((l) => `- ${l.layer}: ${l.outlierChannels?.length ?? 0} of ${l.inFeatures} channels in float (${(l.outlierChannels ?? []).slice(0, 12).join(', ')}${(l.outlierChannels?.length ?? 0) > 12 ? ', …' : ''})`));
  }
  if (r.plan) {
    const budget = r.plan.budget === null ? 'a given plan' : r.plan.budget.kind === 'bits' ? `a budget of ${r.plan.budget.bitsPerWeight} bits per weight` : `an error budget of ${r.plan.budget.maxError}`;
    const stored = r.plan.storedBitsPerWeight === undefined ? '' : ` The written model stores ${r.plan.storedBitsPerWeight.toFixed(2)} bits per weight over these layers (float ones at 32; MatMulNBits pads rows to whole blocks).`;
    out.push('', '## Mixed-precision plan', '', `Planned for ${budget}${r.plan.plannedBitsPerWeight === null ? '' : `: ${r.plan.plannedBitsPerWeight.toFixed(2)} bits per weight expected, summed layer error ${e(r.plan.plannedError)}`}.${stored}${r.plan.note ? ` ${r.plan.note}` : ''}`, '');
    out.push('| layer | precision |', '| --- | --- |', ...Object.entries(r.plan.choices).map(([layer, c]) => `| ${layer} | ${c} |`));
  }
  if (r.skipped.length) out.push('', '## Not quantized', '', ...r.skipped.map((s) => `- ${s.layer}: ${s.reason}`));
  out.push(
    '',
    '## Time',
    '',
    `Calibration ${r.seconds.calibration.toFixed(2)} s, quantization ${r.seconds.quantization.toFixed(2)} s, writing ${r.seconds.write.toFixed(2)} s, validation ${r.seconds.validation.toFixed(2)} s; ${r.seconds.total.toFixed(2)} s in all.`,
  );
  if (r.format === 'qdq') out.push('', '> Weight-only QDQ stores the weights small but ONNX Runtime dequantizes them and computes in float: expect a smaller file, not a faster model. MatMulNBits (4-bit) or dynamic W8A8 are the formats that run faster on CPU.');
  return out.join('\n') + '\n';
}
