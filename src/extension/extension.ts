import * as path from 'node:path';
import * as vscode from 'vscode';
import { BenchmarkCommands } from './bench/BenchmarkCommands';
import { COMMAND_IDS, ModelCommands } from './commands/ModelCommands';
import { DecoderFolders } from './commands/DecoderFolders';
import { ExportOnnxCommand } from './commands/ExportOnnxCommand';
import { QuantizeGgufCommand } from './commands/QuantizeGgufCommand';
import { CHECKPOINT_VIEW_TYPES, CheckpointEditorProvider } from './editor/CheckpointEditorProvider';
import { ModelActionService } from './editor/ModelActionService';
import { FindingCodeActionProvider } from './findings/FindingCodeActionProvider';
import { FINDING_COMMANDS, FindingCommands } from './findings/FindingCommands';
import { FindingDiagnostics } from './findings/FindingDiagnostics';
import { FindingFixesCommand } from './findings/FindingFixesCommand';
import { FindingHoverProvider } from './findings/FindingHoverProvider';
import { FindingsService } from './findings/FindingsService';
import { recommendations } from './findings/recommendations';
import { ModelSymbolProvider } from './text/ModelSymbolProvider';
import { ModelTextProvider } from './text/ModelTextProvider';
import { ProfileService } from './profile/ProfileService';
import { PruneFlow } from './quantize/PruneFlow';
import { PlanFlow } from './quantize/PlanFlow';
import { QuantizeFlow } from './quantize/QuantizeFlow';
import { RecipeCodeLensProvider } from './quantize/RecipeCodeLensProvider';
import { SampleModelCommand } from './SampleModelCommand';
import { TransformRunner } from './quantize/TransformRunner';
import { ReportProvider } from './quantize/ReportProvider';
import { OutliersViewProvider } from './views/OutliersViewProvider';
import { crashMessage, WorkerClient } from './client/WorkerClient';
import { setWebviewMessageLog } from './receiveChecked';

/** What `activate` returns: a small API that integration tests and other extensions can use. */
export interface QuantscopeApi {
  /** The worker's process id, or undefined when it is not running. */
  readonly workerPid: () => number | undefined;
  /** Asks the worker for its identity, starting it when needed. */
  readonly ping: () => Promise<{ pid: number }>;
  readonly commandIds: readonly string[];
  readonly viewTypes: readonly string[];
  /** Profiles a model's weights (from the cache when it is fresh); resolves with the number of tensors profiled. */
  readonly profile: (uri: vscode.Uri) => Promise<{ tensors: number; fromCache: boolean } | undefined>;
  /** Calibrates an ONNX model with generated inputs; resolves with the layers' ranking by sensitivity. */
  readonly calibrate: (uri: vscode.Uri) => Promise<{ layers: string[]; synthetic: boolean; fromCache: boolean } | undefined>;
}

/** Activates the extension: the worker client, the editor, the views and the commands. */
export function activate(context: vscode.ExtensionContext): QuantscopeApi {
  const log = vscode.window.createOutputChannel('Quantscope', { log: true });
  context.subscriptions.push(log);
  setWebviewMessageLog(log);
  const worker = new WorkerClient(
    path.join(context.extensionPath, 'dist', 'worker.js'),
    log,
    (crash) => {
      void vscode.window.showWarningMessage(crashMessage(crash), 'Show Log').then((choice) => {
        if (choice) log.show();
      });
    },
    // Read at each start: a changed cap applies from the next worker (Restart Worker, or a crash).
    () => ({ maxMemoryMB: vscode.workspace.getConfiguration('quantscope').get<number>('worker.maxMemoryMB', 0) }),
  );
  context.subscriptions.push(worker);

  const profiles = new ProfileService(context, worker, log);
  context.subscriptions.push(profiles);
  const findings = new FindingsService(profiles, worker, log);
  context.subscriptions.push(findings);
  const actions = new ModelActionService(worker);
  context.subscriptions.push(actions);
  const editors = CheckpointEditorProvider.register(context, worker, profiles, actions);
  const outliers = OutliersViewProvider.register(context);
  ModelTextProvider.register(context, worker);
  ModelSymbolProvider.register(context);
  const diagnostics = FindingDiagnostics.register(context, findings);
  FindingCodeActionProvider.register(context, diagnostics);
  FindingFixesCommand.register(context);
  FindingHoverProvider.register(context, findings);
  const runner = new TransformRunner(ReportProvider.register(context));
  const quantize = new QuantizeFlow(worker, profiles, runner);
  RecipeCodeLensProvider.register(context);
  SampleModelCommand.register(context);
  ExportOnnxCommand.register(context, worker, runner, actions);
  QuantizeGgufCommand.register(context, worker, runner, actions);
  DecoderFolders.register(context);
  const prune = new PruneFlow(worker, runner);
  FindingCommands.register(context, findings, worker, quantize, prune);
  ModelCommands.register(context, worker, log, profiles, quantize, prune, new BenchmarkCommands(context, worker, runner), new PlanFlow(worker, runner, quantize), actions);
  context.subscriptions.push(
    profiles.onDidProfile(({ uri, profile }) => outliers.showProfile(uri, profile)),
    profiles.onDidCalibrate(({ uri, profile }) => outliers.showCalibration(uri, profile)),
    findings.onDidChange((uri) => {
      const recs = recommendations(findings.peek(uri)?.report);
      editors.showFindings(uri, recs);
      outliers.showFindings(uri, recs);
    }),
    outliers.onDidRequestReveal(async ({ uri, layer }) => {
      // Heatmap rows are layers; the editor's table is by tensor, and ONNX layers name their weight.
      const cached = await profiles.cached(uri);
      const calibrated = (await profiles.cachedModel(uri))?.profile.layers.find((l) => l.layer === layer)?.weight;
      const tensor = calibrated ?? cached?.profile.tensors.find((t) => t.layer === layer || t.name === layer)?.name ?? layer;
      await editors.revealTensor(uri, tensor);
    }),
  );

  // `npm start` under code-server cannot pass a file to open, so it names one in the environment.
  const openOnStart = process.env.QUANTSCOPE_OPEN_ON_START;
  if (openOnStart) {
    void vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(openOnStart), CHECKPOINT_VIEW_TYPES[0]);
  }

  return {
    workerPid: () => worker.pid,
    ping: () => worker.request('ping', {}),
    commandIds: [...COMMAND_IDS, FINDING_COMMANDS.applyRecommended, FINDING_COMMANDS.showFixes],
    viewTypes: CHECKPOINT_VIEW_TYPES,
    profile: async (uri) => {
      const r = await profiles.profile(uri);
      return r && { tensors: r.profile.tensors.length, fromCache: r.fromCache };
    },
    calibrate: async (uri) => {
      const r = await profiles.calibrate(uri);
      return r && { layers: r.profile.layers.map((l) => l.layer), synthetic: r.profile.calibration.synthetic, fromCache: r.fromCache };
    },
  };
}

/** Nothing to do: every resource is in `context.subscriptions`. */
export function deactivate(): void {}
