import * as vscode from 'vscode';
import { FINDING_COMMANDS } from './FindingCommands';

/** A code action offered in the QuickPick. */
interface FixItem extends vscode.QuickPickItem {
  readonly action: vscode.CodeAction;
}

/**
 * Ctrl+. on the model text view. That view is read-only, and VS Code gates its own Quick Fix
 * command (and so its keybinding) on a writable editor: there the lightbulb answered only a mouse
 * click. This command asks the same code action providers for the actions at the cursor and
 * offers them in a QuickPick, the preferred fix first, so the findings' fixes are reachable from
 * the keyboard and by screen readers.
 */
export class FindingFixesCommand {
  /** Registers {@link FINDING_COMMANDS.showFixes}. */
  static register(context: vscode.ExtensionContext): void {
    context.subscriptions.push(vscode.commands.registerCommand(FINDING_COMMANDS.showFixes, () => FindingFixesCommand.show()));
  }

  /** Shows the code actions at the active editor's selection and runs the one chosen; resolves with what it returned. */
  static async show(): Promise<unknown> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return undefined;
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[] | undefined>('vscode.executeCodeActionProvider', editor.document.uri, editor.selection)) ?? [];
    if (!actions.length) {
      void vscode.window.showInformationMessage('Quantscope: no fixes here. Findings sit on the layer lines the Problems panel lists.');
      return undefined;
    }
    const items: FixItem[] = actions
      .map((action, i) => ({ action, i }))
      .sort((a, b) => Number(b.action.isPreferred ?? false) - Number(a.action.isPreferred ?? false) || a.i - b.i)
      .map(({ action }) => ({
        // Codicons rather than pictures, so the icons follow the theme and its contrast.
        label: `${action.isPreferred ? '$(lightbulb-autofix)' : '$(lightbulb)'} ${action.title}`,
        ...(action.diagnostics?.[0] ? { detail: action.diagnostics[0].message } : {}),
        ...(action.isPreferred ? { description: 'recommended' } : {}),
        action,
      }));
    const chosen = await vscode.window.showQuickPick(items, { title: 'Quantscope: fixes for this line', placeHolder: 'Choose a fix to run', matchOnDetail: true });
    if (!chosen) return undefined;
    if (chosen.action.edit) await vscode.workspace.applyEdit(chosen.action.edit);
    const command = chosen.action.command;
    return command ? vscode.commands.executeCommand(command.command, ...((command.arguments ?? []) as unknown[])) : undefined;
  }
}
