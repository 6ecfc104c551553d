import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseOutliersWebviewMessage } from '../../protocol/parseWebviewMessage';
import type { OutliersHostMessage, Recommendation } from '../../protocol/webviewProtocol';
import { receiveChecked } from '../receiveChecked';
import type { HeatmapData, ModelProfile, WeightProfile } from '../../protocol/workerProtocol';
import { expertHeatmap } from '../../core/serving/expertHeatmap';
import { Disposable } from '../Disposable';
import { webviewHtml } from '../webviewHtml';

/** A request to show a layer of a model, from a click on the heatmap. */
export interface RevealRequest {
  readonly uri: vscode.Uri;
  readonly layer: string;
}

/**
 * The "Outliers" panel view: a heatmap of layers × channels for the most recently profiled or
 * focused model. It explains how to get one until a profile exists.
 */
export class OutliersViewProvider extends Disposable implements vscode.WebviewViewProvider {
  /** The id of the view in package.json. */
  static readonly viewId = 'quantscope.outliers';
  private view: vscode.WebviewView | undefined;
  private findings: { readonly uri: vscode.Uri; readonly message: OutliersHostMessage } | undefined;
  private current: { uri: vscode.Uri; weights?: HeatmapData; activations?: HeatmapData; experts?: HeatmapData } | undefined;
  private last: OutliersHostMessage = { type: 'empty', reason: 'Open a model and run "Quantscope: Profile Model" to see its outlier channels here.' };
  private readonly onDidRequestRevealEmitter = this._register(new vscode.EventEmitter<RevealRequest>());
  /** Fires when the user clicks a heatmap cell. */
  readonly onDidRequestReveal = this.onDidRequestRevealEmitter.event;

  /** Registers the view provider. */
  static register(context: vscode.ExtensionContext): OutliersViewProvider {
    const provider = new OutliersViewProvider(context.extensionUri);
    context.subscriptions.push(vscode.window.registerWebviewViewProvider(OutliersViewProvider.viewId, provider, { webviewOptions: { retainContextWhenHidden: true } }), provider);
    return provider;
  }

  private constructor(private readonly extensionUri: vscode.Uri) {
    super();
  }

  /** Shows the weight heatmap of a profiled model (keeping its activation heatmap, if any). */
  showProfile(uri: vscode.Uri, profile: WeightProfile): void {
    const same = this.current?.uri.toString() === uri.toString();
    const experts = expertHeatmap(profile.tensors);
    this.current = { uri, weights: profile.heatmap, ...(experts ? { experts } : {}), ...(same && this.current?.activations ? { activations: this.current.activations } : {}) };
    this.update('weights');
  }

  /** Shows the activation heatmap of a calibrated model. */
  showCalibration(uri: vscode.Uri, profile: ModelProfile): void {
    const experts = expertHeatmap(profile.weights.tensors);
    this.current = { uri, weights: profile.weights.heatmap, activations: profile.activationHeatmap, ...(experts ? { experts } : {}) };
    this.update('activations');
  }

  /** Badges the heatmap rows of `uri`'s layers that have findings, and lists the findings. */
  showFindings(uri: vscode.Uri, recommendations: readonly Recommendation[]): void {
    this.findings = { uri, message: { type: 'findings', recommendations } };
    if (this.current?.uri.toString() === uri.toString()) void this.view?.webview.postMessage(this.findings.message);
  }

  private update(show: 'weights' | 'activations'): void {
    if (!this.current) return;
    const { uri, weights, activations, experts } = this.current;
    this.post({ type: 'heatmap', model: path.basename(uri.fsPath), show, ...(weights ? { weights } : {}), ...(activations ? { activations } : {}), ...(experts ? { experts } : {}) });
    if (this.findings?.uri.toString() === uri.toString()) void this.view?.webview.postMessage(this.findings.message);
  }

  private post(message: OutliersHostMessage): void {
    this.last = message;
    void this.view?.webview.postMessage(message);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')] };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'outliers', 'Outliers');
    this._register(
      receiveChecked(view.webview, 'Outliers panel', parseOutliersWebviewMessage, (m) => {
        switch (m.type) {
          case 'ready':
            void view.webview.postMessage(this.last);
            if (this.findings && this.findings.uri.toString() === this.current?.uri.toString()) void view.webview.postMessage(this.findings.message);
            break;
          case 'applyFix':
            if (this.current) void vscode.commands.executeCommand('quantscope.applyFinding', this.current.uri, m.layer, m.fix);
            break;
          case 'revealLayer':
            if (this.current) this.onDidRequestRevealEmitter.fire({ uri: this.current.uri, layer: m.layer });
            break;
          case 'reveal': {
            const layer = this.current?.[m.source]?.members[m.row]?.[0];
            if (this.current && layer) this.onDidRequestRevealEmitter.fire({ uri: this.current.uri, layer });
            break;
          }
        }
      }),
    );
    view.onDidDispose(() => (this.view = undefined));
  }
}
