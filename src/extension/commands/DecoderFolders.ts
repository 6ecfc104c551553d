import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../Disposable';

/** The context key (a list of folder paths) that the Explorer menu's `when` clauses read. */
export const DECODER_FOLDERS_KEY = 'quantscope.decoderFolders';

/**
 * Keeps {@link DECODER_FOLDERS_KEY} listing the workspace folders that hold a `config.json`, so
 * the Explorer offers "Export to ONNX…" and "Quantize Layer…" on a Hugging Face model folder
 * (`explorerResourceIsFolder && resourcePath in quantscope.decoderFolders`): a `when` clause
 * cannot look inside a folder itself.
 */
export class DecoderFolders extends Disposable {
  private pending: ReturnType<typeof setTimeout> | undefined;

  /** Starts watching and sets the key once. */
  static register(context: vscode.ExtensionContext): DecoderFolders {
    const folders = new DecoderFolders();
    context.subscriptions.push(folders);
    return folders;
  }

  private constructor() {
    super();
    const watcher = this._register(vscode.workspace.createFileSystemWatcher('**/config.json', false, true, false));
    this._register(watcher.onDidCreate(() => this.schedule()));
    this._register(watcher.onDidDelete(() => this.schedule()));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.schedule()));
    this._register({ dispose: () => clearTimeout(this.pending) });
    void this.update();
  }

  private schedule(): void {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.update(), 300);
  }

  /** Finds the folders again and sets the key. */
  async update(): Promise<void> {
    const found = await vscode.workspace.findFiles('**/config.json', '**/{node_modules,.git,.tools,dist,.quantscope}/**', 5000);
    const folders = [...new Set(found.map((u) => path.dirname(u.fsPath)))];
    await vscode.commands.executeCommand('setContext', DECODER_FOLDERS_KEY, folders);
  }
}
