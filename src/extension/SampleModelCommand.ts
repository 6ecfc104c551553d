import * as vscode from 'vscode';
import { CHECKPOINT_VIEW_TYPES } from './editor/CheckpointEditorProvider';

/** The command behind the walkthrough's buttons; activated through its `onCommand` event. */
export const SAMPLE_COMMAND_ID = 'quantscope.openSampleModel';

/** The sample shipped in the package: a two-layer MLP (x[batch,16] → MatMul 16×8 → Relu → MatMul 8×4). */
const SAMPLE_FILE = 'tiny_mlp.onnx';

/** The walkthrough steps after opening, each the palette command it demonstrates. */
const STEP_COMMANDS = {
  profile: 'quantscope.profileModel',
  calibrate: 'quantscope.calibrateModel',
  quantize: 'quantscope.quantizeLayer',
} as const;

type Step = keyof typeof STEP_COMMANDS;

function isStep(value: unknown): value is Step {
  return typeof value === 'string' && Object.hasOwn(STEP_COMMANDS, value);
}

/**
 * Opens the walkthrough's sample model, and with a step name ("profile", "calibrate",
 * "quantize") runs that step's command on it. The sample is copied out of the installed
 * extension first, to the extension's global storage: transforms write their output beside
 * the source, and the extension's own folder may be read-only.
 */
export class SampleModelCommand {
  /** Registers {@link SAMPLE_COMMAND_ID}. */
  static register(context: vscode.ExtensionContext): void {
    context.subscriptions.push(vscode.commands.registerCommand(SAMPLE_COMMAND_ID, (step?: unknown) => SampleModelCommand.run(context, step)));
  }

  /** Copies (when missing), opens and optionally runs a step on the sample; resolves with its location. */
  static async run(context: vscode.ExtensionContext, step?: unknown): Promise<vscode.Uri> {
    const uri = await SampleModelCommand.writableCopy(context);
    await vscode.commands.executeCommand('vscode.openWith', uri, CHECKPOINT_VIEW_TYPES[0]);
    if (isStep(step)) await vscode.commands.executeCommand(STEP_COMMANDS[step], uri);
    return uri;
  }

  /** The sample in global storage, copied from the package when it is not there yet. */
  private static async writableCopy(context: vscode.ExtensionContext): Promise<vscode.Uri> {
    const folder = vscode.Uri.joinPath(context.globalStorageUri, 'sample');
    const target = vscode.Uri.joinPath(folder, SAMPLE_FILE);
    try {
      await vscode.workspace.fs.stat(target);
      return target;
    } catch {
      // Not copied yet (or deleted by the user): copy it again below.
    }
    await vscode.workspace.fs.createDirectory(folder);
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(context.extensionUri, 'samples', SAMPLE_FILE), target, { overwrite: true });
    return target;
  }
}
