import * as path from 'node:path';
import * as vscode from 'vscode';
import { WorkerRequestError, type WorkerClient } from '../client/WorkerClient';
import type { QuantizableLayer } from '../../protocol/workerProtocol';
import { ModelTextProvider } from '../text/ModelTextProvider';
import type { QuantizeCalibration } from '../../protocol/quantizeTypes';
import type { ReportProvider } from './ReportProvider';

/**
 * The calibration every transform job runs with, from the same settings Calibrate uses (samples,
 * batch size, sequence length, Hessian memory budget), with the user's data file when chosen
 * (and the tokenizer a `.txt` file is read with).
 */
export function calibrationSettings(file?: string, tokenizer?: string): { readonly calibration: QuantizeCalibration; readonly hessianBudgetBytes: number } {
  const c = vscode.workspace.getConfiguration('quantscope');
  return {
    calibration: {
      samples: c.get<number>('calibration.samples', 32),
      batch: c.get<number>('calibration.batchSize', 1),
      sequenceLength: c.get<number>('calibration.sequenceLength', 128),
      ...(file ? { file } : {}),
      ...(file && tokenizer ? { tokenizer } : {}),
    },
    hessianBudgetBytes: c.get<number>('calibration.hessianBudgetMB', 4096) * 2 ** 20,
  };
}

/** Reports progress from the worker into a VS Code progress notification. */
type ProgressSink = (message: string, fraction?: number) => void;

/**
 * What every model transform (quantize, prune) shares in the UI: the job runs in the worker under
 * a cancellable progress notification, and its result is shown as the diff of the model's text
 * before and after, with the report beside it.
 */
export class TransformRunner {
  constructor(private readonly reports: ReportProvider) {}

  /**
   * True for an ONNX model or a file that may hold a language model (the worker builds its graph,
   * or names why it cannot); otherwise tells the user that the transform (`verb`: quantizes,
   * prunes) needs one of those.
   */
  acceptsModel(model: vscode.Uri, verb: string): boolean {
    if (!/\.(npy|npz)$/i.test(model.fsPath)) return true;
    void vscode.window.showWarningMessage(`Quantscope ${verb} ONNX models and language-model checkpoints, and writes ONNX that ONNX Runtime runs; ${path.basename(model.fsPath)} is an array file.`);
    return false;
  }

  /**
   * The layers a transform can rewrite. A checkpoint's graph is built (and cached) on first use,
   * which takes a while on a large model, so that runs under progress with cancel; undefined when
   * it failed or was cancelled (the user was told).
   */
  async layers(worker: WorkerClient, model: vscode.Uri): Promise<readonly QuantizableLayer[] | undefined> {
    if (model.fsPath.toLowerCase().endsWith('.onnx')) return worker.request('quantizableLayers', { path: model.fsPath });
    return this.run(`Building the graph of ${path.basename(model.fsPath)}`, (token, onProgress) => worker.request('quantizableLayers', { path: model.fsPath }, { token, onProgress }));
  }

  /** Runs `job`; returns undefined (after telling the user) when it failed or was cancelled. */
  async run<T>(title: string, job: (token: vscode.CancellationToken, onProgress: ProgressSink) => Promise<T>): Promise<T | undefined> {
    try {
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
        let last = 0;
        return job(token, (message, fraction) => {
          const now = fraction === undefined ? undefined : Math.round(fraction * 100);
          progress.report({ message, ...(now !== undefined && now > last ? { increment: now - last } : {}) });
          if (now !== undefined) last = Math.max(last, now);
        });
      });
    } catch (e) {
      if (e instanceof WorkerRequestError && e.kind === 'cancelled') void vscode.window.showInformationMessage(`${title} was cancelled; nothing was written.`);
      else void vscode.window.showErrorMessage(`${title} failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  /**
   * Opens the diff of `source` and `output` as model text, and the Markdown report beside it. A
   * language-model checkpoint ran as its built graph (`graph`): that graph is the diff's left side,
   * so the diff shows what the transform rewrote rather than the checkpoint's tensor list.
   */
  async show(source: vscode.Uri, output: string, markdown: string, summary: string, graph?: string): Promise<void> {
    const out = vscode.Uri.file(output);
    const before = graph === undefined ? source : vscode.Uri.file(graph);
    await vscode.commands.executeCommand('vscode.diff', ModelTextProvider.uriFor(before), ModelTextProvider.uriFor(out), `${path.basename(source.fsPath)} ↔ ${path.basename(output)}`, { preview: false });
    await vscode.commands.executeCommand('markdown.showPreviewToSide', this.reports.add(markdown, path.basename(output)));
    void vscode.window.showInformationMessage(summary);
  }
}
