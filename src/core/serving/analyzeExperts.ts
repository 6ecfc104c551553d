import type { ExpertLayer, ExpertReport } from '../../protocol/servingTypes';
import type { Checkpoint } from '../formats/Checkpoint';
import { CancelledError } from '../linalg/CancelledError';
import { readTensorChunks } from '../tensor/TensorReader';
import { findExperts, type ExpertGroup } from './findExperts';

/** Progress and cancellation, as a job passes them. */
export interface ExpertAnalysisContext {
  readonly isCancelled: () => boolean;
  readonly progress: (message: string, fraction?: number) => void;
}

const CHUNK = 1 << 16;

/**
 * One layer's experts compared in a single streaming pass: the chunks of the same matrix of every
 * expert are read in step, so the Gram matrix of their flattened weights (and each expert's sum,
 * sum of squares and absmax) accumulates in float64 while only one chunk per expert is held.
 */
async function compareLayer(group: ExpertGroup, ctx: ExpertAnalysisContext, notes: string[]): Promise<ExpertLayer> {
  const E = group.experts.length;
  const roles = [...group.experts[0].tensors.keys()].filter((role) => group.experts.every((e) => e.tensors.get(role)?.elements === group.experts[0].tensors.get(role)?.elements));
  const skipped = [...group.experts[0].tensors.keys()].filter((r) => !roles.includes(r));
  if (skipped.length) notes.push(`layer ${group.layer}: ${skipped.join(', ')} differ in size between experts and are left out of the comparison`);
  const gram = Array.from({ length: E }, () => new Float64Array(E));
  const sum = new Float64Array(E);
  const absmax = new Float64Array(E);
  const count = new Float64Array(E);
  for (const role of roles) {
    const iterators = group.experts.map((e) => {
      const t = e.tensors.get(role);
      if (!t) throw new Error(`expert ${e.expert} has no ${role}`);
      return readTensorChunks(t, { float64: true, chunkElements: CHUNK })[Symbol.asyncIterator]();
    });
    for (;;) {
      if (ctx.isCancelled()) throw new CancelledError();
      const chunks = await Promise.all(iterators.map((it) => it.next()));
      if (chunks.some((c) => c.done)) break;
      const values = chunks.map((c) => c.value as Float64Array);
      for (let i = 0; i < E; i++) {
        const a = values[i];
        let s = 0;
        let m = absmax[i];
        for (let k = 0; k < a.length; k++) {
          s += a[k];
          const v = Math.abs(a[k]);
          if (v > m) m = v;
        }
        sum[i] += s;
        absmax[i] = m;
        count[i] += a.length;
        for (let j = i; j < E; j++) {
          const b = values[j];
          let d = 0;
          for (let k = 0; k < a.length; k++) d += a[k] * b[k];
          gram[i][j] += d;
        }
      }
    }
  }
  for (let i = 0; i < E; i++) for (let j = 0; j < i; j++) gram[i][j] = gram[j][i];
  const norms = Array.from({ length: E }, (_, i) => Math.sqrt(gram[i][i]));
  const cosine = gram.map((row, i) => Array.from(row, (g, j) => (norms[i] > 0 && norms[j] > 0 ? g / (norms[i] * norms[j]) : 0)));
  const mergeError = gram.map((row, i) => Array.from(row, (g, j) => {
    const both = gram[i][i] + gram[j][j];
    return both > 0 ? (gram[i][i] + gram[j][j] - 2 * g) / (2 * both) : 0;
  }));
  let closest: ExpertLayer['closest'];
  for (let i = 0; i < E; i++) for (let j = i + 1; j < E; j++) if (!closest || cosine[i][j] > closest.cosine) closest = { a: group.experts[i].expert, b: group.experts[j].expert, cosine: cosine[i][j] };
  return {
    layer: group.layer,
    experts: E,
    roles,
    stats: group.experts.map((e, i) => {
      const mean = count[i] > 0 ? sum[i] / count[i] : 0;
      return { expert: e.expert, parameters: count[i], norm: norms[i], absmax: absmax[i], mean, std: count[i] > 0 ? Math.sqrt(Math.max(0, gram[i][i] / count[i] - mean * mean)) : 0 };
    }),
    cosine,
    mergeError,
    closest,
  };
}

/**
 * The mixture-of-experts structure of a checkpoint: which layers have routed experts, each
 * expert's weight statistics, and how alike each pair is (cosine of the flattened weights, and
 * the relative error of merging the two into their mean). `layers` limits the layers compared.
 */
export async function analyzeExperts(checkpoint: Checkpoint, ctx: ExpertAnalysisContext, layers?: readonly number[]): Promise<ExpertReport> {
  const layout = findExperts(checkpoint);
  const notes = [...layout.notes];
  const groups = layout.layers.filter((g) => g.experts.length > 1 && (!layers || layers.includes(g.layer)));
  const out: ExpertLayer[] = [];
  for (const [i, g] of groups.entries()) {
    ctx.progress(`comparing the experts of layer ${g.layer}`, i / groups.length);
    out.push(await compareLayer(g, ctx, notes));
  }
  return {
    path: checkpoint.path,
    detectedBy: layout.detectedBy,
    layers: out,
    sharedExpertTensors: layout.sharedExpertTensors,
    expertParameters: layout.layers.reduce((s, g) => s + g.experts.reduce((t, e) => t + [...e.tensors.values()].reduce((u, x) => u + x.elements, 0), 0), 0),
    notes,
  };
}
