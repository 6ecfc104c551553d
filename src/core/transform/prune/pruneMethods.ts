/**
 * The pruning entries of the method table: magnitude, N:M and SparseGPT, over one shared kernel
 * that writes dense zeros and reports what a sparse format would save.
 */
import { findWeightTargets } from '../../onnx/rewrite';
import { magnitudePruneGlobal } from '../../prune';
import type { MagnitudeParams, NMPattern, NmParams, PruneLayerReport, PruneParams, PruneReport, SparseGptParams } from '../../../protocol/pruneTypes';
import { ParamError, type ParamNamer, type ParamSpec } from '../ParamSpec';
import type { MethodKernel, TransformMethod, TransformRun } from '../TransformMethod';
import { defaultOf } from '../quantize/quantizeMethods';
import { currentWeight, pruneLayer } from './pruneLayer';

/** What the report says about speed: ONNX Runtime's CPU kernels are dense, so zeros cost the same time. */
export const PRUNE_LATENCY_NOTE =
  'ONNX Runtime on CPU has no sparse kernels: the pruned weights are stored as dense zeros and run at the same speed (no regression, no gain). ' +
  'The benefit on CPU is the size after compression and the accuracy kept at a given sparsity; an N:M speedup needs sparse tensor cores.';

/** `2:4` as a pattern; throws what the text must be. */
function parsePattern(text: string): NMPattern {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new Error('look like 2:4');
  const n = Number(m[1]), mm = Number(m[2]);
  if (mm < 2 || n > mm) throw new Error('be N:M with 0 ≤ N ≤ M and M ≥ 2');
  return { n, m: mm };
}

function printPattern(p: unknown): string {
  return typeof p === 'object' && p !== null && 'n' in p && 'm' in p ? `${String(p.n)}:${String(p.m)}` : String(p);
}

const UNSTRUCTURED_PICKS = [0.5, 0.6, 0.7, 0.8].map((s) => ({ value: s, label: `${s * 100}% unstructured` }));
const SPARSITY: ParamSpec = { name: 'sparsity', field: 'sparsity', kind: 'number', min: 0, max: 1, default: 0.5, placeholder: 'S', help: 'Fraction of the weights pruned, unstructured', pickTitle: 'sparsity', picks: UNSTRUCTURED_PICKS };
const PATTERN: ParamSpec = { name: 'pattern', field: 'pattern', kind: 'string', placeholder: 'N:M', help: 'Keep at most N of every M consecutive input weights, such as 2:4', codec: { parse: parsePattern, print: printPattern } };
const PERMUTE: ParamSpec = {
  name: 'permute', field: 'permute', kind: 'flag', default: false, help: 'Search an input-channel permutation that keeps more weight under the N:M pattern (Pool & Yu 2021)',
  pickTitle: 'channel permutation (Pool & Yu 2021)', pickWhen: (p) => p.pattern !== undefined,
  picks: [
    { value: true, label: 'Search a channel permutation', description: 'keeps more weight magnitude under N:M; applied to the producer layer or as a Gather, so the model computes the same' },
    { value: false, label: 'No permutation' },
  ],
};
const PERMUTE_ONLY: ParamSpec = { name: 'permute-only', field: 'permuteOnly', kind: 'flag', cliHidden: true, default: false, help: 'Apply the permutation but keep every weight (checks the permutation plumbing)' };

/** A permutation needs a pattern to serve. */
function checkPermutation(p: PruneParams, nameOf: ParamNamer): void {
  if ((p.permute || p.permuteOnly) && !p.pattern) throw new ParamError('permute', `${nameOf('permute')} needs an N:M ${nameOf('pattern')}`);
}

/** The pattern as `n:m`, or null. */
function patternText(p: PruneParams): string | null {
  return p.pattern ? `${p.pattern.n}:${p.pattern.m}` : null;
}

/** `2of4`, `pruned`, or `permuted` for a permutation without pruning. */
function pruneSuffix(p: PruneParams): string {
  if (p.permuteOnly) return 'permuted';
  return p.pattern ? `${p.pattern.n}of${p.pattern.m}` : 'pruned';
}

function describePrune(r: PruneReport): string {
  const what = r.pattern ?? `${((r.targetSparsity ?? 0) * 100).toFixed(0)}% unstructured${r.global ? ' (global threshold)' : ''}`;
  return `${r.method} ${what}${r.permuted ? ' with channel permutation' : ''}`;
}

function zeros(l: PruneLayerReport): number {
  return Math.round(l.sparsity * l.inFeatures * l.outFeatures);
}

/** The pruning kernel of `run`: `secondOrder` is SparseGPT's update; otherwise masks by magnitude. */
function pruneKernel(run: TransformRun<PruneParams>, secondOrder: boolean): MethodKernel<PruneLayerReport, PruneReport> {
  const { model, params: p, targets } = run;
  const pattern = p.pattern;
  const sparsity = p.sparsity ?? defaultOf<number>([SPARSITY], 'sparsity');
  const all = findWeightTargets(model).targets;
  // A global threshold needs every chosen weight at once, before any is written.
  const presets = new Map<string, Float32Array>();
  if (p.global && !p.permuteOnly) magnitudePruneGlobal(targets.map((t) => currentWeight(model, t)), sparsity).forEach((w, i) => presets.set(targets[i].layer, w.weights));
  const prunedWeights = new Map<string, string>();
  return {
    layer(target, h) {
      const first = prunedWeights.get(target.weight);
      if (first !== undefined) return { skip: `its weight ${target.weight} is shared with ${first}, pruned already` };
      // A weight another kind of node also reads (a tied embedding) would change that node too.
      const reader = model.consumersOf(target.weight).find((n) => !all.some((t) => t.node === n));
      if (reader) return { skip: `its weight ${target.weight} is also read by ${reader.opType ?? '?'} ${reader.name ?? ''}` };
      const report = pruneLayer(model, target, {
        pattern, sparsity, permute: Boolean(p.permute || p.permuteOnly), keepWeights: Boolean(p.permuteOnly), secondOrder,
        hessian: h, preset: presets.get(target.layer), all, names: run.names, isCancelled: run.ctx.isCancelled,
      });
      prunedWeights.set(target.weight, target.layer);
      return { layer: report };
    },
    metadata(layers) {
      const weights = layers.reduce((s, l) => s + l.inFeatures * l.outFeatures, 0);
      return {
        method: p.method, pattern: patternText(p), targetSparsity: pattern ? null : sparsity,
        sparsity: weights ? layers.reduce((s, l) => s + zeros(l), 0) / weights : 0,
        global: p.global ?? false, permuted: layers.some((l) => l.permutation !== undefined && l.permutation.applied !== 'none'),
        permuteOnly: p.permuteOnly ?? false, layers: layers.map((l) => l.layer),
      };
    },
    report({ base, sizes, seconds }) {
      const { layers } = base;
      const weights = layers.reduce((s, l) => s + l.inFeatures * l.outFeatures, 0);
      // Stored as a bitmask of the kept positions plus the nonzero float32 values.
      const compressedEstimateBytes = sizes.outputBytes - 4 * weights + layers.reduce((s, l) => {
        const n = l.inFeatures * l.outFeatures;
        return s + Math.ceil(n / 8) + 4 * (n - Math.round(l.sparsity * n));
      }, 0);
      const gathers = layers.filter((l) => l.permutation?.applied === 'gather').length;
      const warnings = [...base.warnings];
      const unapplied = layers.filter((l) => l.permutation?.applied === 'none');
      if (unapplied.length) warnings.push(`${unapplied.length} layer(s) kept their channel order: ${unapplied[0].layer}: ${unapplied[0].permutation?.reason ?? ''}`);
      return {
        ...base,
        method: p.method,
        pattern: patternText(p),
        targetSparsity: pattern ? null : sparsity,
        global: p.global ?? false,
        permuted: layers.some((l) => l.permutation !== undefined && l.permutation.applied !== 'none'),
        sizes: { ...sizes, zeros: layers.reduce((s, l) => s + zeros(l), 0), weights, compressedEstimateBytes },
        latencyNote: gathers ? `${PRUNE_LATENCY_NOTE} The ${gathers} Gather node(s) inserted for the channel permutation copy their activation on every run: a small cost, measure it before relying on "no regression".` : PRUNE_LATENCY_NOTE,
        seconds: { calibration: seconds.calibration, pruning: seconds.kernel, write: seconds.write, validation: seconds.validation, total: seconds.total },
        warnings,
      };
    },
  };
}

const MAGNITUDE_PARAMS: readonly ParamSpec[] = [SPARSITY, { name: 'global', field: 'global', kind: 'flag', default: false, help: 'One magnitude threshold over all layers instead of one per layer' }];

/** Unstructured magnitude pruning. */
export const MAGNITUDE: TransformMethod<MagnitudeParams, PruneLayerReport, PruneReport> = {
  name: 'magnitude', job: 'prune', label: 'Magnitude',
  description: 'zero the smallest weights, unstructured',
  params: MAGNITUDE_PARAMS,
  check(p, nameOf) {
    if ((p as PruneParams).pattern) throw new ParamError('pattern', `magnitude pruning is unstructured; use ${nameOf('method')} nm for an N:M pattern`);
    checkPermutation(p, nameOf);
  },
  needs: () => ({ calibration: false, hessian: false, activations: false }),
  suffix: pruneSuffix,
  start: (run) => pruneKernel(run, false),
  describe: describePrune,
};

const NM_PARAMS: readonly ParamSpec[] = [
  { ...PATTERN, pickTitle: 'pattern', picks: ['2:4', '1:4', '4:8'].map((v) => ({ value: v, label: v })) },
  PERMUTE, PERMUTE_ONLY,
];

/** N:M magnitude pruning, with an optional channel permutation. */
export const NM: TransformMethod<NmParams, PruneLayerReport, PruneReport> = {
  name: 'nm', job: 'prune', label: 'N:M',
  description: 'keep N of every M weights along the input axis (2:4 for sparse tensor cores)',
  params: NM_PARAMS,
  check(p, nameOf) {
    if (!p.pattern) throw new ParamError('pattern', `${nameOf('method')} nm needs ${nameOf('pattern')} N:M, e.g. 2:4`);
    checkPermutation(p, nameOf);
  },
  needs: () => ({ calibration: false, hessian: false, activations: false }),
  suffix: pruneSuffix,
  start: (run) => pruneKernel(run, false),
  describe: describePrune,
};

const SPARSEGPT_PARAMS: readonly ParamSpec[] = [
  { ...SPARSITY, pickTitle: 'sparsity', picks: [...UNSTRUCTURED_PICKS, { label: '2:4', with: { pattern: { n: 2, m: 4 } } }, { label: '4:8', with: { pattern: { n: 4, m: 8 } } }] },
  { ...PATTERN, help: 'Semi-structured N:M instead of a sparsity, such as 2:4' },
  PERMUTE, PERMUTE_ONLY,
];

/** SparseGPT: one-shot second-order pruning with H from calibration. */
export const SPARSEGPT: TransformMethod<SparseGptParams, PruneLayerReport, PruneReport> = {
  name: 'sparsegpt', job: 'prune', label: 'SparseGPT',
  description: 'one-shot second-order pruning with H = XᵀX from calibration (Frantar & Alistarh 2023)',
  params: SPARSEGPT_PARAMS,
  check: checkPermutation,
  needs: () => ({ calibration: true, hessian: true, activations: false }),
  suffix: pruneSuffix,
  start: (run) => pruneKernel(run, true),
  describe: describePrune,
};
