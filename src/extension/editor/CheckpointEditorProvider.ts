import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EditorHostMessage, EditorWebviewMessage } from '../../protocol/webviewProtocol';
import { Disposable } from '../Disposable';
import { webviewHtml } from '../webviewHtml';
import { WorkerRequestError, type WorkerClient } from '../client/WorkerClient';
import { CheckpointDocument } from './CheckpointDocument';

/** The view types of the checkpoint editor: one at default priority, one offered via "Open With…". */
export const CHECKPOINT_VIEW_TYPES = ['quantscope.checkpoint', 'quantscope.checkpointOption'] as const;

/**
 * The read-only custom editor for model files. The webview asks for the summary when it is ready;
 * the worker computes it, so the extension host only relays messages.
 */
export class CheckpointEditorProvider extends Disposable implements vscode.CustomReadonlyEditorProvider<CheckpointDocument> {
  /** Registers the provider for every checkpoint view type. */
  static register(context: vscode.ExtensionContext, worker: WorkerClient): CheckpointEditorProvider {
    const provider = new CheckpointEditorProvider(context.extensionUri, worker);
    for (const viewType of CHECKPOINT_VIEW_TYPES) {
      context.subscriptions.push(
        vscode.window.registerCustomEditorProvider(viewType, provider, {
          webviewOptions: { retainContextWhenHidden: true },
          supportsMultipleEditorsPerDocument: true,
        }),
      );
    }
    context.subscriptions.push(provider);
    return provider;
  }

  private constructor(private readonly extensionUri: vscode.Uri, private readonly worker: WorkerClient) {
    super();
  }

  openCustomDocument(uri: vscode.Uri): CheckpointDocument {
    return new CheckpointDocument(uri);
  }

  resolveCustomEditor(document: CheckpointDocument, panel: vscode.WebviewPanel): void {
    const webview = panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')] };
    webview.html = webviewHtml(webview, this.extensionUri, 'editor', path.basename(document.uri.fsPath));
    const post = (message: EditorHostMessage): void => void webview.postMessage(message);
    const cts = new vscode.CancellationTokenSource();
    const load = async (): Promise<void> => {
      const fileName = path.basename(document.uri.fsPath);
      post({ type: 'loading', fileName });
      try {
        const summary = await this.worker.request('inspect', { path: document.uri.fsPath }, { token: cts.token });
        post({ type: 'summary', summary });
      } catch (e) {
        const kind = e instanceof WorkerRequestError && e.kind === 'format' ? 'format' : 'internal';
        if (e instanceof WorkerRequestError && e.kind === 'cancelled') return;
        post({ type: 'error', fileName, message: e instanceof Error ? e.message : String(e), kind });
      }
    };
    const sub = webview.onDidReceiveMessage((m: EditorWebviewMessage) => {
      switch (m.type) {
        case 'ready':
        case 'reload':
          void load();
          break;
        case 'command':
          void vscode.commands.executeCommand(commandFor(m.command), document.uri);
          break;
      }
    });
    panel.onDidDispose(() => {
      cts.cancel();
      cts.dispose();
      sub.dispose();
    });
  }
}

function commandFor(c: Extract<EditorWebviewMessage, { type: 'command' }>['command']): string {
  switch (c) {
    case 'profile':
      return 'quantscope.profileModel';
    case 'quantize':
      return 'quantscope.quantizeLayer';
    case 'benchmark':
      return 'quantscope.benchmarkModel';
    case 'showText':
      return 'quantscope.showModelText';
  }
}
