import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PruneMethod, PruneParams, PruneReport } from '../../protocol/pruneTypes';
import type { WorkerClient } from '../client/WorkerClient';
import { renderPruneMarkdown } from './renderPruneMarkdown';
import { calibrationSettings, type TransformRunner } from './TransformRunner';

/** Choices that skip the QuickPicks: used by recipes, code actions and tests. */
export interface PruneChoices {
  readonly method: PruneMethod;
  readonly sparsity?: number;
  readonly pattern?: { readonly n: number; readonly m: number };
  readonly permute?: boolean;
  readonly layers?: readonly string[];
}

interface Option<T> extends vscode.QuickPickItem {
  readonly value: T;
}

/**
 * "Prune…": QuickPicks for the method, the sparsity or N:M pattern, channel permutation and the
 * layers; then the job in the worker, then the diff and the report (which says plainly that ONNX
 * Runtime on CPU has no sparse kernels).
 */
export class PruneFlow {
  constructor(private readonly worker: WorkerClient, private readonly runner: TransformRunner) {}

  /** Runs the flow for `model`; `preselect` names layers to tick first. */
  async run(model: vscode.Uri, preselect: readonly string[] = [], given?: PruneChoices): Promise<PruneReport | undefined> {
    if (!this.runner.requireOnnx(model, 'prunes')) return undefined;
    const choices = given ?? (await this.ask(model, preselect));
    if (!choices) return undefined;
    const params: PruneParams = {
      path: model.fsPath,
      method: choices.method,
      ...(choices.sparsity !== undefined ? { sparsity: choices.sparsity } : {}),
      ...(choices.pattern ? { pattern: choices.pattern } : {}),
      ...(choices.permute ? { permute: true } : {}),
      ...(choices.layers?.length ? { layers: choices.layers } : {}),
      ...(choices.method === 'sparsegpt' ? { calibration: calibrationSettings().calibration } : {}),
    };
    const name = path.basename(model.fsPath);
    const report = await this.runner.run(`Pruning ${name}`, (token, onProgress) => this.worker.request('prune', params, { token, onProgress }));
    if (!report) return undefined;
    const sparsity = report.sizes.weights ? report.sizes.zeros / report.sizes.weights : 0;
    const worst = report.validation.outputs.reduce((m, o) => Math.max(m, o.relativeL2), 0);
    await this.runner.show(model, report.output, renderPruneMarkdown(report), `Wrote ${path.basename(report.output)}: ${(sparsity * 100).toFixed(1)}% of the pruned layers' weights are zero, output relative L2 error ${worst.toExponential(2)}.`);
    return report;
  }

  private async ask(model: vscode.Uri, preselect: readonly string[]): Promise<PruneChoices | undefined> {
    const title = `Prune ${path.basename(model.fsPath)}`;
    const method = await vscode.window.showQuickPick<Option<PruneMethod>>(
      [
        { label: 'Magnitude', description: 'zero the smallest weights, unstructured', value: 'magnitude' },
        { label: 'N:M', description: 'keep N of every M weights along the input axis (2:4 for sparse tensor cores)', value: 'nm' },
        { label: 'SparseGPT', description: 'one-shot second-order pruning with H = XᵀX from calibration (Frantar & Alistarh 2023)', value: 'sparsegpt' },
      ],
      { title: `${title} (1/4): method` },
    );
    if (!method) return undefined;
    let sparsity: number | undefined;
    let pattern: { n: number; m: number } | undefined;
    if (method.value === 'magnitude' || method.value === 'sparsegpt') {
      const kinds: Option<{ sparsity?: number; pattern?: { n: number; m: number } }>[] = [0.5, 0.6, 0.7, 0.8].map((s) => ({ label: `${s * 100}% unstructured`, value: { sparsity: s } }));
      if (method.value === 'sparsegpt') kinds.push({ label: '2:4', value: { pattern: { n: 2, m: 4 } } }, { label: '4:8', value: { pattern: { n: 4, m: 8 } } });
      const k = await vscode.window.showQuickPick(kinds, { title: `${title} (2/4): sparsity` });
      if (!k) return undefined;
      sparsity = k.value.sparsity;
      pattern = k.value.pattern;
    } else {
      const p = await vscode.window.showQuickPick<Option<{ n: number; m: number }>>(
        [{ n: 2, m: 4 }, { n: 1, m: 4 }, { n: 4, m: 8 }].map((v) => ({ label: `${v.n}:${v.m}`, value: v })),
        { title: `${title} (2/4): pattern` },
      );
      if (!p) return undefined;
      pattern = p.value;
    }
    let permute = false;
    if (pattern) {
      const perm = await vscode.window.showQuickPick<Option<boolean>>(
        [
          { label: 'Search a channel permutation', description: 'keeps more weight magnitude under N:M; applied to the producer layer or as a Gather, so the model computes the same', value: true },
          { label: 'No permutation', value: false },
        ],
        { title: `${title} (3/4): channel permutation (Pool & Yu 2021)` },
      );
      if (!perm) return undefined;
      permute = perm.value;
    }
    const layers = await this.worker.request('quantizableLayers', { path: model.fsPath });
    const picked = await vscode.window.showQuickPick(
      layers.map((l) => ({ label: l.layer, description: `${l.opType} ${l.inFeatures}×${l.outFeatures}`, value: l.layer, picked: preselect.length ? preselect.includes(l.layer) || preselect.includes(l.weight) : true })),
      { title: `${title} (4/4): layers`, canPickMany: true },
    );
    if (!picked?.length) return undefined;
    return {
      method: method.value,
      ...(sparsity !== undefined ? { sparsity } : {}),
      ...(pattern ? { pattern } : {}),
      ...(permute ? { permute } : {}),
      ...(picked.length < layers.length ? { layers: picked.map((p) => p.value) } : {}),
    };
  }
}
