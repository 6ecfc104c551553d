/**
 * The `exportDecoder` job: build a language-model checkpoint into an ONNX decoder with a KV
 * cache, save it beside the checkpoint under a new name, and check that ONNX Runtime loads it.
 */
import { existsSync } from 'node:fs';
import { dirname, extname, join, basename } from 'node:path';
import { buildDecoder, openDecoderSource } from '../../core/decoder';
import { decoderTensors } from '../../core/decoder/decoderTensors';
import { FormatError } from '../../core/FormatError';
import { isCancelledError } from '../../core/linalg/CancelledError';
import { TargetExistsError, WriteCancelledError } from '../../core/io/atomicWrite';
import type { SaveResult } from '../../core/onnx/OnnxModel';
import type { ExportParams, ExportReport } from '../../protocol/exportTypes';
import { openSession, runtimeVersion } from '../ort';
import { ownOutput, removeOutput } from './finishTransform';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { decoderMemoryLimit } from './memoryLimit';
import { decoderOutputBase } from './modelInput';

/** `base` if no file (nor its data file) has that name, else `stem-1.onnx`, `stem-2.onnx`, … */
export function nextFreeExportName(base: string, taken: (path: string) => boolean = existsSync): string {
  const ext = extname(base);
  const stem = join(dirname(base), basename(base, ext));
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? base : `${stem}-${i}${ext}`;
    if (!taken(candidate) && !taken(`${candidate}.data`)) return candidate;
  }
}

/**
 * Builds the checkpoint at `params.path` into an ONNX decoder and writes it to `params.output`
 * (refused when it exists) or the next free `model.onnx` in its folder. The file is written to a
 * temporary name and renamed, with external data when it would not fit in 2 GB; if ONNX Runtime
 * then refuses it, or the job is cancelled, nothing is left behind.
 */
export async function exportDecoder(params: ExportParams, ctx: JobContext): Promise<ExportReport> {
  const t0 = performance.now();
  ctx.progress('reading the checkpoint', 0);
  const source = await openDecoderSource(params.path);
  const c = source.config;
  const output = params.output ?? nextFreeExportName(decoderOutputBase(source));
  if (params.output !== undefined && existsSync(params.output)) throw new TargetExistsError(`${params.output} already exists; choose another name`);
  let saved: SaveResult | undefined;
  const release = await ownOutput(output);
  try {
    const model = await buildDecoder(source, {
      ...decoderMemoryLimit(ctx),
      onProgress: (done, total, tensor) => {
        throwIfCancelled(ctx);
        ctx.progress(`building ${tensor}`, (0.7 * done) / total);
      },
    });
    const tb = performance.now();
    throwIfCancelled(ctx);
    ctx.progress(`writing ${basename(output)}`, 0.7);
    saved = await model.save(output, { isCancelled: ctx.isCancelled, source: source.files[source.files.length - 1] });
    const ts = performance.now();
    throwIfCancelled(ctx);
    ctx.progress('loading the result in ONNX Runtime', 0.9);
    try {
      const session = await openSession(output, { threads: 1 });
      await session.release();
    } catch (e) {
      throw new FormatError(`the exported model does not load in ONNX Runtime ${runtimeVersion()}, so it was deleted: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const tl = performance.now();
    ctx.progress('done', 1);
    return {
      source: params.path,
      output,
      ...(saved.dataPath === undefined ? {} : { dataFile: saved.dataPath }),
      family: c.modelType,
      sourceFormat: source.format,
      layers: c.numLayers,
      hidden: c.hiddenSize,
      intermediate: c.intermediateSize,
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      headDim: c.headDim,
      vocab: c.vocabSize,
      parameterCount: decoderTensors(c).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0),
      fileBytes: saved.bytes + (saved.dataBytes ?? 0),
      seconds: { build: (tb - t0) / 1000, save: (ts - tb) / 1000, load: (tl - ts) / 1000, total: (tl - t0) / 1000 },
      runtimeVersion: runtimeVersion(),
    };
  } catch (e) {
    if (saved) await removeOutput(output);
    if (isCancelledError(e) || e instanceof WriteCancelledError) throw new CancelledError();
    throw e;
  } finally {
    release();
  }
}
