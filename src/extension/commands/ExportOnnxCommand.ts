import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExportReport } from '../../protocol/exportTypes';
import type { WorkerClient } from '../client/WorkerClient';
import { CHECKPOINT_VIEW_TYPES } from '../editor/CheckpointEditorProvider';
import type { ModelActionService } from '../editor/ModelActionService';
import { pickModel } from '../modelFiles';
import type { TransformRunner } from '../quantize/TransformRunner';
import { requireTrust } from '../workspaceTrust';

/** The command id contributed in package.json. */
export const EXPORT_ONNX_COMMAND = 'quantscope.exportOnnx';

/** The checkpoint in the active checkpoint editor, if any. */
function activeCheckpoint(): vscode.Uri | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
  return tab?.input instanceof vscode.TabInputCustom && (CHECKPOINT_VIEW_TYPES as readonly string[]).includes(tab.input.viewType) ? tab.input.uri : undefined;
}

/**
 * "Export to ONNX…": builds a language-model checkpoint (a Hugging Face folder, its
 * model.safetensors or index, a .gguf) into an ONNX decoder in the worker, with progress and
 * cancel, writes it beside the checkpoint under a new name and opens it in the checkpoint editor.
 */
export class ExportOnnxCommand {
  /** Registers {@link EXPORT_ONNX_COMMAND}. */
  static register(context: vscode.ExtensionContext, worker: WorkerClient, runner: TransformRunner, actions: ModelActionService): void {
    context.subscriptions.push(vscode.commands.registerCommand(EXPORT_ONNX_COMMAND, requireTrust(EXPORT_ONNX_COMMAND, (arg?: unknown) => ExportOnnxCommand.run(worker, runner, actions, arg))));
  }

  /** Exports the model `arg` names (else the active editor's, else a pick); resolves with the report, or undefined when nothing was written. */
  static async run(worker: WorkerClient, runner: TransformRunner, actions: ModelActionService, arg?: unknown): Promise<ExportReport | undefined> {
    const uri = arg instanceof vscode.Uri ? arg : activeCheckpoint() ?? (await pickModel('Quantscope: Export to ONNX', ['safetensors', 'gguf', 'pth', 'pt']));
    if (!uri) return undefined;
    const isFolder = await vscode.workspace.fs.stat(uri).then((s) => (s.type & vscode.FileType.Directory) !== 0, () => false);
    // A file is listed first, so a checkpoint without a language model is refused with its reason; a folder is the worker's to judge.
    if (!isFolder && (await actions.refuse(uri, 'exportOnnx'))) return undefined;
    const name = path.basename(uri.fsPath);
    const report = await runner.run(`Exporting ${name} to ONNX`, (token, onProgress) => worker.request('exportDecoder', { path: uri.fsPath }, { token, onProgress }));
    if (!report) return undefined;
    const out = vscode.Uri.file(report.output);
    await vscode.commands.executeCommand('vscode.openWith', out, CHECKPOINT_VIEW_TYPES[0]);
    const params = report.parameterCount >= 1e6 ? `${(report.parameterCount / 1e6).toFixed(1)}M` : report.parameterCount.toLocaleString('en-US');
    void vscode.window.showInformationMessage(`Wrote ${vscode.workspace.asRelativePath(out)}: ${report.family}, ${report.layers} layers, ${params} parameters, ${(report.fileBytes / 2 ** 20).toFixed(1)} MiB, built in ${report.seconds.build.toFixed(1)} s.`);
    return report;
  }
}
