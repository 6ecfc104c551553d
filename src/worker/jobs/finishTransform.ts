/**
 * The tail shared by the quantize and prune jobs: save the edited model, check that ONNX Runtime
 * loads it (deleting it if not), validate it against the source on held-out inputs, and measure
 * the sizes and times.
 */
import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { nextFreeName } from '../../core/io/nextFreeName';
import { FormatError } from '../../core/FormatError';
import { TargetExistsError, WriteCancelledError } from '../../core/io/atomicWrite';
import { ownFile, releaseFile } from '../../core/io/ownedFiles';
import type { OnnxModel } from '../../core/onnx/OnnxModel';
import type { Batch } from '../../core/calibration/calibrationInputs';
import type { TransformValidation } from '../../protocol/quantizeTypes';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { openSession, runtimeVersion } from '../ort';
import { validateTransform } from './validateTransform';

/** Deletes a written model and its external data file. */
export async function removeOutput(path: string): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.data`, { force: true });
}

/**
 * Declares `output` and its external data file as owned by this job (see {@link ownFile}) until
 * the returned function is called: a worker killed between writing and validating must not leave
 * an unchecked model behind. A file that exists already is not the job's to remove.
 */
export async function ownOutput(output: string): Promise<() => void> {
  const paths = [output, `${output}.data`].filter((p) => !existsSync(p));
  for (const p of paths) await ownFile(p);
  return () => paths.forEach(releaseFile);
}

/**
 * Where a transform writes: `params.output`, refused when it exists unless `overwrite`; else the
 * next free `model.<suffix>.onnx` beside the source. The save is atomic and refuses an existing
 * target anyway; asking first fails before any work is done.
 */
export function transformOutput(params: { readonly path: string; readonly output?: string; readonly overwrite?: boolean }, suffix: string): string {
  if (params.output === undefined) return nextFreeName(params.path, suffix);
  if (!params.overwrite && existsSync(params.output)) throw new TargetExistsError(`${params.output} already exists; choose another name or allow overwriting`);
  return params.output;
}

/** What {@link finishTransform} needs besides the model. */
export interface FinishTransformOptions {
  /** The source model file, validated against. */
  readonly source: string;
  /** Where the model is written. */
  readonly output: string;
  readonly overwrite?: boolean;
  /** Held-out batches for validation, and whether they were generated. */
  readonly heldOut: readonly Batch[];
  readonly heldOutSynthetic: boolean;
  /** The participle naming the model in errors: `quantized`, `pruned`. */
  readonly edited: string;
}

/** What {@link finishTransform} measured. */
export interface FinishedTransform {
  readonly validation: TransformValidation;
  readonly sourceBytes: number;
  /** The written model and its external data. */
  readonly outputBytes: number;
  readonly writeSeconds: number;
  readonly validationSeconds: number;
}

/**
 * Saves `model` to `opts.output` (atomically; a cancelled write becomes {@link CancelledError}),
 * checks that ONNX Runtime loads it, then validates it against the source on the held-out
 * batches. If loading or validation fails or is cancelled, the output is deleted.
 */
export async function finishTransform(model: OnnxModel, opts: FinishTransformOptions, ctx: JobContext): Promise<FinishedTransform> {
  const release = await ownOutput(opts.output);
  try {
    return await saveAndValidate(model, opts, ctx);
  } finally {
    release();
  }
}

async function saveAndValidate(model: OnnxModel, opts: FinishTransformOptions, ctx: JobContext): Promise<FinishedTransform> {
  const { output, heldOut } = opts;
  const tw = performance.now();
  ctx.progress(`writing ${output}`, 0.7);
  let saved;
  try {
    saved = await model.save(output, { overwrite: opts.overwrite, isCancelled: ctx.isCancelled });
  } catch (e) {
    if (e instanceof WriteCancelledError) throw new CancelledError();
    throw e;
  }
  const writeSeconds = (performance.now() - tw) / 1000;

  const tv = performance.now();
  let outputs;
  try {
    throwIfCancelled(ctx);
    ctx.progress('loading the result in ONNX Runtime', 0.8);
    try {
      const session = await openSession(output);
      await session.release();
    } catch (e) {
      throw new FormatError(`the ${opts.edited} model does not load in ONNX Runtime ${runtimeVersion()}, so it was deleted: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    outputs = await validateTransform(opts.source, output, heldOut, ctx, (n) => ctx.progress('validating on held-out inputs', 0.8 + (0.2 * n) / heldOut.length));
  } catch (e) {
    await removeOutput(output);
    throw e;
  }
  const validationSeconds = (performance.now() - tv) / 1000;

  return {
    validation: { batches: heldOut.length, synthetic: opts.heldOutSynthetic, outputs },
    sourceBytes: (await stat(opts.source)).size,
    outputBytes: saved.bytes + (saved.dataBytes ?? 0),
    writeSeconds,
    validationSeconds,
  };
}

/** The warnings about generated inputs that both transforms give. */
export function inputWarnings(calibrationBatches: number, inputs: { readonly calibSynthetic: boolean; readonly heldOutSynthetic: boolean }): string[] {
  const warnings: string[] = [];
  if (calibrationBatches > 0 && inputs.calibSynthetic) warnings.push('calibration used generated inputs: H and the layer errors describe random data, not real inputs');
  if (inputs.heldOutSynthetic) warnings.push('the held-out validation inputs were generated');
  return warnings;
}
