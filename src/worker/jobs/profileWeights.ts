import type { TensorInfo } from '../../core/formats/Checkpoint';
import { openCheckpoint } from '../../core/formats/registry';
import { FileChangeGuard } from '../../core/io/FileChangeGuard';
import { sharedWeights } from '../../core/findings/sharedWeights';
import { weightUses } from '../../core/onnx/weightLayouts';
import { channelHeatmap, type HeatmapRow } from '../../core/stats/channelHeatmap';
import { computeTensorStats, StatsCancelledError } from '../../core/stats/computeTensorStats';
import { readTensorChunks } from '../../core/tensor/TensorReader';
import type { ProfileWeightsParams, TensorProfile, WeightProfile } from '../../protocol/workerProtocol';
import { CancelledError, type JobContext } from './JobContext';

/** Element types whose values are weights worth profiling. */
function isFloating(dtype: string): boolean {
  return /^(F64|F32|F16|BF16|F8_E4M3|F8_E5M2)$/.test(dtype) || dtype.startsWith('GGML_');
}

/**
 * Weight statistics of every floating-point tensor, streamed chunk by chunk (never a whole large
 * tensor in memory), with progress per tensor and cancellation between chunks. A file of the
 * checkpoint that is changed, replaced or deleted meanwhile stops the job with an error naming it,
 * rather than giving a profile of bytes that are no longer there.
 */
export async function profileWeights(params: ProfileWeightsParams, ctx: JobContext): Promise<WeightProfile> {
  const t0 = performance.now();
  const guard = await FileChangeGuard.watch([params.path], 'profiled');
  const checkpoint = await openCheckpoint(params.path);
  const uses = weightUses(checkpoint);
  const wanted = params.tensors ? new Set(params.tensors) : undefined;
  const selected: TensorInfo[] = [];
  let skipped = 0;
  for (const t of checkpoint.tensors) {
    if (wanted && !wanted.has(t.name)) continue;
    if (isFloating(t.dtype) && t.elements > 0) selected.push(t);
    else skipped++;
  }
  const shards = checkpoint.tensors.flatMap((t) => (t.source.kind === 'file' || t.source.kind === 'zip' ? [t.source.path] : []));
  // The shards are watched from here on; the index was watched from before it was parsed.
  const files = await FileChangeGuard.watch(shards, 'profiled');
  const totalElements = selected.reduce((n, t) => n + t.elements, 0) || 1;
  let doneElements = 0;
  const tensors: TensorProfile[] = [];
  const rows: HeatmapRow[] = [];
  for (const t of selected) {
    const use = uses.get(t.name);
    ctx.progress(`${t.name} (${tensors.length + 1}/${selected.length})`, doneElements / totalElements);
    const base: TensorProfile = { name: t.name, dtype: t.dtype, shape: [...t.shape], ...(use ? { layer: use.layer } : {}), ...(t.dtype.startsWith('GGML_') && !/^GGML_(F32|F16|BF16)$/.test(t.dtype) ? { dequantized: true } : {}) };
    try {
      const stats = await computeTensorStats(() => readTensorChunks(t, { rowMajor: true }), t.shape, {
        ...(use ? { layout: use.layout } : {}),
        groupSize: params.groupSize ?? 128,
        isCancelled: ctx.isCancelled,
        onProgress: (f) => ctx.progress(`${t.name} (${tensors.length + 1}/${selected.length})`, (doneElements + f * t.elements) / totalElements),
      });
      tensors.push({ ...base, stats });
      if (stats.channels?.input.absmax) rows.push({ layer: use?.layer ?? t.name, absmax: stats.channels.input.absmax });
    } catch (e) {
      if (e instanceof StatsCancelledError || ctx.isCancelled()) throw new CancelledError();
      // A read that failed because the file changed is the job's failure, not this tensor's.
      await guard.check();
      await files.check();
      // One undecodable tensor (an IQ block type, a tensor with its data missing) must not sink the rest.
      tensors.push({ ...base, error: e instanceof Error ? e.message : String(e) });
    }
    doneElements += t.elements;
    await guard.checkEvery(100);
    await files.checkEvery(100);
  }
  await guard.check();
  await files.check();
  return { path: params.path, format: checkpoint.format, tensors, skipped, heatmap: channelHeatmap(rows), shared: sharedWeights(checkpoint.graph, new Set(selected.map((t) => t.name))), elapsedMs: performance.now() - t0 };
}
