import * as path from 'node:path';
import * as vscode from 'vscode';
import { CHECKPOINT_VIEW_TYPES } from '../editor/CheckpointEditorProvider';
import type { ModelActionService } from '../editor/ModelActionService';
import { pickModel } from '../modelFiles';
import { ModelTextProvider } from '../text/ModelTextProvider';
import type { WorkerClient } from '../client/WorkerClient';
import type { CalibrationSource, ProfileService } from '../profile/ProfileService';
import type { BenchParams } from '../../protocol/benchTypes';
import type { BenchmarkCommands } from '../bench/BenchmarkCommands';
import type { PruneChoices, PruneFlow } from '../quantize/PruneFlow';
import type { PlanFlow } from '../quantize/PlanFlow';
import type { QuantizeChoices, QuantizeFlow } from '../quantize/QuantizeFlow';
import { requireTrust } from '../workspaceTrust';

/** The Outliers view's id; VS Code derives its `.focus` command from it. */
const OUTLIERS_VIEW_ID = 'quantscope.outliers';

/** Command ids contributed in package.json. Integration tests check that each one is registered. */
export const COMMAND_IDS = [
  'quantscope.openModel',
  'quantscope.quantizeLayer',
  'quantscope.pruneModel',
  'quantscope.profileModel',
  'quantscope.calibrateModel',
  'quantscope.benchmarkModel',
  'quantscope.compareWith',
  'quantscope.compareModels',
  'quantscope.applyRecipe',
  'quantscope.openBenchmark',
  'quantscope.showModelText',
  'quantscope.restartWorker',
  'quantscope.showWorkerLog',
  'quantscope.exportOnnx',
  'quantscope.quantizeGguf',
] as const;

function isOnnx(uri: vscode.Uri): boolean {
  return uri.fsPath.toLowerCase().endsWith('.onnx');
}

async function isFolder(uri: vscode.Uri): Promise<boolean> {
  return vscode.workspace.fs.stat(uri).then((s) => (s.type & vscode.FileType.Directory) !== 0, () => false);
}

/**
 * The model a graph command (quantize, prune, calibrate) runs on: a checkpoint it was given (a
 * language model's weights, run as their built graph) once the checkpoint passed `refuse`, else
 * an ONNX model from the editor or a pick.
 */
async function graphModel(arg: unknown, title: string, refuse: (uri: vscode.Uri) => Promise<boolean>): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri && !isOnnx(arg)) {
    // A model folder has no listing to judge it by: the worker names what is wrong with it.
    if (await isFolder(arg)) return arg;
    return (await refuse(arg)) ? undefined : arg;
  }
  return targetModel(arg, title, ['onnx']);
}

/** The model a command applies to: its argument (Explorer, editor title), the active checkpoint editor, or a pick. */
async function targetModel(arg: unknown, title: string, extensions?: readonly string[]): Promise<vscode.Uri | undefined> {
  const fits = (u: vscode.Uri): boolean => !extensions || extensions.some((e) => u.fsPath.toLowerCase().endsWith(`.${e}`));
  if (arg instanceof vscode.Uri && fits(arg)) return arg;
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
  if (tab?.input instanceof vscode.TabInputCustom && (CHECKPOINT_VIEW_TYPES as readonly string[]).includes(tab.input.viewType) && fits(tab.input.uri)) return tab.input.uri;
  return pickModel(title, extensions);
}

/**
 * Asks where calibration inputs come from: generated from the declared input shapes (the
 * statistics are then synthetic, and say so), or the user's .npy/.npz/.pb files.
 */
async function pickCalibrationSource(model: vscode.Uri): Promise<CalibrationSource | undefined> {
  type Kind = 'generated' | 'files' | 'text';
  const items: (vscode.QuickPickItem & { from: Kind })[] = [
    { label: '$(symbol-misc) Generated inputs', description: 'from the declared input shapes; statistics are synthetic', from: 'generated' },
    { label: '$(file) Calibration files…', description: '.npy / .npz per input name, or ONNX TensorProto .pb files', from: 'files' },
    { label: '$(book) Text and tokenizer.json…', description: 'for language models: a text file tokenized with the model\'s tokenizer', from: 'text' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `Calibration data for ${path.basename(model.fsPath)}`, placeHolder: 'Where do calibration inputs come from?' });
  if (!picked) return undefined;
  const near = vscode.Uri.file(path.dirname(model.fsPath));
  switch (picked.from) {
    case 'generated':
      return { files: [] };
    case 'files': {
      const uris = await vscode.window.showOpenDialog({ title: 'Calibration files', canSelectMany: true, canSelectFolders: true, defaultUri: near, filters: { 'Calibration data': ['npy', 'npz', 'pb'] } });
      return uris?.length ? { files: uris.map((u) => u.fsPath) } : undefined;
    }
    case 'text': {
      const text = await vscode.window.showOpenDialog({ title: 'Calibration text', defaultUri: near, filters: { Text: ['txt'] } });
      if (!text?.[0]) return undefined;
      const tokenizer = await vscode.window.showOpenDialog({ title: 'The model\'s tokenizer.json', defaultUri: near, filters: { 'Tokenizer': ['json'] } });
      return tokenizer?.[0] ? { files: [text[0].fsPath], tokenizer: tokenizer[0].fsPath } : undefined;
    }
  }
}

/** The palette and context-menu commands that act on a model file. */
export class ModelCommands {
  /** Registers every command in {@link COMMAND_IDS}. */
  static register(context: vscode.ExtensionContext, worker: WorkerClient, log: vscode.LogOutputChannel, profiles: ProfileService, quantize: QuantizeFlow, prune: PruneFlow, bench: BenchmarkCommands, plans: PlanFlow, actions: ModelActionService): void {
    const reg = (id: (typeof COMMAND_IDS)[number], fn: (arg?: unknown, extra?: unknown) => unknown): void => {
      context.subscriptions.push(vscode.commands.registerCommand(id, requireTrust(id, fn)));
    };

    reg('quantscope.openModel', async (arg) => {
      const uri = arg instanceof vscode.Uri ? arg : await pickModel('Quantscope: Open Model');
      if (uri) await vscode.commands.executeCommand('vscode.openWith', uri, CHECKPOINT_VIEW_TYPES[0]);
    });

    reg('quantscope.showModelText', async (arg) => {
      const uri = await targetModel(arg, 'Quantscope: Show Model as Text');
      if (!uri) return;
      const doc = await vscode.workspace.openTextDocument(ModelTextProvider.uriFor(uri));
      await vscode.languages.setTextDocumentLanguage(doc, 'quantscope-model');
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    });

    reg('quantscope.restartWorker', async () => {
      worker.restart();
      const pong = await worker.request('ping', {});
      void vscode.window.showInformationMessage(`Quantscope worker restarted (process ${pong.pid}).`);
    });

    reg('quantscope.showWorkerLog', () => log.show());

    // From the Explorer (a Uri), the editor (a Uri and a layer) or a script or test (a Uri and choices).
    reg('quantscope.quantizeLayer', async (arg, extra) => {
      // A checkpoint in another format is refused with its reason rather than swapped for a pick.
      const uri = await graphModel(arg, 'Quantscope: Quantize Layer', (u) => actions.refuse(u, 'quantize'));
      if (!uri) return undefined;
      if (extra && typeof extra === 'object' && 'method' in extra) return quantize.run(uri, [], extra as QuantizeChoices);
      // Asked interactively: a model with nothing to quantize is refused before the first question.
      if (await actions.refuse(uri, 'quantize')) return undefined;
      return quantize.run(uri, typeof extra === 'string' ? [extra] : []);
    });

    reg('quantscope.pruneModel', async (arg, extra) => {
      const uri = await graphModel(arg, 'Quantscope: Prune', (u) => actions.refuse(u, 'prune'));
      if (!uri) return undefined;
      if (extra && typeof extra === 'object' && 'method' in extra) return prune.run(uri, [], extra as PruneChoices);
      if (await actions.refuse(uri, 'prune')) return undefined;
      return prune.run(uri, typeof extra === 'string' ? [extra] : []);
    });

    reg('quantscope.calibrateModel', async (arg) => {
      const uri = await graphModel(arg, 'Quantscope: Calibrate Model', (u) => actions.refuse(u, 'calibrate'));
      if (!uri) return;
      // Say at once why a model cannot be calibrated, instead of first asking for data.
      if (await actions.refuse(uri, 'calibrate')) return;
      const source = await pickCalibrationSource(uri);
      if (!source) return;
      await vscode.commands.executeCommand('vscode.openWith', uri, CHECKPOINT_VIEW_TYPES[0]);
      const result = await profiles.calibrate(uri, source, true);
      if (result) void vscode.commands.executeCommand(`${OUTLIERS_VIEW_ID}.focus`, { preserveFocus: true });
    });

    reg('quantscope.profileModel', async (arg) => {
      const uri = await targetModel(arg, 'Quantscope: Profile Model');
      if (!uri) return;
      // Profiling from the Explorer shows the result where it is read: in the checkpoint editor.
      await vscode.commands.executeCommand('vscode.openWith', uri, CHECKPOINT_VIEW_TYPES[0]);
      const result = await profiles.profile(uri, true);
      if (result) void vscode.commands.executeCommand(`${OUTLIERS_VIEW_ID}.focus`, { preserveFocus: true });
    });

    reg('quantscope.benchmarkModel', async (arg, extra) => {
      if (arg instanceof vscode.Uri && !isOnnx(arg) && (await actions.refuse(arg, 'benchmark'))) return undefined;
      const given = Array.isArray(arg) && arg.every((a) => a instanceof vscode.Uri) ? (arg) : undefined;
      const models = given ?? (await bench.pickModels('Quantscope: Benchmark Model', arg instanceof vscode.Uri ? [arg] : []));
      if (!models) return undefined;
      const overrides: Partial<BenchParams> = extra && typeof extra === 'object' ? extra : {};
      return bench.run(models, overrides);
    });
    reg('quantscope.compareModels', async () => {
      const models = await bench.pickModels('Quantscope: Compare Models', [], 2);
      return models && bench.run(models);
    });
    reg('quantscope.compareWith', async (arg) => {
      if (!(arg instanceof vscode.Uri)) return undefined;
      const other = await bench.pickModels(`Compare ${path.basename(arg.fsPath)} with…`, [arg], 2);
      return other && bench.run(other);
    });
    reg('quantscope.openBenchmark', () => bench.open());
    reg('quantscope.applyRecipe', (arg) => plans.apply(arg));
  }
}
