import type { ExpertReport, MemoryPlan, ModelArchitecture } from '../protocol/servingTypes';

/** Bytes in the binary unit that keeps three figures or so: `524.3 KiB`, `12.55 GiB`. */
export function binaryBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(2)} ${units[i]}`;
}

const count = (n: number): string => n.toLocaleString('en-US');

function attentionKind(a: ModelArchitecture): string {
  if (a.latentAttention) return `latent attention, KV rank ${a.latentAttention.kvLoraRank}`;
  if (a.numKvHeads === a.numHeads) return 'MHA';
  return a.numKvHeads === 1 ? 'MQA' : 'GQA';
}

function architectureLines(a: ModelArchitecture): string[] {
  const lines = [
    `${a.file}  ${a.modelType}`,
    `  layers ${a.numLayers}, hidden ${a.hiddenSize}, MLP ${a.intermediateSize}, heads ${a.numHeads} / KV heads ${a.numKvHeads} (${attentionKind(a)}), head dim ${a.headDim}, vocabulary ${a.vocabSize}, context ${a.contextLength ?? 'unknown'}`,
  ];
  if (a.ropeTheta !== undefined || a.ropeScaling) lines.push(`  rope theta ${a.ropeTheta ?? 'default'}${a.ropeScaling ? `, scaling ${a.ropeScaling}` : ''}`);
  if (a.slidingWindow !== undefined) lines.push(`  sliding window ${a.slidingWindow} tokens on ${a.slidingLayers} of ${a.numLayers} layers`);
  if (a.moe) lines.push(`  MoE: ${a.moe.experts} experts, ${a.moe.expertsPerToken} per token, ${a.moe.sharedExperts} shared; expert width ${a.moe.expertIntermediateSize} in ${a.moe.moeLayers} of ${a.numLayers} layers`);
  const by = (origin: string): string => Object.entries(a.fields).filter(([, f]) => f.origin === origin).map(([k, f]) => `${k} (${f.from})`).join(', ');
  for (const origin of ['read', 'inferred', 'default']) {
    const list = by(origin);
    if (list) lines.push(`  ${origin.padEnd(8)} ${list}`);
  }
  return lines;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => `  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ')}`.trimEnd());
}

/** The experts of each MoE layer: their statistics and the most alike pairs. */
function expertLines(r: ExpertReport): string[] {
  const lines = [`Experts (${r.detectedBy}; ${count(r.expertParameters)} parameters${r.sharedExpertTensors ? `, ${r.sharedExpertTensors} shared-expert tensors` : ''})`];
  if (r.layers.length === 0) lines.push('  no layer with more than one routed expert');
  for (const l of r.layers) {
    const norms = l.stats.map((s) => s.norm);
    const pairs: [number, number, number][] = [];
    for (let i = 0; i < l.experts; i++) for (let j = i + 1; j < l.experts; j++) pairs.push([i, j, l.cosine[i][j]]);
    pairs.sort((a, b) => b[2] - a[2]);
    const top = pairs.slice(0, 3).map(([i, j, c]) => `${l.stats[i].expert}~${l.stats[j].expert} cos ${c.toFixed(3)} merge error ${l.mergeError[i][j].toExponential(2)}`).join('; ');
    lines.push(`  layer ${l.layer}: ${l.experts} experts (${l.roles.join(', ')}), norm ${Math.min(...norms).toFixed(3)}–${Math.max(...norms).toFixed(3)}; closest ${top}`);
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines;
}

/** Renders a memory plan for a terminal: the architecture, then weights, KV cache, activations and the fit table. */
export function renderMemory(plan: MemoryPlan): string {
  const s = plan.settings;
  const lines = architectureLines(plan.architecture);
  const p = plan.parameters;
  lines.push(`  parameters ${count(p.total)}${p.active !== p.total ? `, ${count(p.active)} active per token` : ''} (embedding ${count(p.embedding)})`);
  lines.push('', 'Weights');
  lines.push(...table(plan.weights.map((w) => [w.precision, binaryBytes(w.bytes), `${w.bitsPerWeight.toFixed(2)} bits/weight`, w.scaleBytes ? `scales ${binaryBytes(w.scaleBytes)}` : ''])));
  lines.push('', `KV cache (per token; per sequence of ${s.contextLength} tokens)`);
  lines.push(...table(plan.kv.map((k) => [k.precision, `${count(k.bytesPerToken)} B/token`, binaryBytes(k.bytesPerSequence), k.scaleBytesPerToken ? `scales ${count(k.scaleBytesPerToken)} B/token` : ''])));
  const act = plan.activations;
  lines.push('', `Activations of a ${act.prefillTokens}-token prefill: ${binaryBytes(act.flashBytes)} with fused attention, ${binaryBytes(act.eagerBytes)} eager`);
  const left = s.budgetBytes - plan.fixedBytes;
  lines.push('', `Budget ${binaryBytes(s.budgetBytes)}: ${s.weights} weights and activations take ${binaryBytes(plan.fixedBytes)}, ${left > 0 ? binaryBytes(left) : 'nothing'} left for a ${s.kv} cache in ${s.blockSize}-token blocks`);
  lines.push(...table([['context', 'KV per sequence', 'block waste', 'max batch'], ...plan.fits.map((f) => [String(f.contextLength), binaryBytes(f.kvBytesPerSequence), binaryBytes(f.pagingWasteBytes), String(f.maxBatch)])]));
  lines.push(`  longest context at batch 1: ${plan.maxContextAtBatch1 > 0 ? `${plan.maxContextAtBatch1} tokens` : 'none fits'}`);
  if (plan.experts) lines.push('', ...expertLines(plan.experts));
  for (const w of plan.warnings) lines.push(`note: ${w}`);
  return lines.join('\n') + '\n';
}
