import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { FindingsReport } from '../../protocol/findingTypes';
import type { FindingsParams, ModelProfile, WeightProfile } from '../../protocol/workerProtocol';
import type { WorkerClient } from '../client/WorkerClient';
import { Disposable } from '../Disposable';
import type { FileStamp, ProfileRef, ProfileService } from '../profile/ProfileService';
import { affectsFindings, findingThresholds } from './findingSettings';

/** The findings of one model and the profile they were derived from. */
export interface ModelFindings {
  readonly uri: vscode.Uri;
  readonly report: FindingsReport;
  readonly weights: WeightProfile;
  readonly model?: ModelProfile;
  /** The file as the profile read it. */
  readonly stamp: FileStamp;
  /** Where the worker keeps the profile, to derive again when a threshold changes. */
  readonly ref?: ProfileRef;
}

/** Whether findings may still drive an action: the model on disk is the one profiled. */
export type Freshness = { readonly fresh: true; readonly findings: ModelFindings } | { readonly fresh: false; readonly reason: string };

/** What a derivation starts from: a profile held here, and where the worker keeps the same one. */
type Input = Omit<ModelFindings, 'report' | 'uri'>;

/**
 * Keeps the findings of every profiled model. The worker derives them, next to the profile it
 * computed or cached (at 7B the engine runs 60–200 ms, a stall the extension host must not take);
 * they are derived again when a threshold setting changes, and dropped when the model changes on
 * disk, so a stale profile never drives a diagnostic or an action.
 */
export class FindingsService extends Disposable {
  private readonly onDidChangeEmitter = this._register(new vscode.EventEmitter<vscode.Uri>());
  /** Fires with the model whose findings appeared, changed or went away. */
  readonly onDidChange = this.onDidChangeEmitter.event;
  private readonly byModel = new Map<string, ModelFindings>();
  /** The latest derivation asked for each model: an answer to an earlier one that comes later is dropped. */
  private readonly latest = new Map<string, { readonly input: Input; readonly ticket: object; readonly done: Promise<ModelFindings | undefined> }>();

  constructor(private readonly profiles: ProfileService, private readonly worker: WorkerClient, private readonly log: vscode.LogOutputChannel) {
    super();
    this._register(profiles.onDidProfile(({ uri, profile, stamp, ref }) => {
      // The weights that come with a calibration have no ref of their own: the calibration holds them and more.
      const have = this.latest.get(uri.fsPath)?.input ?? this.byModel.get(uri.fsPath);
      if (stamp && ref && !(have?.model && sameStamp(have.stamp, stamp))) void this.derive(uri, { weights: profile, stamp, ref });
    }));
    this._register(profiles.onDidCalibrate(({ uri, profile, stamp, ref }) => {
      if (stamp) void this.derive(uri, { weights: profile.weights, model: profile, stamp, ...(ref ? { ref } : {}) });
    }));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (!affectsFindings(e)) return;
      for (const f of [...this.byModel.values()]) void this.derive(f.uri, f);
    }));
  }

  /** Asks the worker for `uri`'s findings from `input`; resolves with them once they are held (or superseded). */
  private derive(uri: vscode.Uri, input: Input): Promise<ModelFindings | undefined> {
    const k = uri.fsPath;
    const ticket = {};
    const done = (async (): Promise<ModelFindings | undefined> => {
      let report: FindingsReport;
      try {
        report = await this.request(uri, input);
      } catch (e) {
        this.log.warn(`findings of ${uri.fsPath} could not be derived: ${e instanceof Error ? e.message : String(e)}`);
        const now = this.latest.get(k);
        if (now && now.ticket !== ticket) return now.done;
        this.latest.delete(k);
        return this.byModel.get(k);
      }
      const now = this.latest.get(k);
      // A newer profile or threshold change asked again meanwhile, or the model was dropped: its answer counts.
      if (now?.ticket !== ticket) return now ? now.done : this.byModel.get(k);
      this.latest.delete(k);
      const f: ModelFindings = { uri, report, ...input };
      this.byModel.set(k, f);
      this.onDidChangeEmitter.fire(uri);
      return f;
    })();
    this.latest.set(k, { input, ticket, done });
    return done;
  }

  /** The worker's report: from the profile it keeps under `input.ref`, or, when it has none, from the profile sent along. */
  private async request(uri: vscode.Uri, input: Input): Promise<FindingsReport> {
    const base: Omit<FindingsParams, 'source'> = { path: uri.fsPath, thresholds: findingThresholds() };
    if (input.ref) {
      const kept = await this.worker.request('findings', { ...base, source: { type: 'kept', kind: input.model ? 'model' : 'weights', key: input.ref.key, cacheFile: input.ref.cacheFile } });
      if (kept.type === 'findings') return kept.report;
      this.log.info(`findings of ${uri.fsPath}: ${kept.reason}; sending the profile`);
    }
    // Only when the worker restarted with the cache off: serializing a large profile here stalls, but rarely.
    const inline = await this.worker.request('findings', { ...base, source: { type: 'inline', weights: input.weights, ...(input.model ? { model: input.model } : {}) } });
    if (inline.type === 'findings') return inline.report;
    throw new Error(inline.reason);
  }

  /** The findings held for `uri`, fresh or not (see {@link fresh}). */
  peek(uri: vscode.Uri): ModelFindings | undefined {
    return this.byModel.get(uri.fsPath);
  }

  /** Every model with findings. */
  models(): vscode.Uri[] {
    return [...this.byModel.values()].map((f) => f.uri);
  }

  /** The findings of `uri`: the ones being derived, held ones, or derived from a cached profile of the file as it is now. */
  async load(uri: vscode.Uri): Promise<ModelFindings | undefined> {
    const pending = this.latest.get(uri.fsPath);
    if (pending) return pending.done;
    const held = this.byModel.get(uri.fsPath);
    if (held) return held;
    const model = await this.profiles.cachedModel(uri);
    if (model?.stamp) return this.derive(uri, { weights: model.profile.weights, model: model.profile, stamp: model.stamp, ...(model.ref ? { ref: model.ref } : {}) });
    const weights = await this.profiles.cached(uri);
    if (weights?.stamp) return this.derive(uri, { weights: weights.profile, stamp: weights.stamp, ...(weights.ref ? { ref: weights.ref } : {}) });
    return undefined;
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

  /** Forgets the findings of `uri`, and any derivation of them still running. */
  drop(uri: vscode.Uri): void {
    const pending = this.latest.delete(uri.fsPath);
    if (this.byModel.delete(uri.fsPath) || pending) this.onDidChangeEmitter.fire(uri);
  }
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}
