/**
 * The quantization entries of the method table: RTN, GPTQ, SmoothQuant, LLM.int8() and
 * mixed-precision plans. Each says what it takes and needs, and how it sets up the shared
 * quantization kernel.
 */
import { isPlanChoice, PLAN_CHOICES, type PlanChoice } from '../../quant/mixedPrecisionPlan';
import type { QuantScheme } from '../../quant/QuantScheme';
import { checkSmoothAlpha } from '../../quant/smoothQuant';
import type { GptqParams, LayerReport, LlmInt8Params, MixedPlanParams, QuantizeFormat, QuantizeReport, RtnParams, SmoothQuantParams, WeightRounding } from '../../../protocol/quantizeTypes';
import type { SkippedRewrite } from '../../../protocol/rewriteTypes';
import { CLI_NAMES, ParamError, type ParamNamer, type ParamSpec } from '../ParamSpec';
import type { MethodNeeds, TransformMethod, TransformRun } from '../TransformMethod';
import { planLayers } from './planLayers';
import { quantizeKernel, type QuantizeSettings } from './quantizeKernel';

const FORMAT_NAMES: Readonly<Record<QuantizeFormat, string>> = { nbits: 'MatMulNBits', dynamic: 'dynamic W8A8', static: 'static W8A8 (QDQ)', qdq: 'weight-only QDQ' };

const BITS: ParamSpec = { name: 'bits', field: 'bits', kind: 'enum', values: ['8', '4', '3'], numeric: true, help: 'Weight bits; needed for rtn and gptq in the qdq format (implied: 8 for the W8A8 formats and methods, 4 for nbits)' };
const GROUP: ParamSpec = {
  name: 'group', field: 'group', kind: 'int', min: 1, default: 128, placeholder: 'N',
  help: 'Weights per scale along the input axis; without it one scale per output channel, except MatMulNBits, which takes blocks of the default',
  // Asked after the output format, whose pick sets the bits that decide whether a block size applies.
  pickTitle: 'block size along the input axis', pickWhen: (p) => p.bits === 4, pickOrder: 2.5,
  picks: [128, 64, 32].map((n) => ({ value: n, label: `Block ${n}`, description: n === 128 ? 'the usual choice' : 'finer scales, larger file' })),
};
const ACCURACY_LEVEL: ParamSpec = {
  name: 'accuracy-level', field: 'accuracyLevel', kind: 'int', min: 0, max: 4, placeholder: '0-4',
  help: 'MatMulNBits accuracy_level (nbits only): 4 computes in int8 (activations quantized per block), often much faster on AVX2/AVX-512 CPUs; unset keeps float compute',
};
const ASYM: ParamSpec = { name: 'asym', field: 'symmetric', kind: 'flag', sets: false, default: true, help: 'Asymmetric weights (a zero point per group or channel)' };
const WEIGHT_FORMAT: ParamSpec = {
  name: 'format', field: 'format', kind: 'enum', values: ['qdq', 'dynamic', 'static', 'nbits'], default: 'qdq', placeholder: 'qdq|dynamic|static|nbits',
  help: 'How the result is stored: QDQ weights, W8A8 dynamic or static, or MatMulNBits (SmoothQuant defaults to static, LLM.int8() to dynamic)',
  pickTitle: 'bits and output format',
  picks: [
    { value: 'nbits', label: 'INT4 MatMulNBits', description: 'com.microsoft::MatMulNBits: 4-bit weights, the fast path on CPU', with: { bits: 4 } },
    { value: 'dynamic', label: 'INT8 dynamic W8A8', description: 'weights INT8, activations quantized at run time', with: { bits: 8 } },
    { value: 'static', label: 'INT8 static W8A8 (QDQ)', description: 'weights and activations INT8, activation scales from calibration', with: { bits: 8 } },
    { value: 'qdq', label: 'INT8 weight-only', description: 'DequantizeLinear before each MatMul: smaller file, float compute', with: { bits: 8 } },
  ],
};
const STATIC_PICK = { value: 'static', label: 'INT8 static W8A8 (QDQ)' } as const;
const DYNAMIC_PICK = { value: 'dynamic', label: 'INT8 dynamic W8A8' } as const;
/** The W8A8 output of SmoothQuant and LLM.int8(), whose default and picks differ. */
function w8a8Format(first: 'static' | 'dynamic', picks: ParamSpec['picks']): ParamSpec {
  return { name: 'format', field: 'format', kind: 'enum', values: first === 'static' ? ['static', 'dynamic'] : ['dynamic', 'static'], default: first, placeholder: 'static|dynamic', help: `W8A8 with activation scales from calibration (static) or computed per call (dynamic)`, pickTitle: 'output format', picks };
}
const W8A8_BITS: ParamSpec = { ...BITS, values: ['8'], help: 'W8A8: 8 bits' };
/** How weights are rounded under the methods that build on RTN or GPTQ; `picks` where the QuickPick asks. */
function weightsSpec(picks?: ParamSpec['picks']): ParamSpec {
  return { name: 'weights', field: 'weights', kind: 'enum', values: ['rtn', 'gptq'], default: 'rtn', placeholder: 'rtn|gptq', help: 'How the quantized layers get their weights', pickTitle: 'how the weights are rounded', picks };
}

/** The default of `field` in `specs`: the table is the only place defaults are written. */
export function defaultOf<T extends string | number | boolean>(specs: readonly ParamSpec[], field: string): T {
  const spec = specs.find((s) => s.field === field && s.default !== undefined);
  if (!spec) throw new Error(`no default for ${field}`);
  return spec.default as T;
}

/** Bits the format implies when they are not given: MatMulNBits is 4-bit, W8A8 8-bit. */
function impliedBits(format: QuantizeFormat): 8 | 4 | undefined {
  return format === 'nbits' ? 4 : format === 'dynamic' || format === 'static' ? 8 : undefined;
}

/** RTN's and GPTQ's format (default from the table) and bits (given, or implied by the format). */
function weightDefaults(given: { readonly bits?: 8 | 4 | 3; readonly format?: QuantizeFormat }, specs: readonly ParamSpec[], nameOf: ParamNamer): { format: QuantizeFormat; bits: 8 | 4 | 3 } {
  const format = given.format ?? defaultOf<QuantizeFormat>(specs, 'format');
  const bits = given.bits ?? impliedBits(format);
  if (bits === undefined) throw new ParamError('bits', `quantscope quantize needs ${nameOf('bits')} ${BITS.values?.join('|') ?? ''}`);
  return { format, bits };
}

/** The scheme and format RTN or GPTQ writes, refusing combinations no output can hold. */
function weightSettings(p: RtnParams | GptqParams, specs: readonly ParamSpec[]): Pick<QuantizeSettings, 'scheme' | 'format' | 'fitGroup' | 'accuracyLevel'> {
  const { bits, format } = p;
  if (format === 'nbits' && bits !== 4) throw new RangeError(`the nbits format (MatMulNBits) stores 4-bit weights only; got ${bits} bits (use --format qdq for 8 or 3 bits)`);
  if ((format === 'dynamic' || format === 'static') && bits !== 8) throw new RangeError(`the ${format} format is W8A8: it needs 8-bit weights; got ${bits} bits`);
  if ((format === 'dynamic' || format === 'static') && p.group !== undefined) throw new RangeError(`the ${format} format has one scale per output channel; drop the group size`);
  if (p.accuracyLevel !== undefined && format !== 'nbits') throw new RangeError(`the accuracy level is MatMulNBits' (the nbits format); got the ${format} format`);
  const symmetric = p.symmetric ?? defaultOf<boolean>(specs, 'symmetric');
  // MatMulNBits stores blocks: without a group it takes the table's default block.
  const group = p.group ?? (format === 'nbits' ? defaultOf<number>(specs, 'group') : undefined);
  const scheme: QuantScheme = group === undefined ? { bits, symmetric, granularity: 'channel' } : { bits, symmetric, granularity: 'group', groupSize: group };
  return { scheme, format, fitGroup: p.group === undefined && group !== undefined, ...(p.accuracyLevel ? { accuracyLevel: p.accuracyLevel } : {}) };
}

/** One line for RTN and GPTQ reports. */
function describeWeights(r: QuantizeReport): string {
  return `${r.weightRounding.toUpperCase()} ${r.bits}-bit ${r.symmetric ? 'symmetric' : 'asymmetric'} ${r.group === null ? 'per-channel' : `group ${r.group}`}, ${FORMAT_NAMES[r.format]}`;
}

/** `q4`, or `w8a8`/`w8a8s` for dynamic and static W8A8. */
function weightSuffix(p: RtnParams | GptqParams): string {
  return p.format === 'dynamic' ? `w${p.bits}a8` : p.format === 'static' ? `w${p.bits}a8s` : `q${p.bits}`;
}

const NEEDS_NOTHING = { calibration: false, hessian: false, activations: false } as const;
const INT8_CHANNEL: QuantScheme = { bits: 8, symmetric: true, granularity: 'channel' };

const RTN_PARAMS: readonly ParamSpec[] = [BITS, GROUP, WEIGHT_FORMAT, ASYM, ACCURACY_LEVEL];

/** Round to nearest, as ONNX QuantizeLinear rounds. */
export const RTN: TransformMethod<RtnParams, LayerReport, QuantizeReport> = {
  name: 'rtn', job: 'quantize', label: 'RTN',
  description: 'round to nearest, as ONNX QuantizeLinear rounds',
  params: RTN_PARAMS,
  complete: (given) => ({ ...given, ...weightDefaults(given, RTN_PARAMS, CLI_NAMES) }),
  needs: (p) => ({ ...NEEDS_NOTHING, calibration: p.format === 'static', activations: p.format === 'static' }),
  suffix: weightSuffix,
  start: (run) => quantizeKernel(run, { rounding: 'rtn', ...weightSettings(run.params, RTN_PARAMS), metadata: {} }),
  describe: describeWeights,
};

const GPTQ_PARAMS: readonly ParamSpec[] = [
  ...RTN_PARAMS,
  { name: 'act-order', field: 'actOrder', kind: 'flag', default: false, help: 'Quantize columns in order of decreasing Hessian diagonal (with static groups)' },
  { name: 'damp', field: 'damping', kind: 'number', min: 0, default: 0.01, help: 'Damping added to the Hessian diagonal, as a fraction of its mean' },
];

/** GPTQ: second-order error compensation with H from calibration. */
export const GPTQ: TransformMethod<GptqParams, LayerReport, QuantizeReport> = {
  name: 'gptq', job: 'quantize', label: 'GPTQ',
  description: 'second-order error compensation with H = XᵀX from calibration (Frantar et al. 2022)',
  params: GPTQ_PARAMS,
  complete: (given) => ({ ...given, ...weightDefaults(given, GPTQ_PARAMS, CLI_NAMES) }),
  needs: (p) => ({ calibration: true, hessian: true, activations: p.format === 'static' }),
  suffix: weightSuffix,
  start: (run) => quantizeKernel(run, { rounding: 'gptq', ...weightSettings(run.params, GPTQ_PARAMS), actOrder: run.params.actOrder, damping: run.params.damping, metadata: {} }),
  describe: describeWeights,
};

/** SmoothQuant and LLM.int8() write INT8 weights and activations with one scale per output channel. */
function w8a8Checks(p: SmoothQuantParams | LlmInt8Params, name: string): void {
  if (p.bits !== 8) throw new RangeError(`${name} writes INT8 weights and activations (W8A8); got ${p.bits} bits`);
  if (p.format !== 'static' && p.format !== 'dynamic') throw new RangeError(`${name} writes W8A8: use --format static or dynamic, not ${p.format}`);
  if (p.group !== undefined) throw new RangeError(`${name} uses one scale per output channel; drop the group size`);
}

const SMOOTH_PARAMS: readonly ParamSpec[] = [
  { name: 'alpha', field: 'alpha', kind: 'number', min: 0, max: 1, default: 0.5, help: 'Migration strength α: how much of the activation outliers moves into the weights',
    pickTitle: 'migration strength α in s = max|X|^α / max|W|^(1−α)',
    picks: [0.5, 0.75, 0.85, 0.25].map((v) => ({ value: v, label: `α = ${v}`, description: v === 0.5 ? 'the paper\'s default: difficulty split evenly' : v > 0.5 ? 'move more of the outliers into the weights' : 'keep more in the activations' })) },
  w8a8Format('static', [
    { ...STATIC_PICK, description: 'activation scales from calibration: what SmoothQuant is for' },
    { ...DYNAMIC_PICK, description: 'activation scales computed per call at run time' },
  ]),
  W8A8_BITS,
  weightsSpec(),
];

/** SmoothQuant, then W8A8. */
export const SMOOTHQUANT: TransformMethod<SmoothQuantParams, LayerReport, QuantizeReport> = {
  name: 'smoothquant', job: 'quantize', label: 'SmoothQuant + W8A8',
  description: 'migrate activation outliers into the weights, then INT8 weights and activations (Xiao et al. 2022)',
  params: SMOOTH_PARAMS,
  complete: (given) => ({ ...given, format: given.format ?? defaultOf<QuantizeFormat>(SMOOTH_PARAMS, 'format'), bits: given.bits ?? 8 }),
  needs: (p) => ({ calibration: true, hessian: (p.weights ?? 'rtn') === 'gptq', activations: true }),
  suffix: (p) => `sq-w8a8${p.format === 'static' ? 's' : ''}`,
  start(run) {
    const p = run.params;
    w8a8Checks(p, 'SmoothQuant');
    const alpha = p.alpha ?? defaultOf<number>(SMOOTH_PARAMS, 'alpha');
    checkSmoothAlpha(alpha);
    const rounding = p.weights ?? defaultOf<WeightRounding>(SMOOTH_PARAMS, 'weights');
    return quantizeKernel(run, { rounding, scheme: INT8_CHANNEL, format: p.format, smoothAlpha: alpha, metadata: { weights: rounding, alpha } });
  },
  describe: (r) => `SmoothQuant (α ${r.smoothing?.[0]?.alpha ?? defaultOf<number>(SMOOTH_PARAMS, 'alpha')}) + ${r.weightRounding.toUpperCase()} INT8 per-channel, ${FORMAT_NAMES[r.format]}`,
};

const INT8_PARAMS: readonly ParamSpec[] = [
  { name: 'threshold', field: 'threshold', kind: 'number', min: 1e-6, default: 6, help: 'Input channels whose activation absmax reaches this stay in float', setting: 'outliers.magnitudeThreshold' },
  w8a8Format('dynamic', [
    { ...DYNAMIC_PICK, description: 'channels with activation absmax at the outlier threshold stay float; the rest quantized per call' },
    { ...STATIC_PICK, description: 'regular channels with activation scales from calibration' },
  ]),
  W8A8_BITS,
  weightsSpec(),
];

/** LLM.int8() decomposition: outlier input channels stay float, the rest W8A8. */
export const LLM_INT8: TransformMethod<LlmInt8Params, LayerReport, QuantizeReport> = {
  name: 'llmint8', job: 'quantize', label: 'LLM.int8() decomposition',
  description: 'outlier input channels stay float, the rest INT8 (Dettmers et al. 2022)',
  params: INT8_PARAMS,
  complete: (given) => ({ ...given, format: given.format ?? defaultOf<QuantizeFormat>(INT8_PARAMS, 'format'), bits: given.bits ?? 8 }),
  needs: (p) => ({ calibration: true, hessian: (p.weights ?? 'rtn') === 'gptq', activations: true }),
  suffix: () => 'int8mix',
  start(run) {
    const p = run.params;
    w8a8Checks(p, 'LLM.int8()');
    const threshold = p.threshold ?? defaultOf<number>(INT8_PARAMS, 'threshold');
    const rounding = p.weights ?? defaultOf<WeightRounding>(INT8_PARAMS, 'weights');
    return quantizeKernel(run, { rounding, scheme: INT8_CHANNEL, format: p.format, outlierThreshold: threshold, metadata: { weights: rounding, threshold } });
  },
  describe: (r) => `LLM.int8() decomposition (outliers ≥ ${r.threshold ?? defaultOf<number>(INT8_PARAMS, 'threshold')} in float) + ${r.weightRounding.toUpperCase()} INT8 per-channel, ${FORMAT_NAMES[r.format]}`,
};

/** The budget a plan is made for when none was given (a given plan may carry none). */
const FALLBACK_BUDGET = { kind: 'bits', bitsPerWeight: 8 } as const;

const PLAN_PARAMS: readonly ParamSpec[] = [
  { ...weightsSpec([
    { value: 'rtn', label: 'RTN', description: 'the rounding the sensitivity table measured' },
    { value: 'gptq', label: 'GPTQ', description: 'lower error than the plan expects, slower' },
  ]), pickOrder: 3 },
  { name: 'budget-bits', field: 'budget', kind: 'number', min: 0.001, max: 32, placeholder: 'B', help: 'Average stored bits per weight the plan may use, scales included',
    wrap: { to: (bitsPerWeight) => ({ kind: 'bits', bitsPerWeight }), from: (b) => (isBudget(b) && b.kind === 'bits' ? b.bitsPerWeight : undefined) },
    pickTitle: 'budget (stored bits per weight, scales included)',
    picks: [4.5, 5, 6, 8].map((b) => ({ value: b, label: `${b} bits per weight`, description: b === 8 ? 'INT8 where needed, INT4 where cheap' : b <= 5 ? 'mostly INT4; the most sensitive layers get more' : 'a mix of INT8 and INT4' })) },
  { name: 'budget-error', field: 'budget', kind: 'number', min: 0, placeholder: 'E', pickInput: '0.01', pickTitle: 'Error budget…', help: 'Summed relative layer error Σ tr(ΔW H ΔWᵀ)/tr(W H Wᵀ) the plan may reach (instead of --budget-bits)',
    wrap: { to: (maxError) => ({ kind: 'error', maxError }), from: (b) => (isBudget(b) && b.kind === 'error' ? b.maxError : undefined) } },
  { name: 'plan', field: 'plan', kind: 'string', cliHidden: true, help: 'The precision of each layer (from a recipe)', codec: { parse: parseLayerPlan, print: (v) => JSON.stringify(v) } },
];

/** A plan as JSON text: an object of layer names to precisions (the kernel checks each precision against the model). */
function parseLayerPlan(text: string): Readonly<Record<string, PlanChoice>> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('be a map from layer names to precisions');
  return v as Readonly<Record<string, PlanChoice>>;
}

function isBudget(b: unknown): b is { readonly kind: 'bits'; readonly bitsPerWeight: number } | { readonly kind: 'error'; readonly maxError: number } {
  return typeof b === 'object' && b !== null && 'kind' in b;
}

/** A given plan, checked against the model's layers; the layers it keeps in float are left out. */
function givenPlan(run: TransformRun<MixedPlanParams>, plan: Readonly<Record<string, PlanChoice>>): { choiceOf: Map<string, PlanChoice>; skipped: SkippedRewrite[] } {
  const known = new Set(run.targets.map((t) => t.layer));
  const unknown = Object.keys(plan).filter((l) => !known.has(l));
  if (unknown.length) throw new RangeError(`the plan names layers this model has no rewritable MatMul/Gemm for: ${unknown.slice(0, 5).join(', ')}`);
  const bad = Object.entries(plan).find(([, c]) => !isPlanChoice(c));
  if (bad) throw new RangeError(`the plan gives ${bad[0]} the precision "${String(bad[1])}"; use ${PLAN_CHOICES.join(', ')}`);
  return { choiceOf: new Map(Object.entries(plan)), skipped: [] };
}

/** Mixed-precision plans: each layer its own precision from the sensitivity table under a budget. */
export const PLAN: TransformMethod<MixedPlanParams, LayerReport, QuantizeReport> = {
  name: 'plan', job: 'quantize', label: 'Mixed-precision plan…',
  description: 'float / INT8 / INT4 per layer from the sensitivity table under a budget; shown for editing first',
  params: PLAN_PARAMS,
  complete: (given) => ({ ...given, format: given.format ?? 'qdq', bits: given.bits ?? 8 }),
  check(p, nameOf) {
    if (!p.plan && !p.budget) throw new ParamError('budget', `${nameOf('method')} plan needs ${nameOf('budget-bits')} B (average stored bits per weight) or ${nameOf('budget-error')} E (summed layer error), or a plan (${nameOf('recipe')} FILE)`);
  },
  needs: (p): MethodNeeds => ({ calibration: true, hessian: (p.weights ?? 'rtn') === 'gptq', activations: false }),
  editedFirst: (p) => !p.plan,
  suffix: () => 'mixed',
  async start(run) {
    const p = run.params;
    const rounding = p.weights ?? defaultOf<WeightRounding>(PLAN_PARAMS, 'weights');
    let choiceOf: Map<string, PlanChoice>;
    const skipped: SkippedRewrite[] = [];
    let applied;
    let seconds = 0;
    if (p.plan) {
      choiceOf = givenPlan(run, p.plan).choiceOf;
      applied = { budget: p.budget ?? null, choices: { ...p.plan }, plannedError: null, plannedBitsPerWeight: null, note: 'plan given (edited or from a recipe)' };
    } else {
      const t0 = performance.now();
      const ctx = { ...run.ctx, progress: (m: string, f?: number) => run.ctx.progress(`planning: ${m}`, f === undefined ? undefined : 0.3 * f) };
      const planned = await planLayers(run.source, run.targets, p.budget ?? FALLBACK_BUDGET, run.calibrate, ctx);
      seconds = (performance.now() - t0) / 1000;
      choiceOf = new Map(planned.plan.layers.map((l) => [l.layer, l.choice]));
      skipped.push(...planned.skipped);
      applied = { budget: p.budget ?? null, choices: Object.fromEntries(choiceOf), plannedError: planned.plan.totalError, plannedBitsPerWeight: planned.plan.bitsPerWeight, note: planned.plan.note };
    }
    let floatPlanned = 0;
    for (const t of run.targets) {
      if ((choiceOf.get(t.layer) ?? 'float') !== 'float') continue;
      skipped.push({ layer: t.layer, reason: 'kept in float by the plan' });
      floatPlanned += t.inFeatures * t.outFeatures;
    }
    const targets = run.targets.filter((t) => (choiceOf.get(t.layer) ?? 'float') !== 'float');
    if (!targets.length) throw new RangeError('the plan keeps every layer in float: nothing to quantize');
    return quantizeKernel(run, {
      rounding, scheme: INT8_CHANNEL, format: 'qdq',
      plan: { choiceOf, applied, floatPlanned, seconds, targets, skipped, progressStart: p.plan ? 0 : 0.3 },
      metadata: { weights: rounding, plan: applied.choices },
    });
  },
  describe: (r) => `Mixed-precision plan, ${r.weightRounding.toUpperCase()} weights`,
};
