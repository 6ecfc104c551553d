import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PlanChoice } from '../../core/quant/mixedPrecisionPlan';
import type { PlanBudgetParams, QuantizeFormat, QuantizeMethod, QuantizeParams, QuantizeReport, WeightRounding } from '../../protocol/quantizeTypes';
import type { LayerProfile, QuantizableLayer } from '../../protocol/workerProtocol';
import type { WorkerClient } from '../client/WorkerClient';
import type { ProfileService } from '../profile/ProfileService';
import { renderReportMarkdown } from './renderReportMarkdown';
import { calibrationSettings, type TransformRunner } from './TransformRunner';

/** Choices that skip the QuickPicks: used by recipes, code actions and tests. */
export interface QuantizeChoices {
  readonly method: QuantizeMethod;
  readonly bits: 8 | 4 | 3;
  readonly format: QuantizeFormat;
  readonly group?: number;
  readonly layers?: readonly string[];
  readonly calibrationFile?: string;
  /** SmoothQuant's migration strength. */
  readonly alpha?: number;
  /** LLM.int8()'s outlier threshold. */
  readonly threshold?: number;
  /** How SmoothQuant, LLM.int8() and plans round the weights. */
  readonly weights?: WeightRounding;
  /** Plans: the budget, or the precision of each layer as planned and edited. */
  readonly budget?: PlanBudgetParams;
  readonly plan?: Readonly<Record<string, PlanChoice>>;
}

/** A plan is made first and shown for editing; this callback does that (see PlanFlow). */
export type PlanStep = (model: vscode.Uri, choices: { readonly layers?: readonly string[]; readonly budget: PlanBudgetParams; readonly weights: WeightRounding; readonly calibrationFile?: string }) => Promise<unknown>;

interface Option<T> extends vscode.QuickPickItem {
  readonly value: T;
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : v.toExponential(1);
}

/** One layer's figures for the QuickPick: its outliers and sensitivity when a calibration exists. */
function describe(l: QuantizableLayer, cal: LayerProfile | undefined): string {
  const size = `${l.inFeatures}×${l.outFeatures}`;
  if (!cal) return `${l.opType} ${size}`;
  const int4 = cal.sensitivity?.candidates.find((c) => c.id === 'int4-g128')?.relativeError;
  return `${l.opType} ${size} · act. outliers ${cal.outliers.int8} · difficulty ${cal.difficulty?.toFixed(1) ?? '–'} · INT4 g128 err ${fmt(int4)}${cal.rank ? ` · rank ${cal.rank}` : ''}`;
}

/**
 * "Quantize Layer…": QuickPicks for the layers, the method, the bits and output format, and the
 * calibration source; then the job in the worker with progress and cancel; then the diff of the
 * model's text before and after, with the report beside it.
 */
export class QuantizeFlow {
  /** Set by PlanFlow: what "Mixed-precision plan" does after its QuickPicks. */
  planStep: PlanStep | undefined;

  constructor(private readonly worker: WorkerClient, private readonly profiles: ProfileService, private readonly runner: TransformRunner) {}

  /** Runs the flow for `model`; `preselect` names layers to tick first (from the layer table). */
  async run(model: vscode.Uri, preselect: readonly string[] = [], given?: QuantizeChoices): Promise<QuantizeReport | undefined> {
    if (!this.runner.requireOnnx(model, 'quantizes')) return undefined;
    const choices = given ?? (await this.ask(model, preselect));
    if (!choices) return undefined;
    if (choices.method === 'plan' && !choices.plan) {
      // A plan is shown and edited before anything is written; applying it comes back here.
      if (!choices.budget || !this.planStep) return undefined;
      await this.planStep(model, { budget: choices.budget, weights: choices.weights ?? 'rtn', ...(choices.layers ? { layers: choices.layers } : {}), ...(choices.calibrationFile ? { calibrationFile: choices.calibrationFile } : {}) });
      return undefined;
    }
    const params: QuantizeParams = {
      path: model.fsPath,
      method: choices.method,
      bits: choices.bits,
      format: choices.format,
      ...(choices.group ? { group: choices.group } : {}),
      ...(choices.layers?.length ? { layers: choices.layers } : {}),
      ...(choices.alpha !== undefined ? { alpha: choices.alpha } : {}),
      ...(choices.threshold !== undefined ? { threshold: choices.threshold } : {}),
      ...(choices.weights ? { weights: choices.weights } : {}),
      ...(choices.budget ? { budget: choices.budget } : {}),
      ...(choices.plan ? { plan: choices.plan } : {}),
      ...calibrationSettings(choices.calibrationFile),
    };
    const name = path.basename(model.fsPath);
    const report = await this.runner.run(`Quantizing ${name}`, (token, onProgress) => this.worker.request('quantize', params, { token, onProgress }));
    if (!report) return undefined;
    const worst = report.validation.outputs.reduce((m, o) => Math.max(m, o.relativeL2), 0);
    await this.runner.show(model, report.output, renderReportMarkdown(report), `Wrote ${path.basename(report.output)}: ${(report.sizes.outputBytes / 2 ** 20).toFixed(1)} MiB (from ${(report.sizes.sourceBytes / 2 ** 20).toFixed(1)}), output relative L2 error ${worst.toExponential(2)}.`);
    return report;
  }

  private async ask(model: vscode.Uri, preselect: readonly string[]): Promise<QuantizeChoices | undefined> {
    const title = `Quantize ${path.basename(model.fsPath)}`;
    const layers = await this.worker.request('quantizableLayers', { path: model.fsPath });
    if (!layers.length) {
      void vscode.window.showWarningMessage(`${path.basename(model.fsPath)} has no MatMul or Gemm with a constant 2-D weight to quantize.`);
      return undefined;
    }
    const calibration = (await this.profiles.cachedModel(model))?.profile.layers;
    const byLayer = new Map(calibration?.map((l) => [l.layer, l]));
    const layerItems: Option<string>[] = layers.map((l) => ({ label: l.layer, description: describe(l, byLayer.get(l.layer)), value: l.layer, picked: preselect.length ? preselect.includes(l.layer) || preselect.includes(l.weight) : true }));
    const pickedLayers = await vscode.window.showQuickPick(layerItems, { title: `${title} (1/4): layers`, canPickMany: true, placeHolder: calibration ? 'Layers with their activation outliers and sensitivity' : 'Run Calibrate first to see each layer\'s outliers and sensitivity here', matchOnDescription: true });
    if (!pickedLayers?.length) return undefined;

    const method = await vscode.window.showQuickPick<Option<QuantizeMethod>>(
      [
        { label: 'RTN', description: 'round to nearest, as ONNX QuantizeLinear rounds', value: 'rtn' },
        { label: 'GPTQ', description: 'second-order error compensation with H = XᵀX from calibration (Frantar et al. 2022)', value: 'gptq' },
        { label: 'SmoothQuant + W8A8', description: 'migrate activation outliers into the weights, then INT8 weights and activations (Xiao et al. 2022)', value: 'smoothquant' },
        { label: 'LLM.int8() decomposition', description: 'outlier input channels stay float, the rest INT8 (Dettmers et al. 2022)', value: 'llmint8' },
        { label: 'Mixed-precision plan…', description: 'float / INT8 / INT4 per layer from the sensitivity table under a budget; shown for editing first', value: 'plan' },
      ],
      { title: `${title} (2/4): method` },
    );
    if (!method) return undefined;
    const picked = pickedLayers.length < layers.length ? { layers: pickedLayers.map((p) => p.value) } : {};
    const m = method.value;
    if (m === 'plan') {
      const budget = await this.pickBudget(title);
      if (!budget) return undefined;
      const weights = await this.pickRounding(title);
      if (!weights) return undefined;
      const file = await this.pickCalibration(model, title, true);
      if (file === null) return undefined;
      return { method: 'plan', bits: 8, format: 'qdq', budget, weights, ...picked, ...(file ? { calibrationFile: file } : {}) };
    }
    if (m === 'smoothquant' || m === 'llmint8') {
      let alpha: number | undefined;
      let threshold: number | undefined;
      if (m === 'smoothquant') {
        const a = await vscode.window.showQuickPick<Option<number>>(
          [0.5, 0.75, 0.85, 0.25].map((v) => ({ label: `α = ${v}`, description: v === 0.5 ? 'the paper\'s default: difficulty split evenly' : v > 0.5 ? 'move more of the outliers into the weights' : 'keep more in the activations', value: v })),
          { title: `${title} (3/4): migration strength α in s = max|X|^α / max|W|^(1−α)` },
        );
        if (!a) return undefined;
        alpha = a.value;
      } else {
        threshold = vscode.workspace.getConfiguration('quantscope').get<number>('outliers.magnitudeThreshold', 6);
      }
      const format = await vscode.window.showQuickPick<Option<QuantizeFormat>>(
        m === 'smoothquant'
          ? [
              { label: 'INT8 static W8A8 (QDQ)', description: 'activation scales from calibration: what SmoothQuant is for', value: 'static' },
              { label: 'INT8 dynamic W8A8', description: 'activation scales computed per call at run time', value: 'dynamic' },
            ]
          : [
              { label: 'INT8 dynamic W8A8', description: `channels with activation absmax ≥ ${threshold ?? 6} stay float; the rest quantized per call`, value: 'dynamic' },
              { label: 'INT8 static W8A8 (QDQ)', description: 'regular channels with activation scales from calibration', value: 'static' },
            ],
        { title: `${title} (3/4): output format` },
      );
      if (!format) return undefined;
      const file = await this.pickCalibration(model, title, true);
      if (file === null) return undefined;
      return { method: m, bits: 8, format: format.value, ...picked, ...(alpha !== undefined ? { alpha } : {}), ...(threshold !== undefined ? { threshold } : {}), ...(file ? { calibrationFile: file } : {}) };
    }

    const format = await vscode.window.showQuickPick<Option<{ bits: 8 | 4; format: QuantizeFormat }>>(
      [
        { label: 'INT4 MatMulNBits', description: 'com.microsoft::MatMulNBits: 4-bit weights, the fast path on CPU', value: { bits: 4, format: 'nbits' } },
        { label: 'INT8 dynamic W8A8', description: 'weights INT8, activations quantized at run time', value: { bits: 8, format: 'dynamic' } },
        { label: 'INT8 static W8A8 (QDQ)', description: 'weights and activations INT8, activation scales from calibration', value: { bits: 8, format: 'static' } },
        { label: 'INT8 weight-only', description: 'DequantizeLinear before each MatMul: smaller file, float compute', value: { bits: 8, format: 'qdq' } },
      ],
      { title: `${title} (3/4): bits and output format` },
    );
    if (!format) return undefined;

    let group: number | undefined;
    if (format.value.bits === 4) {
      const g = await vscode.window.showQuickPick<Option<number>>(
        [128, 64, 32].map((n) => ({ label: `Block ${n}`, description: n === 128 ? 'the usual choice' : 'finer scales, larger file', value: n })),
        { title: `${title}: block size along the input axis` },
      );
      if (!g) return undefined;
      group = g.value;
    }

    let calibrationFile: string | undefined;
    if (m === 'gptq' || format.value.format === 'static') {
      const file = await this.pickCalibration(model, title, false);
      if (file === null) return undefined;
      calibrationFile = file;
    }
    return {
      method: m,
      bits: format.value.bits,
      format: format.value.format,
      ...(group ? { group } : {}),
      ...picked,
      ...(calibrationFile ? { calibrationFile } : {}),
    };
  }

  /** The plan's budget: an average of bits per weight, or a summed layer error. */
  private async pickBudget(title: string): Promise<PlanBudgetParams | undefined> {
    const items: Option<PlanBudgetParams | 'custom'>[] = [
      ...[4.5, 5, 6, 8].map((b) => ({ label: `${b} bits per weight`, description: b === 8 ? 'INT8 where needed, INT4 where cheap' : b <= 5 ? 'mostly INT4; the most sensitive layers get more' : 'a mix of INT8 and INT4', value: { kind: 'bits' as const, bitsPerWeight: b } })),
      { label: 'Error budget…', description: 'the smallest model whose summed layer error stays below a bound', value: 'custom' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: `${title} (3/4): budget (stored bits per weight, scales included)` });
    if (!pick) return undefined;
    if (pick.value !== 'custom') return pick.value;
    const text = await vscode.window.showInputBox({
      title: `${title}: error budget`,
      prompt: 'Largest summed relative layer error Σ tr(ΔW H ΔWᵀ)/tr(W H Wᵀ)',
      value: '0.01',
      validateInput: (v) => (Number.isFinite(Number(v)) && Number(v) >= 0 && v.trim() !== '' ? undefined : 'a number ≥ 0'),
    });
    return text === undefined ? undefined : { kind: 'error', maxError: Number(text) };
  }

  /** RTN or GPTQ underneath a plan. */
  private async pickRounding(title: string): Promise<WeightRounding | undefined> {
    const pick = await vscode.window.showQuickPick<Option<WeightRounding>>(
      [
        { label: 'RTN', description: 'the rounding the sensitivity table measured', value: 'rtn' },
        { label: 'GPTQ', description: 'lower error than the plan expects, slower', value: 'gptq' },
      ],
      { title: `${title}: how the weights are rounded` },
    );
    return pick?.value;
  }

  /** Generated inputs (undefined), a file (its path), or cancelled (null). */
  private async pickCalibration(model: vscode.Uri, title: string, activations: boolean): Promise<string | undefined | null> {
    const source = await vscode.window.showQuickPick<Option<'generated' | 'file'>>(
      [
        { label: 'Generated inputs', description: `from the declared input shapes; the report marks them synthetic${activations ? ' (activation ranges of random data)' : ''}`, value: 'generated' },
        { label: 'Calibration file…', description: '.npy / .npz per input name, or a folder of ONNX .pb test data', value: 'file' },
      ],
      { title: `${title} (4/4): calibration data` },
    );
    if (!source) return null;
    if (source.value === 'generated') return undefined;
    const f = await vscode.window.showOpenDialog({ title: 'Calibration data', canSelectFolders: true, defaultUri: vscode.Uri.file(path.dirname(model.fsPath)), filters: { 'Calibration data': ['npy', 'npz', 'pb'] } });
    return f?.[0] ? f[0].fsPath : null;
  }
}
