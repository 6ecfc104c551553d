import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import { deriveFindings } from '../../core/findings/deriveFindings';
import type { FindingsReport } from '../../protocol/findingTypes';
import type { ModelProfile, WeightProfile } from '../../protocol/workerProtocol';
import { Disposable } from '../Disposable';
import type { FileStamp, ProfileService } from '../profile/ProfileService';
import { affectsFindings, findingThresholds } from './findingSettings';

/** The findings of one model and the profile they were derived from. */
export interface ModelFindings {
  readonly uri: vscode.Uri;
  readonly report: FindingsReport;
  readonly weights: WeightProfile;
  readonly model?: ModelProfile;
  /** The file as the profile read it. */
  readonly stamp: FileStamp;
}

/** Whether findings may still drive an action: the model on disk is the one profiled. */
export type Freshness = { readonly fresh: true; readonly findings: ModelFindings } | { readonly fresh: false; readonly reason: string };

/**
 * Keeps the findings of every profiled model, derived in the extension from the profiles the
 * worker computed (the engine is linear in the layers' channels), re-derived when a threshold
 * setting changes, and dropped when the model changes on disk, so a stale profile never drives a
 * diagnostic or an action.
 */
export class FindingsService extends Disposable {
  private readonly onDidChangeEmitter = this._register(new vscode.EventEmitter<vscode.Uri>());
  /** Fires with the model whose findings appeared, changed or went away. */
  readonly onDidChange = this.onDidChangeEmitter.event;
  private readonly byModel = new Map<string, ModelFindings>();

  constructor(private readonly profiles: ProfileService) {
    super();
    this._register(profiles.onDidProfile(({ uri, profile, stamp }) => {
      // A calibration of the same file already holds these weights and more.
      const have = this.byModel.get(uri.fsPath);
      if (stamp && !(have?.model && sameStamp(have.stamp, stamp))) this.set(uri, profile, undefined, stamp);
    }));
    this._register(profiles.onDidCalibrate(({ uri, profile, stamp }) => {
      if (stamp) this.set(uri, profile.weights, profile, stamp);
    }));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (!affectsFindings(e)) return;
      for (const f of [...this.byModel.values()]) this.set(f.uri, f.weights, f.model, f.stamp);
    }));
  }

  private set(uri: vscode.Uri, weights: WeightProfile, model: ModelProfile | undefined, stamp: FileStamp): void {
    const report = deriveFindings({ weights, ...(model ? { model } : {}), thresholds: findingThresholds() });
    this.byModel.set(uri.fsPath, { uri, report, weights, ...(model ? { model } : {}), stamp });
    this.onDidChangeEmitter.fire(uri);
  }

  /** The findings held for `uri`, fresh or not (see {@link fresh}). */
  peek(uri: vscode.Uri): ModelFindings | undefined {
    return this.byModel.get(uri.fsPath);
  }

  /** Every model with findings. */
  models(): vscode.Uri[] {
    return [...this.byModel.values()].map((f) => f.uri);
  }

  /** The findings of `uri`: held ones, or derived from a cached profile of the file as it is now. */
  async load(uri: vscode.Uri): Promise<ModelFindings | undefined> {
    const held = this.byModel.get(uri.fsPath);
    if (held) return held;
    const model = await this.profiles.cachedModel(uri);
    if (model?.stamp) {
      this.set(uri, model.profile.weights, model.profile, model.stamp);
    } else {
      const weights = await this.profiles.cached(uri);
      if (weights?.stamp) this.set(uri, weights.profile, undefined, weights.stamp);
    }
    return this.byModel.get(uri.fsPath);
  }

  /**
   * The findings of `uri` if the file is still the one profiled. When it changed, the findings
   * are dropped (their diagnostics go with them) and the reason says to profile again.
   */
  async fresh(uri: vscode.Uri): Promise<Freshness> {
    const name = vscode.workspace.asRelativePath(uri);
    const f = await this.load(uri);
    if (!f) return { fresh: false, reason: `${name} has no findings yet: run Profile Model or Calibrate Model first` };
    let now: FileStamp;
    try {
      now = await stat(uri.fsPath);
    } catch {
      this.drop(uri);
      return { fresh: false, reason: `${name} no longer exists` };
    }
    if (!sameStamp(now, f.stamp)) {
      this.drop(uri);
      return { fresh: false, reason: `${name} changed since it was profiled, so its findings are stale and were cleared; profile or calibrate it again` };
    }
    return { fresh: true, findings: f };
  }

  /** Forgets the findings of `uri`. */
  drop(uri: vscode.Uri): void {
    if (this.byModel.delete(uri.fsPath)) this.onDidChangeEmitter.fire(uri);
  }
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}
