import { readFile } from 'node:fs/promises';
import { deriveFindings } from '../../core/findings/deriveFindings';
import type { FindingsParams, FindingsResult, ModelProfile, WeightProfile } from '../../protocol/workerProtocol';
import { throwIfCancelled, type JobContext } from './JobContext';
import type { KeptProfile, ProfileStore } from './ProfileStore';

/** True when `v` looks like a weight profile of `path` (a cache file is ours, but may be damaged or of another version). */
function isWeightProfile(v: unknown, path: string | undefined): v is WeightProfile {
  const o = v as Partial<WeightProfile> | null;
  return typeof o === 'object' && o !== null && (path === undefined || o.path === path) && Array.isArray(o.tensors) && typeof o.heatmap === 'object';
}

/** The same for a whole-model profile; its weights may be of the graph built from a checkpoint, so their path is not checked. */
function isModelProfile(v: unknown, path: string): v is ModelProfile {
  const o = v as Partial<ModelProfile> | null;
  return typeof o === 'object' && o !== null && o.path === path && Array.isArray(o.layers) && isWeightProfile(o.weights, undefined) && typeof o.calibration === 'object';
}

/** Reads an extension cache entry into the store; undefined when it is gone or not a profile of `path`. */
async function readCached(file: string, kind: KeptProfile['kind'], path: string): Promise<KeptProfile | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    // Evicted or half-written: the extension sends the profile itself instead.
    return undefined;
  }
  if (kind === 'model') return isModelProfile(value, path) ? { kind, model: value } : undefined;
  return isWeightProfile(value, path) ? { kind, weights: value } : undefined;
}

/**
 * The findings about a profiled model, derived in the worker: from a profile it keeps (computed
 * here, or read once from the extension's cache file after a restart) or one sent inline. Returns
 * `missing` rather than failing when the named profile is nowhere, so the caller can send it.
 */
export async function modelFindings(params: FindingsParams, store: ProfileStore, ctx: JobContext): Promise<FindingsResult> {
  const { source, path } = params;
  const thresholds = params.thresholds ? { thresholds: params.thresholds } : {};
  if (source.type === 'inline') {
    return { type: 'findings', report: deriveFindings({ weights: source.weights, ...(source.model ? { model: source.model } : {}), ...thresholds }) };
  }
  let kept = store.get(source.key, source.kind);
  if (!kept && source.cacheFile) {
    kept = await readCached(source.cacheFile, source.kind, path);
    if (kept) store.keep(source.key, kept);
  }
  throwIfCancelled(ctx);
  if (!kept) return { type: 'missing', reason: `the worker holds no ${source.kind === 'model' ? 'calibration' : 'weight profile'} of ${path} under that key` };
  const of = kept.kind === 'model' ? kept.model.path : kept.weights.path;
  if (of !== path) return { type: 'missing', reason: `the profile kept under that key is of ${of}, not ${path}` };
  const input = kept.kind === 'model' ? { weights: kept.model.weights, model: kept.model } : { weights: kept.weights };
  return { type: 'findings', report: deriveFindings({ ...input, ...thresholds }) };
}
