import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GgufExportParams, GgufExportReport } from '../../protocol/ggufExportTypes';
import type { QuantizeCalibration } from '../../protocol/transformTypes';
import type { WorkerClient } from '../client/WorkerClient';
import { Disposable } from '../Disposable';
import { CHECKPOINT_VIEW_TYPES } from '../editor/CheckpointEditorProvider';
import type { ModelActionService } from '../editor/ModelActionService';
import { pickModel } from '../modelFiles';
import { pickTransformCalibration } from '../quantize/pickTransformCalibration';
import { calibrationSettings, type TransformRunner } from '../quantize/TransformRunner';
import { requireTrust } from '../workspaceTrust';

/** The command id contributed in package.json. */
export const QUANTIZE_GGUF_COMMAND = 'quantscope.quantizeGguf';

interface PresetItem extends vscode.QuickPickItem {
  readonly target: string;
}

/** llama.cpp's presets, in the order its users reach for them. */
const PRESETS: readonly PresetItem[] = [
  { label: 'Q4_K_M', target: 'q4_k_m', description: '≈4.9 bits per weight', detail: 'Q4_K, with Q6_K for the output head and for attn_v and ffn_down on the first and last eighth of the layers and every third between: llama.cpp\'s usual choice' },
  { label: 'Q5_K_M', target: 'q5_k_m', description: '≈5.7 bits per weight', detail: 'Q5_K, with the same Q6_K tensors as Q4_K_M' },
  { label: 'Q3_K_M', target: 'q3_k_m', description: '≈3.9 bits per weight', detail: 'Q3_K, with Q4_K/Q5_K for attn_v, ffn_down and attn_output and Q6_K for the output head' },
  { label: 'Q8_0', target: 'q8_0', description: '8.5 bits per weight', detail: 'Q8_0 everywhere: nearly lossless' },
];

interface ImportanceItem extends vscode.QuickPickItem {
  readonly value: 'none' | 'imatrix';
}

/** The checkpoint in the active checkpoint editor, if any. */
function activeCheckpoint(): vscode.Uri | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
  return tab?.input instanceof vscode.TabInputCustom && (CHECKPOINT_VIEW_TYPES as readonly string[]).includes(tab.input.viewType) ? tab.input.uri : undefined;
}

async function isFolder(uri: vscode.Uri): Promise<boolean> {
  return vscode.workspace.fs.stat(uri).then((s) => (s.type & vscode.FileType.Directory) !== 0, () => false);
}

/**
 * Asks for the importance matrix: none (round to nearest), or one calibrated on generated token
 * ids or the user's data. Undefined when the user cancelled.
 */
async function pickImportance(model: vscode.Uri, title: string): Promise<{ calibration?: QuantizeCalibration } | undefined> {
  const items: ImportanceItem[] = [
    { label: 'Round to nearest', description: 'no calibration; the blocks llama-quantize writes without an imatrix', value: 'none' },
    { label: 'Importance matrix from calibration…', description: 'mean x² of every projection\'s input weights the block search, as llama-quantize --imatrix', value: 'imatrix' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: 'How the blocks are chosen' });
  if (!pick) return undefined;
  if (pick.value === 'none') return {};
  const data = await pickTransformCalibration(model, `${title}: calibration data`, true);
  if (data === null) return undefined;
  return { calibration: calibrationSettings(data?.file, data?.tokenizer).calibration };
}

/**
 * "Quantize to GGUF…": writes a language-model checkpoint (a Hugging Face folder, its
 * config.json, model.safetensors or index, or a .gguf) as a GGUF for llama.cpp in a preset the
 * user picks, optionally importance-weighted from a calibration. The worker does the work with
 * progress and cancel, writes the file beside the source under a new name (atomically, never
 * over anything), re-reads it, and the result opens in the checkpoint editor.
 */
export class QuantizeGgufCommand extends Disposable {
  /** Registers {@link QUANTIZE_GGUF_COMMAND}. */
  static register(context: vscode.ExtensionContext, worker: WorkerClient, runner: TransformRunner, actions: ModelActionService): QuantizeGgufCommand {
    const command = new QuantizeGgufCommand(worker, runner, actions);
    context.subscriptions.push(command);
    return command;
  }

  private constructor(private readonly worker: WorkerClient, private readonly runner: TransformRunner, private readonly actions: ModelActionService) {
    super();
    this._register(vscode.commands.registerCommand(QUANTIZE_GGUF_COMMAND, requireTrust(QUANTIZE_GGUF_COMMAND, (arg?: unknown) => this.run(arg))));
  }

  /** Quantizes the model `arg` names (else the active editor's, else a pick); resolves with the report, or undefined when nothing was written. */
  async run(arg?: unknown): Promise<GgufExportReport | undefined> {
    const uri = arg instanceof vscode.Uri ? arg : activeCheckpoint() ?? (await pickModel('Quantscope: Quantize to GGUF', ['safetensors', 'gguf']));
    if (!uri) return undefined;
    const name = path.basename(uri.fsPath);
    // A weights file is listed first so a checkpoint without a language model is refused with its reason; folders and config.json are the worker's to judge.
    if (!(await isFolder(uri)) && name !== 'config.json' && (await this.actions.refuse(uri, 'quantizeGguf'))) return undefined;
    const title = `Quantize ${name} to GGUF`;
    const preset = await vscode.window.showQuickPick(PRESETS, { title, placeHolder: 'A llama.cpp preset', matchOnDescription: true, matchOnDetail: true });
    if (!preset) return undefined;
    const importance = await pickImportance(uri, title);
    if (!importance) return undefined;
    const params: GgufExportParams = { path: uri.fsPath, target: preset.target, ...importance };
    const report = await this.runner.run(`Writing ${name} as ${preset.label} GGUF`, (token, onProgress) => this.worker.request('exportGguf', params, { token, onProgress }));
    if (!report) return undefined;
    const out = vscode.Uri.file(report.output);
    await vscode.commands.executeCommand('vscode.openWith', out, CHECKPOINT_VIEW_TYPES[0]);
    const weighted = report.tensors.filter((t) => t.importance);
    const rtn = weighted.reduce((s, t) => s + (t.importance?.rtnWeightedError ?? 0), 0);
    const imx = weighted.reduce((s, t) => s + (t.importance?.weightedError ?? 0), 0);
    const gain = rtn > 0
      ? `; importance-weighted error ${(100 * (1 - imx / rtn)).toFixed(1)} % below round-to-nearest on ${weighted.length} tensors${report.calibration?.synthetic ? ' (generated calibration)' : ''}`
      : '';
    const fallbacks = report.tensors.filter((t) => t.wanted).length;
    void vscode.window.showInformationMessage(
      `Wrote ${vscode.workspace.asRelativePath(out)}: ${report.target}, ${(report.fileBytes / 2 ** 20).toFixed(1)} MiB, ${report.bitsPerWeight.toFixed(2)} bits per weight${fallbacks ? `, ${fallbacks} tensors in a fallback type (rows too short for the preset's blocks)` : ''}${gain}.`,
    );
    return report;
  }
}
