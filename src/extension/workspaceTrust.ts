import * as vscode from 'vscode';
import type { ModelAction, ModelActions } from '../protocol/webviewProtocol';

/**
 * The commands that run a model in ONNX Runtime or write files beside the user's: in Restricted
 * Mode they are disabled (package.json's `enablement`) and refuse when called another way, while
 * opening, listing, weight statistics and the text view go on working, since the readers never
 * execute anything from a file.
 */
export const TRUSTED_COMMANDS: Readonly<Record<string, string>> = {
  'quantscope.quantizeLayer': 'Quantize',
  'quantscope.pruneModel': 'Prune',
  'quantscope.exportOnnx': 'Export to ONNX',
  'quantscope.quantizeGguf': 'Quantize to GGUF',
  'quantscope.calibrateModel': 'Calibrate',
  'quantscope.benchmarkModel': 'Benchmark',
  'quantscope.compareWith': 'Compare',
  'quantscope.compareModels': 'Compare Models',
  'quantscope.applyRecipe': 'Apply Recipe',
  'quantscope.applyRecommended': 'Apply All Recommended',
  'quantscope.applyFinding': 'Applying a fix',
  'quantscope.addToRecipe': 'Adding to a recipe',
};

/** Why a command in {@link TRUSTED_COMMANDS} does not run in Restricted Mode. */
export const RESTRICTED_REASON = 'this workspace is in Restricted Mode, and Quantscope runs models and writes files only in a trusted workspace';

/**
 * The handler of command `id`, guarded when the command is one of {@link TRUSTED_COMMANDS}: in an
 * untrusted workspace it tells the user why the command does not run, offers VS Code's trust
 * editor, and resolves with undefined instead of calling `fn`.
 */
export function requireTrust<A extends unknown[], R>(id: string, fn: (...args: A) => R): (...args: A) => R | Promise<undefined> {
  const label = TRUSTED_COMMANDS[id];
  if (label === undefined) return fn;
  return (...args: A) => (vscode.workspace.isTrusted ? fn(...args) : refuseUntrusted(label));
}

/** Tells the user why `label` does not run; the command returns at once, whatever the user does with the message. */
function refuseUntrusted(label: string): Promise<undefined> {
  const manage = 'Manage Workspace Trust';
  void vscode.window.showWarningMessage(`${label} is not available: ${RESTRICTED_REASON}.`, manage).then((choice) => (choice === manage ? vscode.commands.executeCommand('workbench.trust.manage') : undefined));
  return Promise.resolve(undefined);
}

/** The editor's actions that run a model or write files. */
const TRUSTED_ACTIONS: readonly ModelAction[] = ['calibrate', 'quantize', 'prune', 'benchmark', 'exportOnnx', 'quantizeGguf'];

/** `actions` as Restricted Mode leaves them: those that run a model or write files are withdrawn, with the reason. */
export function restrictActions(actions: ModelActions): ModelActions {
  const out: { -readonly [A in ModelAction]: ModelActions[A] } = { ...actions };
  for (const a of TRUSTED_ACTIONS) if (out[a].offered) out[a] = { offered: false, reason: RESTRICTED_REASON };
  return out;
}
