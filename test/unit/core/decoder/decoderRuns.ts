import { readFileSync } from 'node:fs';
import type { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { kvCacheNames, type DecoderConfig } from '../../../../src/core/decoder';
import { openSession, type ModelSession, type RunTensor } from '../../../../src/worker/ort';
import { fixture } from '../../support/paths';

/** The reference logits [seq][vocab] and tokens the fixture generator computed with numpy. */
export interface ReferenceRun {
  readonly tokens: readonly number[];
  readonly logits: readonly (readonly number[])[];
}

/** The numpy reference of a fixture checkpoint (meta/ and the GGUF share their twins': mqa/ and llama_gqa/). */
export function reference(name: string): ReferenceRun {
  const all = JSON.parse(readFileSync(fixture('decoder', 'expected.json'), 'utf8')) as Record<string, ReferenceRun>;
  const key = name === 'meta' ? 'mqa' : name === 'llama_gqa.gguf' ? 'llama_gqa' : name;
  const run = all[key];
  if (!run) throw new Error(`no reference for ${name}`);
  return run;
}

/** max |a − b| over max |b|: the error relative to the logits' scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

const int64 = (values: readonly number[], dims: readonly number[]): RunTensor => ({ type: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) });

/** An ONNX Runtime session on a built decoder, run for prefill and for cached decoding. */
export class DecoderRunner {
  private constructor(private readonly session: ModelSession, private readonly config: DecoderConfig) {}

  /** Opens a session on a built model, or on a saved one by its path. */
  static async open(model: OnnxModel | string, config: DecoderConfig, optimization: 'disabled' | 'all' = 'all'): Promise<DecoderRunner> {
    return new DecoderRunner(await openSession(typeof model === 'string' ? model : model.toBytes(), { threads: 1, optimization }), config);
  }

  /** An empty cache (past length 0) for `batch` sequences. */
  emptyCache(batch = 1): Record<string, RunTensor> {
    const c = this.config;
    const feeds: Record<string, RunTensor> = {};
    for (let i = 0; i < c.numLayers; i++) {
      const n = kvCacheNames(i);
      const empty: RunTensor = { type: 'float32', dims: [batch, c.numKvHeads, 0, c.headDim], data: new Float32Array(0) };
      feeds[n.pastKey] = empty;
      feeds[n.pastValue] = empty;
    }
    return feeds;
  }

  /**
   * Runs one step: `ids` [batch][seq] after a cache of `pastLength` positions, with `mask`
   * [batch][past + seq] (default all ones) and positions (default past, past + 1, …).
   * Returns the logits and the cache for the next step.
   */
  async step(ids: readonly (readonly number[])[], cache: Record<string, RunTensor>, pastLength: number, options: { mask?: readonly (readonly number[])[]; positions?: readonly (readonly number[])[] } = {}): Promise<{ logits: Float32Array; cache: Record<string, RunTensor> }> {
    const batch = ids.length;
    const seq = ids[0].length;
    const mask = options.mask ?? ids.map(() => Array.from({ length: pastLength + seq }, () => 1));
    const positions = options.positions ?? ids.map(() => Array.from({ length: seq }, (_, j) => pastLength + j));
    const out = await this.session.run({
      ...cache,
      input_ids: int64(ids.flat(), [batch, seq]),
      attention_mask: int64(mask.flat(), [batch, pastLength + seq]),
      position_ids: int64(positions.flat(), [batch, seq]),
    });
    const next: Record<string, RunTensor> = {};
    for (let i = 0; i < this.config.numLayers; i++) {
      const n = kvCacheNames(i);
      next[n.pastKey] = out[n.presentKey];
      next[n.pastValue] = out[n.presentValue];
    }
    return { logits: out.logits.data as Float32Array, cache: next };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
