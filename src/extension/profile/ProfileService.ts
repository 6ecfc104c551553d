import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelProfile, ModelProfileParams, WeightProfile } from '../../protocol/workerProtocol';
import { WorkerRequestError, type WorkerClient } from '../client/WorkerClient';
import { Disposable } from '../Disposable';
import { ResultCache, type CacheKey } from './ResultCache';

/** The file as it was when a profile read it: a result whose stamp differs from the file now is stale. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * How the worker finds a profile again without being sent it: the id it keeps the profile under
 * (the cache entry's name) and the cache file it can read after a restart.
 */
export interface ProfileRef {
  readonly key: string;
  readonly cacheFile: string;
}

/** A weight profile and where it came from. */
export interface ProfileResult {
  readonly uri: vscode.Uri;
  readonly profile: WeightProfile;
  readonly fromCache: boolean;
  readonly stamp?: FileStamp;
  /** Absent for the weights that come with a calibration, which is kept as a whole. */
  readonly ref?: ProfileRef;
}

/** A whole-model profile (weights, activations, sensitivity) and where it came from. */
export interface ModelProfileResult {
  readonly uri: vscode.Uri;
  readonly profile: ModelProfile;
  readonly fromCache: boolean;
  readonly stamp?: FileStamp;
  readonly ref?: ProfileRef;
}

function stampOf(key: { readonly size: number; readonly mtimeMs: number }): FileStamp {
  return { size: key.size, mtimeMs: key.mtimeMs };
}

/** Where calibration inputs come from: files (`.npy`/`.npz`/`.pb`, or a `.txt` with its tokenizer), or none for generated inputs. */
export interface CalibrationSource {
  readonly files: readonly string[];
  readonly tokenizer?: string;
}

const GENERATED: CalibrationSource = { files: [] };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Enough of a weight profile's shape to use it: a cache entry that fails this is rebuilt. */
function isWeightProfile(v: unknown): v is WeightProfile {
  return isRecord(v) && typeof v.path === 'string' && typeof v.format === 'string' && Array.isArray(v.tensors) && isRecord(v.heatmap) && Array.isArray(v.heatmap.layers) && Array.isArray(v.heatmap.values);
}

/** Enough of a whole-model profile's shape to use it. */
function isModelProfile(v: unknown): v is ModelProfile {
  return isRecord(v) && isWeightProfile(v.weights) && isRecord(v.calibration) && Array.isArray(v.layers) && isRecord(v.activationHeatmap);
}

/** Calibration settings from the user's configuration. */
export function calibrationSettings(source: CalibrationSource = GENERATED): Omit<ModelProfileParams, 'path'> {
  const c = vscode.workspace.getConfiguration('quantscope');
  return {
    ...(source.files.length ? { calibrationFiles: source.files } : {}),
    ...(source.tokenizer ? { tokenizer: source.tokenizer } : {}),
    samples: c.get<number>('calibration.samples', 32),
    batchSize: c.get<number>('calibration.batchSize', 1),
    sequenceLength: c.get<number>('calibration.sequenceLength', 128),
    dims: c.get<Record<string, number>>('calibration.symbolicDimensions', {}),
    threshold: c.get<number>('outliers.magnitudeThreshold', 6),
    memoryBudgetBytes: c.get<number>('calibration.hessianBudgetMB', 4096) * 2 ** 20,
    threads: c.get<number>('worker.threads', 0),
  };
}

/**
 * Runs weight profiles in the worker, with progress and cancel, and keeps their results in the
 * cache so a second open of the same file is instant.
 */
export class ProfileService extends Disposable {
  private readonly onDidProfileEmitter = this._register(new vscode.EventEmitter<ProfileResult>());
  /** Fires whenever a profile becomes available, computed or from the cache. */
  readonly onDidProfile = this.onDidProfileEmitter.event;
  private readonly onDidCalibrateEmitter = this._register(new vscode.EventEmitter<ModelProfileResult>());
  /** Fires whenever a whole-model profile becomes available. */
  readonly onDidCalibrate = this.onDidCalibrateEmitter.event;
  private readonly cache: ResultCache;

  constructor(context: vscode.ExtensionContext, private readonly worker: WorkerClient, log: { warn(message: string): void }) {
    super();
    this.cache = new ResultCache(
      path.join(context.globalStorageUri.fsPath, 'results'),
      () => {
        const mb = vscode.workspace.getConfiguration('quantscope').get<number>('cache.maxSizeMB', 512);
        return Math.max(0, mb) * 2 ** 20;
      },
      (message) => log.warn(message),
    );
  }

  private settings(): Record<string, unknown> {
    // version 2: profiles record tied embeddings (`shared`).
    return { groupSize: 128, version: 2 };
  }

  /** The cached profile of `uri`, if the file has not changed since it was profiled; `announce` shows it in the editor and views. */
  async cached(uri: vscode.Uri, announce = false): Promise<ProfileResult | undefined> {
    try {
      const key = await ResultCache.keyFor('weights', uri.fsPath, this.settings());
      const profile = await this.cache.get(key, isWeightProfile);
      if (!profile) return undefined;
      const result = { uri, profile, fromCache: true, stamp: stampOf(key), ref: this.refOf(key) };
      if (announce) this.onDidProfileEmitter.fire(result);
      return result;
    } catch {
      return undefined;
    }
  }

  /** The cached whole-model profile of `uri` with the current settings, if the file is unchanged; `announce` shows it. */
  async cachedModel(uri: vscode.Uri, source: CalibrationSource = GENERATED, announce = false): Promise<ModelProfileResult | undefined> {
    try {
      const key = await ResultCache.keyFor('model', uri.fsPath, { ...calibrationSettings(source), version: 1 });
      const profile = await this.cache.get(key, isModelProfile);
      if (!profile) return undefined;
      const result = { uri, profile, fromCache: true, stamp: stampOf(key), ref: this.refOf(key) };
      if (announce) this.onDidCalibrateEmitter.fire(result);
      return result;
    } catch {
      return undefined;
    }
  }

  /**
   * Calibrates `uri` in the worker (weights, activations through ONNX Runtime, sensitivity),
   * with progress and cancel; cached by file and settings.
   */
  async calibrate(uri: vscode.Uri, source: CalibrationSource = GENERATED, force = false): Promise<ModelProfileResult | undefined> {
    if (!force) {
      const hit = await this.cachedModel(uri, source, true);
      if (hit) return hit;
    }
    const settings = calibrationSettings(source);
    const key = await ResultCache.keyFor('model', uri.fsPath, { ...settings, version: 1 });
    const name = path.basename(uri.fsPath);
    const ref = this.refOf(key);
    try {
      const profile = await this.withProgress(`Calibrating ${name}`, (token, onProgress) => this.worker.request('calibrate', { path: uri.fsPath, ...settings, keepAs: ref.key }, { token, onProgress }));
      await this.cache.setIfUnchanged(key, profile).catch(() => undefined);
      const result = { uri, profile, fromCache: false, stamp: stampOf(key), ref };
      // Weights first, so views that show both end on the calibration.
      this.onDidProfileEmitter.fire({ uri, profile: profile.weights, fromCache: false, stamp: stampOf(key) });
      this.onDidCalibrateEmitter.fire(result);
      return result;
    } catch (e) {
      this.report(e, `calibrate ${name}`);
      return undefined;
    }
  }

  private refOf(key: CacheKey): ProfileRef {
    const { id, file } = this.cache.locate(key);
    return { key: id, cacheFile: file };
  }

  /** Runs `job` under a cancellable notification that shows the worker's progress. */
  private withProgress<T>(title: string, job: (token: vscode.CancellationToken, onProgress: (message: string, fraction?: number) => void) => Promise<T>): Thenable<T> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      let last = 0;
      return job(token, (message, fraction) => {
        const now = fraction === undefined ? undefined : Math.round(fraction * 100);
        progress.report({ message, ...(now !== undefined && now > last ? { increment: now - last } : {}) });
        if (now !== undefined) last = Math.max(last, now);
      });
    });
  }

  private report(e: unknown, what: string): void {
    if (e instanceof WorkerRequestError && e.kind === 'cancelled') {
      void vscode.window.showInformationMessage(`Quantscope: ${what} was cancelled.`);
      return;
    }
    void vscode.window.showErrorMessage(`Quantscope could not ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** Profiles `uri` (from the cache unless `force`), showing progress with a Cancel button. */
  async profile(uri: vscode.Uri, force = false): Promise<ProfileResult | undefined> {
    if (!force) {
      const hit = await this.cached(uri, true);
      if (hit) return hit;
    }
    const key = await ResultCache.keyFor('weights', uri.fsPath, this.settings());
    const name = path.basename(uri.fsPath);
    const ref = this.refOf(key);
    try {
      const profile = await this.withProgress(`Profiling ${name}`, (token, onProgress) => this.worker.request('profileWeights', { path: uri.fsPath, groupSize: 128, keepAs: ref.key }, { token, onProgress }));
      await this.cache.setIfUnchanged(key, profile).catch(() => undefined);
      const result = { uri, profile, fromCache: false, stamp: stampOf(key), ref };
      this.onDidProfileEmitter.fire(result);
      return result;
    } catch (e) {
      this.report(e, `profile ${name}`);
      return undefined;
    }
  }
}
