import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseEditorWebviewMessage } from '../../protocol/parseWebviewMessage';
import type { EditorHostMessage, ModelAction, Recommendation } from '../../protocol/webviewProtocol';
import { receiveChecked } from '../receiveChecked';
import { WorkerRequestError, type WorkerClient } from '../client/WorkerClient';
import { Disposable } from '../Disposable';
import type { ProfileService } from '../profile/ProfileService';
import { webviewHtml } from '../webviewHtml';
import { CheckpointDocument } from './CheckpointDocument';
import type { ModelActionService } from './ModelActionService';
import { missingActionNotes } from './modelActions';
import { ServingPlans } from './ServingPlans';

/** The view types of the checkpoint editor: one at default priority, one offered via "Open With…". */
export const CHECKPOINT_VIEW_TYPES = ['quantscope.checkpoint', 'quantscope.checkpointOption'] as const;

/**
 * The read-only custom editor for model files. The webview asks for the summary when it is ready;
 * the worker computes it, so the extension host only relays messages.
 */
export class CheckpointEditorProvider extends Disposable implements vscode.CustomReadonlyEditorProvider<CheckpointDocument> {
  private readonly panels = new Map<string, Set<vscode.WebviewPanel>>();
  private readonly serving: ServingPlans;
  /** The checkpoint editor that has focus, whose model sets the context keys. */
  private activePanel: vscode.WebviewPanel | undefined;

  /** Registers the provider for every checkpoint view type. */
  static register(context: vscode.ExtensionContext, worker: WorkerClient, profiles: ProfileService, actions: ModelActionService): CheckpointEditorProvider {
    const provider = new CheckpointEditorProvider(context.extensionUri, worker, profiles, actions);
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

  private constructor(private readonly extensionUri: vscode.Uri, private readonly worker: WorkerClient, private readonly profiles: ProfileService, private readonly actions: ModelActionService) {
    super();
    this.serving = new ServingPlans(worker);
    this._register(profiles.onDidProfile(({ uri, profile, fromCache }) => this.postTo(uri, { type: 'profile', profile, fromCache })));
    this._register(profiles.onDidCalibrate(({ uri, profile, fromCache }) => this.postTo(uri, { type: 'modelProfile', profile, fromCache })));
  }

  openCustomDocument(uri: vscode.Uri): CheckpointDocument {
    return new CheckpointDocument(uri);
  }

  /** Brings the editor of `uri` forward (opening it if needed) and selects `tensor` there. */
  async revealTensor(uri: vscode.Uri, tensor: string): Promise<void> {
    const open = this.panels.get(uri.toString());
    const panel = open && [...open][0];
    if (panel) panel.reveal(panel.viewColumn, false);
    else await vscode.commands.executeCommand('vscode.openWith', uri, CHECKPOINT_VIEW_TYPES[0]);
    // A new webview takes the message once its page is loaded; retry briefly until it is there.
    for (let i = 0; i < 20 && !this.panels.get(uri.toString())?.size; i++) await new Promise((r) => setTimeout(r, 100));
    this.postTo(uri, { type: 'reveal', tensor });
  }

  /** Shows `uri`'s findings in its editors' Recommendations section. */
  showFindings(uri: vscode.Uri, recommendations: readonly Recommendation[]): void {
    this.postTo(uri, { type: 'findings', recommendations });
  }

  private postTo(uri: vscode.Uri, message: EditorHostMessage): void {
    for (const p of this.panels.get(uri.toString()) ?? []) void p.webview.postMessage(message);
  }

  resolveCustomEditor(document: CheckpointDocument, panel: vscode.WebviewPanel): void {
    const webview = panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')] };
    webview.html = webviewHtml(webview, this.extensionUri, 'editor', path.basename(document.uri.fsPath));
    const key = document.uri.toString();
    const set = this.panels.get(key) ?? new Set<vscode.WebviewPanel>();
    set.add(panel);
    this.panels.set(key, set);
    const post = (message: EditorHostMessage): void => void webview.postMessage(message);
    const cts = new vscode.CancellationTokenSource();
    const load = async (): Promise<void> => {
      const fileName = path.basename(document.uri.fsPath);
      post({ type: 'loading', fileName });
      try {
        const summary = await this.worker.request('inspect', { path: document.uri.fsPath }, { token: cts.token });
        post({ type: 'summary', summary });
        // The buttons follow once the rewritable layers are known (a second, short worker request).
        const actions = await this.actions.fromSummary(document.uri, summary, cts.token);
        post({ type: 'actions', actions, notes: missingActionNotes(actions) });
        await this.serving.post(document.uri, {}, post, cts.token);
        // Results from an earlier session are announced (to this editor and the Outliers view);
        // nothing is computed here.
        await this.profiles.cached(document.uri, true);
        if (summary.format === 'onnx') await this.profiles.cachedModel(document.uri, undefined, true);
      } catch (e) {
        if (e instanceof WorkerRequestError && e.kind === 'cancelled') return;
        const kind = e instanceof WorkerRequestError && e.kind === 'format' ? 'format' : 'internal';
        post({ type: 'error', fileName, message: e instanceof Error ? e.message : String(e), kind });
      }
    };
    const sub = receiveChecked(webview, 'checkpoint editor', parseEditorWebviewMessage, (m) => {
      switch (m.type) {
        case 'ready':
        case 'reload':
          void load();
          break;
        case 'command':
          void vscode.commands.executeCommand(commandFor(m.command), document.uri, ...(m.layer ? [m.layer] : []));
          break;
        case 'applyFix':
          void vscode.commands.executeCommand('quantscope.applyFinding', document.uri, m.layer, m.fix);
          break;
        case 'planServing':
          void this.serving.post(document.uri, m.settings, post, cts.token);
          break;
      }
    });
    const track = (): void => {
      if (panel.active) {
        this.activePanel = panel;
        void this.actions.setActive(document.uri);
      } else if (this.activePanel === panel) {
        this.activePanel = undefined;
        void this.actions.setActive(undefined);
      }
    };
    track();
    const viewState = panel.onDidChangeViewState(track);
    panel.onDidDispose(() => {
      viewState.dispose();
      if (this.activePanel === panel) {
        this.activePanel = undefined;
        void this.actions.setActive(undefined);
      }
      cts.cancel();
      cts.dispose();
      sub.dispose();
      set.delete(panel);
      if (!set.size) this.panels.delete(key);
    });
  }
}

function commandFor(c: ModelAction): string {
  switch (c) {
    case 'profile':
      return 'quantscope.profileModel';
    case 'calibrate':
      return 'quantscope.calibrateModel';
    case 'quantize':
      return 'quantscope.quantizeLayer';
    case 'prune':
      return 'quantscope.pruneModel';
    case 'benchmark':
      return 'quantscope.benchmarkModel';
    case 'exportOnnx':
      return 'quantscope.exportOnnx';
    case 'quantizeGguf':
      return 'quantscope.quantizeGguf';
    case 'showText':
      return 'quantscope.showModelText';
  }
}
