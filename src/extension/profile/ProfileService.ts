import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WeightProfile } from '../../protocol/workerProtocol';
import { WorkerRequestError, type WorkerClient } from '../client/WorkerClient';
import { Disposable } from '../Disposable';
import { ResultCache } from './ResultCache';

/** A weight profile and where it came from. */
export interface ProfileResult {
  readonly uri: vscode.Uri;
  readonly profile: WeightProfile;
  readonly fromCache: boolean;
}

/**
 * Runs weight profiles in the worker, with progress and cancel, and keeps their results in the
 * cache so a second open of the same file is instant.
 */
export class ProfileService extends Disposable {
  private readonly onDidProfileEmitter = this._register(new vscode.EventEmitter<ProfileResult>());
  /** Fires whenever a profile becomes available, computed or from the cache. */
  readonly onDidProfile = this.onDidProfileEmitter.event;
  private readonly cache: ResultCache;

  constructor(context: vscode.ExtensionContext, private readonly worker: WorkerClient) {
    super();
    this.cache = new ResultCache(path.join(context.globalStorageUri.fsPath, 'results'), () => {
      const mb = vscode.workspace.getConfiguration('quantscope').get<number>('cache.maxSizeMB', 512);
      return Math.max(0, mb) * 2 ** 20;
    });
  }

  private settings(): Record<string, unknown> {
    return { groupSize: 128, version: 1 };
  }

  /** The cached profile of `uri`, if the file has not changed since it was profiled. */
  async cached(uri: vscode.Uri): Promise<ProfileResult | undefined> {
    try {
      const key = await ResultCache.keyFor('weights', uri.fsPath, this.settings());
      const profile = await this.cache.get<WeightProfile>(key);
      if (!profile) return undefined;
      const result = { uri, profile, fromCache: true };
      this.onDidProfileEmitter.fire(result);
      return result;
    } catch {
      return undefined;
    }
  }

  /** Profiles `uri` (from the cache unless `force`), showing progress with a Cancel button. */
  async profile(uri: vscode.Uri, force = false): Promise<ProfileResult | undefined> {
    if (!force) {
      const hit = await this.cached(uri);
      if (hit) return hit;
    }
    const key = await ResultCache.keyFor('weights', uri.fsPath, this.settings());
    const name = path.basename(uri.fsPath);
    try {
      const profile = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Profiling ${name}`, cancellable: true },
        async (progress, token) => {
          let last = 0;
          return this.worker.request('profileWeights', { path: uri.fsPath, groupSize: 128 }, {
            token,
            onProgress: (message, fraction) => {
              const now = fraction === undefined ? undefined : Math.round(fraction * 100);
              progress.report({ message, ...(now !== undefined && now > last ? { increment: now - last } : {}) });
              if (now !== undefined) last = Math.max(last, now);
            },
          });
        },
      );
      await this.cache.set(key, profile).catch(() => undefined);
      const result = { uri, profile, fromCache: false };
      this.onDidProfileEmitter.fire(result);
      return result;
    } catch (e) {
      if (e instanceof WorkerRequestError && e.kind === 'cancelled') {
        void vscode.window.showInformationMessage(`Profiling ${name} was cancelled.`);
        return undefined;
      }
      void vscode.window.showErrorMessage(`Quantscope could not profile ${name}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }
}
