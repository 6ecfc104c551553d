import { stat } from 'node:fs/promises';
import { openDecoderSource } from '../../core/decoder';
import { deriveFindings } from '../../core/findings/deriveFindings';
import { isFormatError } from '../../core/FormatError';
import { sniffFormat } from '../../core/formats/registry';
import { FileAccessor } from '../../core/io/FileAccessor';
import type { FindingsReport, FindingThresholds } from '../../protocol/findingTypes';
import type { ModelProfileParams } from '../../protocol/workerProtocol';
import type { JobContext } from './JobContext';
import { isCheckpointInput } from './modelInput';
import { profileModel } from './profileModel';
import { profileWeights } from './profileWeights';

/** Parameters of `advise`: the calibration of `profileModel` (ONNX), whether to run it, and the thresholds. */
export interface AdviseParams extends ModelProfileParams {
  /** Judge the weights alone, without calibrating (always so for formats without a graph). */
  readonly weightsOnly?: boolean;
  readonly thresholds?: Partial<FindingThresholds>;
}

/**
 * The findings about a model: its weight statistics and, for an ONNX model (unless `weightsOnly`),
 * a calibration in ONNX Runtime, judged by the findings engine.
 */
export async function adviseModel(params: AdviseParams, ctx: JobContext): Promise<FindingsReport> {
  const { weightsOnly, thresholds, ...profile } = params;
  const file = (await stat(params.path)).isDirectory() ? undefined : await FileAccessor.open(params.path);
  let onnx: boolean;
  try {
    onnx = file !== undefined && (await sniffFormat(file))?.name === 'onnx';
  } finally {
    await file?.close();
  }
  if ((onnx || (await buildsDecoder(params.path))) && !weightsOnly) {
    const model = await profileModel(profile, ctx);
    return deriveFindings({ weights: model.weights, model, ...(thresholds ? { thresholds } : {}) });
  }
  return deriveFindings({ weights: await profileWeights({ path: params.path }, ctx), ...(thresholds ? { thresholds } : {}) });
}

/** True when `path` is a language-model checkpoint the decoder builder can turn into a graph. */
async function buildsDecoder(path: string): Promise<boolean> {
  if (!(await isCheckpointInput(path))) return false;
  try {
    await openDecoderSource(path);
    return true;
  } catch (e) {
    if (isFormatError(e)) return false;
    throw e;
  }
}
