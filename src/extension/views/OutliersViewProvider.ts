import * as vscode from 'vscode';
import type { OutliersHostMessage, OutliersWebviewMessage } from '../../protocol/webviewProtocol';
import { Disposable } from '../Disposable';
import { webviewHtml } from '../webviewHtml';

/**
 * The "Outliers" panel view: a heatmap of layers × channels for the active model. It shows an
 * explanation until a profile of the active model exists.
 */
export class OutliersViewProvider extends Disposable implements vscode.WebviewViewProvider {
  /** The id of the view in package.json. */
  static readonly viewId = 'quantscope.outliers';
  private view: vscode.WebviewView | undefined;
  private readonly onDidRequestRevealEmitter = this._register(new vscode.EventEmitter<string>());
  /** Fires with a layer name when the user clicks a heatmap cell. */
  readonly onDidRequestReveal = this.onDidRequestRevealEmitter.event;
  private last: OutliersHostMessage = { type: 'empty', reason: 'Open a model and run "Quantscope: Profile Model" to see its outlier channels here.' };

  /** Registers the view provider. */
  static register(context: vscode.ExtensionContext): OutliersViewProvider {
    const provider = new OutliersViewProvider(context.extensionUri);
    context.subscriptions.push(vscode.window.registerWebviewViewProvider(OutliersViewProvider.viewId, provider, { webviewOptions: { retainContextWhenHidden: true } }), provider);
    return provider;
  }

  private constructor(private readonly extensionUri: vscode.Uri) {
    super();
  }

  /** Shows `message` now, or when the view is next resolved. */
  show(message: OutliersHostMessage): void {
    this.last = message;
    void this.view?.webview.postMessage(message);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')] };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'outliers', 'Outliers');
    this._register(
      view.webview.onDidReceiveMessage((m: OutliersWebviewMessage) => {
        switch (m.type) {
          case 'ready':
            void view.webview.postMessage(this.last);
            break;
          case 'reveal':
            this.onDidRequestRevealEmitter.fire(m.layer);
            break;
        }
      }),
    );
    view.onDidDispose(() => (this.view = undefined));
  }
}
