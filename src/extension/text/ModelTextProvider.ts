import * as vscode from 'vscode';
import { Disposable } from '../Disposable';
import type { WorkerClient } from '../client/WorkerClient';

/**
 * Serves read-only `quantscope-model` documents: the text view of a model, rendered by the
 * worker. URIs look like `quantscope-model:/dir/model.onnx.qmodel`; the model path is the URI
 * path without the `.qmodel` suffix, which also selects the language.
 */
export class ModelTextProvider extends Disposable implements vscode.TextDocumentContentProvider {
  /** The URI scheme of model text documents. */
  static readonly scheme = 'quantscope-model';

  /** Registers the provider. */
  static register(context: vscode.ExtensionContext, worker: WorkerClient): ModelTextProvider {
    const provider = new ModelTextProvider(worker);
    context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(ModelTextProvider.scheme, provider), provider);
    return provider;
  }

  /** The text-view URI of a model file. */
  static uriFor(model: vscode.Uri): vscode.Uri {
    return vscode.Uri.from({ scheme: ModelTextProvider.scheme, path: `${model.fsPath}.qmodel` });
  }

  private constructor(private readonly worker: WorkerClient) {
    super();
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const modelPath = uri.path.replace(/\.qmodel$/, '');
    try {
      return (await this.worker.request('modelText', { path: modelPath }, { token })).text;
    } catch (e) {
      return `error ${JSON.stringify(e instanceof Error ? e.message : String(e))}\n`;
    }
  }
}
