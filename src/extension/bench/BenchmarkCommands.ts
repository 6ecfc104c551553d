import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BenchParams, BenchReport } from '../../protocol/benchTypes';
import type { WorkerClient } from '../client/WorkerClient';
import { findWorkspaceModels } from '../modelFiles';
import type { TransformRunner } from '../quantize/TransformRunner';
import { BenchmarkPanel } from './BenchmarkPanel';
import { pickBenchMode } from './pickBenchMode';

/** Where benchmark results are kept, relative to the workspace folder. */
const RESULTS_DIR = ['.quantscope', 'bench'];

/**
 * "Benchmark Model…", "Compare Models…", "Compare With…" and "Open Benchmark Result…": the runs
 * happen in the worker (never on the extension host); results are saved as JSON in the workspace
 * and shown on a page with charts.
 */
export class BenchmarkCommands {
  constructor(private readonly context: vscode.ExtensionContext, private readonly worker: WorkerClient, private readonly runner: TransformRunner) {}

  /** Picks ONNX models, workspace models first; `preset` ones are ticked. */
  async pickModels(title: string, preset: readonly vscode.Uri[], exactly?: number): Promise<vscode.Uri[] | undefined> {
    const models = await findWorkspaceModels(undefined, ['onnx']);
    for (const p of preset) if (!models.some((m) => m.fsPath === p.fsPath)) models.unshift(p);
    const items = models.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri, picked: preset.some((p) => p.fsPath === uri.fsPath) }));
    const picked = await vscode.window.showQuickPick(items, { title, canPickMany: true, placeHolder: exactly ? `Pick ${exactly} models` : 'Pick one or more models; the first is the baseline' });
    if (!picked?.length) return undefined;
    if (exactly && picked.length !== exactly) {
      void vscode.window.showWarningMessage(`Pick exactly ${exactly} models to compare.`);
      return undefined;
    }
    // The baseline is the model that was preset, else the first picked.
    return picked.map((p) => p.uri).sort((a, b) => Number(preset.some((p) => p.fsPath === b.fsPath)) - Number(preset.some((p) => p.fsPath === a.fsPath)));
  }

  /** Runs the benchmark with the user's settings, saves it, and shows it; a decoder is asked whether to time generation. */
  async run(models: readonly vscode.Uri[], overrides: Partial<BenchParams> = {}): Promise<BenchReport | undefined> {
    const c = vscode.workspace.getConfiguration('quantscope');
    const mode = overrides.generate || !models.length ? {} : await pickBenchMode(this.worker, models[0]);
    if (!mode) return undefined;
    const params: BenchParams = {
      models: models.map((m) => m.fsPath),
      threads: c.get<number>('worker.threads', 0),
      batch: c.get<number>('calibration.batchSize', 1),
      sequenceLength: c.get<number>('calibration.sequenceLength', 128),
      dims: c.get<Record<string, number>>('calibration.symbolicDimensions', {}),
      runs: c.get<number>('benchmark.runs', 50),
      warmup: c.get<number>('benchmark.warmup', 5),
      ...mode,
      ...overrides,
    };
    const report = await this.runner.run(`Benchmarking ${models.map((m) => path.basename(m.fsPath)).join(', ')}`, (token, onProgress) => this.worker.request('benchmark', params, { token, onProgress }));
    if (!report) return undefined;
    const saved = await this.save(report, models[0]);
    BenchmarkPanel.show(this.context.extensionUri, report, saved ? vscode.workspace.asRelativePath(saved) : undefined);
    return report;
  }

  /** Reopens a saved result. */
  async open(): Promise<void> {
    const files = await vscode.workspace.findFiles(`${RESULTS_DIR.join('/')}/*.json`, undefined, 500);
    if (!files.length) {
      void vscode.window.showInformationMessage('No saved benchmark results in this workspace yet: run "Quantscope: Benchmark Model…" first.');
      return;
    }
    const picked = await vscode.window.showQuickPick(files.sort((a, b) => b.fsPath.localeCompare(a.fsPath)).map((uri) => ({ label: path.basename(uri.fsPath, '.json'), uri })), { title: 'Open Benchmark Result' });
    if (!picked) return;
    const report = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(picked.uri))) as BenchReport;
    BenchmarkPanel.show(this.context.extensionUri, report, vscode.workspace.asRelativePath(picked.uri));
  }

  private async save(report: BenchReport, near: vscode.Uri): Promise<vscode.Uri | undefined> {
    const folder = vscode.workspace.getWorkspaceFolder(near) ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = path.basename(near.fsPath, '.onnx').replace(/[^\w.-]+/g, '_');
    const uri = vscode.Uri.joinPath(folder.uri, ...RESULTS_DIR, `${stamp}-${base}.json`);
    try {
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(JSON.stringify(report, null, 2)));
      return uri;
    } catch {
      return undefined;
    }
  }
}
