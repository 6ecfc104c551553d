import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelAction, ModelActions } from '../../protocol/webviewProtocol';
import type { ModelSummary } from '../../protocol/workerProtocol';
import { WorkerRequestError, type WorkerClient } from '../client/WorkerClient';
import { Disposable } from '../Disposable';
import { restrictActions } from '../workspaceTrust';
import { ACTION_LABELS, contextValues, deriveModelActions, modelFacts, needsLayerLookup } from './modelActions';

interface Entry {
  /** The file's size and mtime when the entry was made; a changed file is looked at again. */
  readonly stamp: string;
  readonly format: string;
  readonly actions: Promise<ModelActions>;
}

/**
 * Knows which actions apply to each model (see {@link deriveModelActions}), keeps the context
 * keys of package.json's `when` clauses in step with the active checkpoint editor, and lets a
 * command refuse at once, with the reason, before it asks anything.
 */
export class ModelActionService extends Disposable {
  private readonly entries = new Map<string, Entry>();
  private active: string | undefined;

  constructor(private readonly worker: WorkerClient) {
    super();
    void this.applyContext(undefined, undefined);
    // Actions withdrawn in Restricted Mode come back once the user trusts the workspace.
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.entries.clear()));
  }

  /** The actions of a model the editor has just listed (the summary is reused, not fetched again). */
  async fromSummary(uri: vscode.Uri, summary: ModelSummary, token?: vscode.CancellationToken): Promise<ModelActions> {
    const actions = this.derive(summary, token);
    this.entries.set(uri.toString(), { stamp: await this.stamp(uri), format: summary.format, actions });
    const result = await actions;
    if (this.active === uri.toString()) await this.applyContext(summary.format, result);
    return result;
  }

  /** The actions of any model file: from an open editor's listing, else listed now by the worker. */
  async forModel(uri: vscode.Uri): Promise<ModelActions> {
    const key = uri.toString();
    const stamp = await this.stamp(uri);
    const known = this.entries.get(key);
    if (known && known.stamp === stamp) return known.actions;
    const summary = await this.worker.request('inspect', { path: uri.fsPath });
    return this.fromSummary(uri, summary);
  }

  /**
   * Tells the user at once why `action` cannot run on `uri`, and returns true; returns false
   * when it applies. A file that cannot be read is refused with the reader's message.
   */
  async refuse(uri: vscode.Uri, action: ModelAction): Promise<boolean> {
    const name = path.basename(uri.fsPath);
    let actions: ModelActions;
    try {
      const pending = this.forModel(uri);
      // Listing a model that no editor has open can take a moment on a large file.
      vscode.window.setStatusBarMessage(`$(sync~spin) Quantscope: reading ${name}…`, pending);
      actions = await pending;
    } catch (e) {
      if (e instanceof WorkerRequestError && e.kind === 'cancelled') return true;
      void vscode.window.showErrorMessage(`${ACTION_LABELS[action]} cannot run on ${name}: ${e instanceof Error ? e.message : String(e)}`);
      return true;
    }
    const state = actions[action];
    if (state.offered) return false;
    void vscode.window.showWarningMessage(`${ACTION_LABELS[action]} is not available: ${state.reason}.`);
    return true;
  }

  /** Sets the context keys for the checkpoint editor now active (undefined: none is). */
  async setActive(uri: vscode.Uri | undefined): Promise<void> {
    this.active = uri?.toString();
    const entry = this.active ? this.entries.get(this.active) : undefined;
    if (!entry) return this.applyContext(undefined, undefined);
    await this.applyContext(entry.format, await entry.actions.catch(() => undefined));
  }

  private async derive(summary: ModelSummary, token?: vscode.CancellationToken): Promise<ModelActions> {
    const actions = await this.deriveTrusted(summary, token);
    return vscode.workspace.isTrusted ? actions : restrictActions(actions);
  }

  private async deriveTrusted(summary: ModelSummary, token?: vscode.CancellationToken): Promise<ModelActions> {
    if (!needsLayerLookup(summary)) return deriveModelActions(modelFacts(summary));
    try {
      const layers = await this.worker.request('quantizableLayers', { path: summary.path }, token ? { token } : {});
      return deriveModelActions(modelFacts(summary, layers.length));
    } catch (e) {
      if (e instanceof WorkerRequestError && e.kind === 'cancelled') throw e;
      return deriveModelActions({ ...modelFacts(summary), layerLookupError: e instanceof Error ? e.message : String(e) });
    }
  }

  private async stamp(uri: vscode.Uri): Promise<string> {
    try {
      const s = await vscode.workspace.fs.stat(uri);
      return `${s.size}:${s.mtime}`;
    } catch {
      return 'missing';
    }
  }

  private async applyContext(format: string | undefined, actions: ModelActions | undefined): Promise<void> {
    for (const [key, value] of Object.entries(contextValues(format, actions))) await vscode.commands.executeCommand('setContext', key, value);
  }
}
