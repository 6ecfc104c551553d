import * as path from 'node:path';
import * as vscode from 'vscode';
import { QUANTIZE_METHODS } from '../../core/transform/methods';
import { defaultOf } from '../../core/transform/quantize/quantizeMethods';
import { ParamError } from '../../core/transform/ParamSpec';
import { methodNamed, methodsOf, validateParams } from '../../core/transform/validateParams';
import type { PlanBudgetParams, QuantizeParams, QuantizeReport, WeightRounding } from '../../protocol/quantizeTypes';
import type { LayerProfile, QuantizableLayer } from '../../protocol/workerProtocol';
import type { WorkerClient } from '../client/WorkerClient';
import type { ProfileService } from '../profile/ProfileService';
import { askMethodParams } from './askMethodParams';
import { pickTransformCalibration, type TransformCalibrationChoice } from './pickTransformCalibration';
import { renderReportMarkdown } from './renderReportMarkdown';
import { calibrationSettings, type TransformRunner } from './TransformRunner';

/** Omit over each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Choices that skip the QuickPicks (recipes, code actions, tests): the job's parameters without the model, and the calibration file (with its tokenizer for a `.txt`). */
export type QuantizeChoices = DistributiveOmit<QuantizeParams, 'path'> & { readonly calibrationFile?: string; readonly calibrationTokenizer?: string };

/** A plan is made first and shown for editing; this callback does that (see PlanFlow). */
export type PlanStep = (model: vscode.Uri, choices: { readonly layers?: readonly string[]; readonly budget: PlanBudgetParams; readonly weights: WeightRounding; readonly calibrationFile?: string | undefined; readonly calibrationTokenizer?: string | undefined }) => Promise<unknown>;

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
    if (!this.runner.acceptsModel(model, 'quantizes')) return undefined;
    const choices = given ?? (await this.ask(model, preselect));
    if (!choices) return undefined;
    const { calibrationFile, calibrationTokenizer, ...rest } = choices;
    const params = { ...rest, path: model.fsPath, layers: rest.layers?.length ? rest.layers : undefined, ...calibrationSettings(calibrationFile, calibrationTokenizer) } as QuantizeParams;
    let method;
    try {
      method = methodNamed(QUANTIZE_METHODS, 'quantize', params.method);
      validateParams(method, params);
    } catch (e) {
      if (!(e instanceof ParamError)) throw e;
      void vscode.window.showErrorMessage(`Quantscope cannot quantize with these settings: ${e.message}`);
      return undefined;
    }
    if (method.editedFirst?.(params)) {
      // The decision is shown and edited before anything is written; applying it comes back here.
      if (!params.budget || !this.planStep) return undefined;
      await this.planStep(model, { budget: params.budget, weights: params.weights ?? defaultOf<WeightRounding>(method.params, 'weights'), layers: rest.layers, calibrationFile, calibrationTokenizer });
      return undefined;
    }
    const name = path.basename(model.fsPath);
    const report = await this.runner.run(`Quantizing ${name}`, (token, onProgress) => this.worker.request('quantize', params, { token, onProgress }));
    if (!report) return undefined;
    const worst = report.validation.outputs.reduce((m, o) => Math.max(m, o.relativeL2), 0);
    await this.runner.show(model, report.output, renderReportMarkdown(report), `Wrote ${path.basename(report.output)}: ${(report.sizes.outputBytes / 2 ** 20).toFixed(1)} MiB (from ${(report.sizes.sourceBytes / 2 ** 20).toFixed(1)}), output relative L2 error ${worst.toExponential(2)}.`, report.decoderGraph?.graph);
    return report;
  }

  private async ask(model: vscode.Uri, preselect: readonly string[]): Promise<QuantizeChoices | undefined> {
    const title = `Quantize ${path.basename(model.fsPath)}`;
    const layers = await this.runner.layers(this.worker, model);
    if (!layers) return undefined;
    if (!layers.length) {
      void vscode.window.showWarningMessage(`${path.basename(model.fsPath)} has no MatMul or Gemm with a constant 2-D weight to quantize.`);
      return undefined;
    }
    const calibration = (await this.profiles.cachedModel(model))?.profile.layers;
    const byLayer = new Map(calibration?.map((l) => [l.layer, l]));
    const layerItems: Option<string>[] = layers.map((l) => ({ label: l.layer, description: describe(l, byLayer.get(l.layer)), value: l.layer, picked: preselect.length ? preselect.includes(l.layer) || preselect.includes(l.weight) : true }));
    const pickedLayers = await vscode.window.showQuickPick(layerItems, { title: `${title} (1/4): layers`, canPickMany: true, placeHolder: calibration ? 'Layers with their activation outliers and sensitivity' : 'Run Calibrate first to see each layer\'s outliers and sensitivity here', matchOnDescription: true });
    if (!pickedLayers?.length) return undefined;

    const methods = methodsOf(QUANTIZE_METHODS, 'quantize');
    const method = await vscode.window.showQuickPick(methods.map((m) => ({ label: m.label, description: m.description, value: m })), { title: `${title} (2/4): method` });
    if (!method) return undefined;
    const entry = method.value;
    const fields = await askMethodParams(entry, `${title} (3/4)`);
    if (!fields) return undefined;
    const layerChoice = pickedLayers.length < layers.length ? { layers: pickedLayers.map((p) => p.value) } : {};
    // The picks come from the entry's own parameter specs; the job validates them again on arrival.
    const given = { ...fields, ...layerChoice, method: entry.name, path: model.fsPath } as QuantizeParams;
    const choices = entry.complete ? entry.complete(given) : given;
    const needs = entry.needs(choices);
    let data: TransformCalibrationChoice | undefined;
    if (needs.calibration) {
      const picked = await pickTransformCalibration(model, `${title} (4/4): calibration data`, needs.activations);
      if (picked === null) return undefined;
      data = picked;
    }
    const { path: _path, ...rest } = choices;
    return { ...rest, calibrationFile: data?.file, calibrationTokenizer: data?.tokenizer };
  }
}
