/**
 * Which of the editor's actions apply to a model, and why the others do not. Pure: the same
 * derivation drives the editor's buttons, the context keys of package.json's `when` clauses and
 * the refusal a command gives before it asks anything.
 */
import type { ActionAvailability, ModelAction, ModelActions } from '../../protocol/webviewProtocol';
import type { ModelSummary } from '../../protocol/workerProtocol';

/** The facts about a model that decide what applies to it. */
export interface ModelFacts {
  readonly fileName: string;
  /** The reader's format id: `onnx`, `safetensors`, `gguf`, … */
  readonly format: string;
  readonly tensorCount: number;
  /** Operator counts of the main graph (ONNX). */
  readonly opTypes?: Readonly<Record<string, number>>;
  /** Why ONNX Runtime refused the model, when it did. */
  readonly runtimeError?: string;
  /**
   * MatMul/Gemm layers with a constant 2-D float32 weight, which Quantize and Prune rewrite;
   * undefined when they were not looked up (the main graph has no MatMul or Gemm).
   */
  readonly weightLayers?: number;
  /** Why the rewritable layers could not be listed, when the worker failed to. */
  readonly layerLookupError?: string;
  /**
   * Whether the model holds float16, bfloat16 or float64 tensors of rank 1 or 2: calibration
   * taps such weights, though the rewrites do not.
   */
  readonly otherFloatWeights: boolean;
  /** The checkpoint holds a language model the worker builds into a graph (so every action runs on it). */
  readonly decoder?: boolean;
}

const OTHER_FLOATS: ReadonlySet<string> = new Set(['F16', 'BF16', 'F64']);
/** Operators whose bodies are subgraphs, where MatMuls are not tapped nor rewritten. */
const CONTROL_FLOW = ['If', 'Loop', 'Scan'] as const;

/** The facts of a listed model; `weightLayers` comes from the worker's `quantizableLayers`. */
export function modelFacts(summary: ModelSummary, weightLayers?: number): ModelFacts {
  const fileName = summary.path.split(/[\\/]/).pop() ?? summary.path;
  return {
    fileName,
    format: summary.format,
    tensorCount: summary.tensors.length,
    ...(summary.graph ? { opTypes: summary.graph.opTypes } : {}),
    ...(summary.runtimeError ? { runtimeError: summary.runtimeError } : {}),
    ...(weightLayers !== undefined ? { weightLayers } : {}),
    otherFloatWeights: summary.tensors.some((t) => OTHER_FLOATS.has(t.dtype.toUpperCase()) && (t.shape.length === 1 || t.shape.length === 2)),
    ...(summary.decoder ? { decoder: true } : {}),
  };
}

/** Whether the worker should be asked for the rewritable layers: an ONNX main graph with MatMul or Gemm. */
export function needsLayerLookup(summary: ModelSummary): boolean {
  return summary.format === 'onnx' && matMulCount(summary.graph?.opTypes) > 0;
}

function matMulCount(opTypes: Readonly<Record<string, number>> | undefined): number {
  return (opTypes?.MatMul ?? 0) + (opTypes?.Gemm ?? 0);
}

const yes: ActionAvailability = { offered: true };
const no = (reason: string): ActionAvailability => ({ offered: false, reason });

function formatName(format: string): string {
  const names: Readonly<Record<string, string>> = { safetensors: 'safetensors', gguf: 'GGUF', pytorch: 'PyTorch', numpy: 'NumPy' };
  return names[format] ?? format;
}

/** Why a model has nothing Calibrate, Quantize or Prune can work on. */
function noLayersReason(f: ModelFacts, what: string): string {
  const flow = CONTROL_FLOW.map((op) => [op, f.opTypes?.[op] ?? 0] as const).filter(([, n]) => n > 0);
  const sub = flow.length ? ` (${flow.map(([op, n]) => `${n} ${op}`).join(', ')} node${flow.reduce((s, [, n]) => s + n, 0) > 1 ? 's hold' : ' holds'} subgraphs, which are not ${what === 'calibrate' ? 'tapped' : 'rewritten'})` : '';
  return `${f.fileName} has no MatMul or Gemm with a constant ${what === 'calibrate' ? '' : '2-D float32 '}weight in its main graph${sub}`;
}

/** Derives what applies to the model described by `f`. */
export function deriveModelActions(f: ModelFacts): ModelActions {
  if (f.decoder) {
    // A language model's actions run on the graph the worker builds from it (and caches).
    return { profile: yes, calibrate: yes, quantize: yes, prune: yes, benchmark: yes, exportOnnx: yes, quantizeGguf: yes, showText: yes };
  }
  const onnx = f.format === 'onnx';
  const notOnnx = no(`${f.fileName} is a ${formatName(f.format)} checkpoint without a language model Quantscope can build (config.json beside its weights, or a llama or qwen2 GGUF); this needs an ONNX model`);
  const refused = f.runtimeError ? no(`ONNX Runtime could not load ${f.fileName}: ${f.runtimeError}`) : undefined;
  const matMuls = matMulCount(f.opTypes);
  const rewritable = (f.weightLayers ?? 0) > 0;
  // Calibration also taps float16/bfloat16/float64 weights, which the rewrites leave alone.
  const tappable = matMuls > 0 && (rewritable || f.weightLayers === undefined || f.otherFloatWeights);
  const transform = (what: 'quantize' | 'prune'): ActionAvailability => {
    if (!onnx) return notOnnx;
    if (f.layerLookupError) return no(`the layers of ${f.fileName} could not be listed: ${f.layerLookupError}`);
    return rewritable ? yes : no(noLayersReason(f, what));
  };
  return {
    profile: f.tensorCount > 0 ? yes : no(`${f.fileName} has no tensors to profile`),
    calibrate: !onnx ? notOnnx : (refused ?? (tappable ? yes : no(noLayersReason(f, 'calibrate')))),
    quantize: transform('quantize'),
    prune: transform('prune'),
    benchmark: !onnx ? notOnnx : (refused ?? yes),
    exportOnnx: no(onnx ? `${f.fileName} is already an ONNX model` : `${f.fileName} holds no language model Quantscope can build (config.json beside its weights, or a llama or qwen2 GGUF)`),
    quantizeGguf: no(`${f.fileName} holds no language model Quantscope can write as GGUF (a Hugging Face folder with config.json, or a llama or qwen2 GGUF)`),
    showText: yes,
  };
}

/** The actions' display names, as the editor's buttons and the commands call them. */
export const ACTION_LABELS: { readonly [A in ModelAction]: string } = {
  profile: 'Profile',
  calibrate: 'Calibrate',
  quantize: 'Quantize',
  prune: 'Prune',
  benchmark: 'Benchmark',
  exportOnnx: 'Export to ONNX',
  quantizeGguf: 'Quantize to GGUF',
  showText: 'Show as Text',
};

/** The context keys that package.json's `when` clauses read for the active checkpoint editor. */
export const MODEL_CONTEXT_KEYS = {
  format: 'quantscope.model.format',
  canProfile: 'quantscope.model.canProfile',
  canCalibrate: 'quantscope.model.canCalibrate',
  canQuantize: 'quantscope.model.canQuantize',
  canPrune: 'quantscope.model.canPrune',
  canBenchmark: 'quantscope.model.canBenchmark',
  canExport: 'quantscope.model.canExport',
} as const;

/** Actions that only language-model checkpoints have: their absence elsewhere needs no note. */
const UNNOTED: ReadonlySet<ModelAction> = new Set(['exportOnnx', 'quantizeGguf']);

/** The values of {@link MODEL_CONTEXT_KEYS} for a model; all unset (undefined) when no model is active. */
export function contextValues(format: string | undefined, actions: ModelActions | undefined): Readonly<Record<string, string | boolean | undefined>> {
  return {
    [MODEL_CONTEXT_KEYS.format]: format,
    [MODEL_CONTEXT_KEYS.canProfile]: actions?.profile.offered,
    [MODEL_CONTEXT_KEYS.canCalibrate]: actions?.calibrate.offered,
    [MODEL_CONTEXT_KEYS.canQuantize]: actions?.quantize.offered,
    [MODEL_CONTEXT_KEYS.canPrune]: actions?.prune.offered,
    [MODEL_CONTEXT_KEYS.canBenchmark]: actions?.benchmark.offered,
    [MODEL_CONTEXT_KEYS.canExport]: actions?.exportOnnx.offered,
  };
}

/**
 * One sentence per distinct reason, naming the actions it hides: "Calibrate, Quantize and Prune
 * are not offered: …". Empty when everything applies.
 */
export function missingActionNotes(actions: ModelActions): string[] {
  const byReason = new Map<string, string[]>();
  for (const a of Object.keys(ACTION_LABELS) as ModelAction[]) {
    const s = actions[a];
    if (s.offered || UNNOTED.has(a)) continue;
    byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), ACTION_LABELS[a]]);
  }
  return [...byReason].map(([reason, names]) => `${listWords(names)} ${names.length > 1 ? 'are' : 'is'} not offered: ${reason}.`);
}

function listWords(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
