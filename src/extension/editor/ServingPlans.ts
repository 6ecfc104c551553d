import type * as vscode from 'vscode';
import type { MemorySettings } from '../../protocol/servingTypes';
import type { EditorHostMessage } from '../../protocol/webviewProtocol';
import { WorkerRequestError, type WorkerClient } from '../client/WorkerClient';

/**
 * Answers the checkpoint editor's Serving section: the worker reads the model's architecture
 * (headers or config.json only) and plans its memory under the section's settings. A model that
 * is no decoder gets a reason instead of a plan, and the section stays quiet.
 */
export class ServingPlans {
  constructor(private readonly worker: WorkerClient) {}

  /** Plans `uri` under `settings` and posts the plan (or why there is none). */
  async post(uri: vscode.Uri, settings: Partial<MemorySettings>, post: (m: EditorHostMessage) => void, token: vscode.CancellationToken): Promise<void> {
    try {
      const plan = await this.worker.request('planMemory', { path: uri.fsPath, settings }, { token });
      post({ type: 'serving', plan });
    } catch (e) {
      if (e instanceof WorkerRequestError && e.kind === 'cancelled') return;
      post({ type: 'servingUnavailable', reason: e instanceof Error ? e.message : String(e) });
    }
  }
}
