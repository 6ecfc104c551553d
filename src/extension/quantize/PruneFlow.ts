import * as path from 'node:path';
import * as vscode from 'vscode';
import { PRUNE_METHODS } from '../../core/transform/methods';
import { ParamError } from '../../core/transform/ParamSpec';
import { methodNamed, methodsOf, validateParams } from '../../core/transform/validateParams';
import type { PruneParams, PruneReport } from '../../protocol/pruneTypes';
import type { WorkerClient } from '../client/WorkerClient';
import { askMethodParams } from './askMethodParams';
import { pickTransformCalibration } from './pickTransformCalibration';
import { renderPruneMarkdown } from './renderPruneMarkdown';
import { calibrationSettings, type TransformRunner } from './TransformRunner';

/** Omit over each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Choices that skip the QuickPicks (recipes, code actions, tests): the job's parameters without the model. */
export type PruneChoices = DistributiveOmit<PruneParams, 'path'>;

/**
 * "Prune…": QuickPicks for the method, the sparsity or N:M pattern, channel permutation and the
 * layers; then the job in the worker, then the diff and the report (which says plainly that ONNX
 * Runtime on CPU has no sparse kernels).
 */
export class PruneFlow {
  constructor(private readonly worker: WorkerClient, private readonly runner: TransformRunner) {}

  /** Runs the flow for `model`; `preselect` names layers to tick first. */
  async run(model: vscode.Uri, preselect: readonly string[] = [], given?: PruneChoices): Promise<PruneReport | undefined> {
    if (!this.runner.acceptsModel(model, 'prunes')) return undefined;
    const choices = given ?? (await this.ask(model, preselect));
    if (!choices) return undefined;
    const method = methodNamed(PRUNE_METHODS, 'prune', choices.method);
    const params = { ...choices, path: model.fsPath, layers: choices.layers?.length ? choices.layers : undefined } as PruneParams;
    const withData = method.needs(params).calibration ? { ...params, calibration: calibrationSettings(choices.calibration?.file, choices.calibration?.tokenizer).calibration } : params;
    try {
      validateParams(method, withData);
    } catch (e) {
      if (!(e instanceof ParamError)) throw e;
      void vscode.window.showErrorMessage(`Quantscope cannot prune with these settings: ${e.message}`);
      return undefined;
    }
    const name = path.basename(model.fsPath);
    const report = await this.runner.run(`Pruning ${name}`, (token, onProgress) => this.worker.request('prune', withData, { token, onProgress }));
    if (!report) return undefined;
    const sparsity = report.sizes.weights ? report.sizes.zeros / report.sizes.weights : 0;
    const worst = report.validation.outputs.reduce((m, o) => Math.max(m, o.relativeL2), 0);
    await this.runner.show(model, report.output, renderPruneMarkdown(report), `Wrote ${path.basename(report.output)}: ${(sparsity * 100).toFixed(1)}% of the pruned layers' weights are zero, output relative L2 error ${worst.toExponential(2)}.`, report.decoderGraph?.graph);
    return report;
  }

  private async ask(model: vscode.Uri, preselect: readonly string[]): Promise<PruneChoices | undefined> {
    const title = `Prune ${path.basename(model.fsPath)}`;
    const methods = methodsOf(PRUNE_METHODS, 'prune');
    const method = await vscode.window.showQuickPick(methods.map((m) => ({ label: m.label, description: m.description, value: m })), { title: `${title} (1/4): method` });
    if (!method) return undefined;
    const fields = await askMethodParams(method.value, `${title} (2/4)`);
    if (!fields) return undefined;
    const layers = await this.runner.layers(this.worker, model);
    if (!layers) return undefined;
    const picked = await vscode.window.showQuickPick(
      layers.map((l) => ({ label: l.layer, description: `${l.opType} ${l.inFeatures}×${l.outFeatures}`, value: l.layer, picked: preselect.length ? preselect.includes(l.layer) || preselect.includes(l.weight) : true })),
      { title: `${title} (4/4): layers`, canPickMany: true },
    );
    if (!picked?.length) return undefined;
    // The picks come from the entry's own parameter specs; run() validates them.
    const choices = { ...fields, method: method.value.name, layers: picked.length < layers.length ? picked.map((p) => p.value) : undefined } as PruneChoices;
    if (!method.value.needs({ ...choices, path: model.fsPath }).calibration) return choices;
    const data = await pickTransformCalibration(model, `${title}: calibration data`, false);
    if (data === null) return undefined;
    return data ? { ...choices, calibration: { file: data.file, ...(data.tokenizer ? { tokenizer: data.tokenizer } : {}) } } : choices;
  }
}
