/**
 * A transform's calibration and held-out inputs, with text calibration on top of the engine's
 * {@link inputBatches}: tokenizing needs the tokenizer library, which lives with the jobs.
 */
import { basename } from 'node:path';
import { FormatError } from '../../core/FormatError';
import { declaredInputs } from '../../core/calibration/calibrationInputs';
import { inputBatches, type TransformInputs } from '../../core/calibration/inputBatches';
import type { OnnxModel } from '../../core/onnx/OnnxModel';
import type { QuantizeCalibration } from '../../protocol/transformTypes';
import { textBatches } from './textCalibration';

/**
 * Calibration and held-out batches. A `.txt` calibration file is tokenized with the model's
 * tokenizer: calibration windows come from the start of the text and held-out ones from its
 * end, so validation sees text that calibration did not. Every other source is the engine's.
 */
export async function transformInputs(model: OnnxModel, params: { readonly calibration?: QuantizeCalibration; readonly validationBatches?: number }, needCalibration: boolean): Promise<TransformInputs> {
  const c = params.calibration ?? {};
  if (c.file === undefined || !/\.txt$/i.test(c.file)) return inputBatches(model, params, needCalibration);
  if (!c.tokenizer) throw new FormatError(`${basename(c.file)} is text: calibrating on text needs the model's tokenizer.json as well (--tokenizer)`);
  const batchSize = Math.max(1, c.batch ?? 1);
  const count = Math.max(1, Math.ceil((c.samples ?? 8) / batchSize));
  const validationBatches = Math.max(1, params.validationBatches ?? 2);
  const specs = declaredInputs(model);
  const text = c.sequenceLength === undefined ? { model, batchSize } : { model, batchSize, sequenceLength: c.sequenceLength };
  const calib = needCalibration ? (await textBatches(c.file, c.tokenizer, specs, { ...text, batches: count })).batches : undefined;
  const heldOut = (await textBatches(c.file, c.tokenizer, specs, { ...text, batches: validationBatches, heldOut: true })).batches;
  return { calib, heldOut, calibSynthetic: false, heldOutSynthetic: false };
}
