import type { OnnxModel } from '../onnx/OnnxModel';
import type { QuantizeCalibration } from '../../protocol/transformTypes';
import { calibrationFiles, declaredInputs, SyntheticInputs, type Batch } from './calibrationInputs';

/** Seed of the held-out inputs: far from calibration's default seed 0, so the two never coincide. */
const HELD_OUT_SEED = 7_919_731;

/** A transform's calibration and held-out batches, and whether each set was generated. */
export interface TransformInputs {
  readonly calib: Batch[] | undefined;
  readonly heldOut: Batch[];
  readonly calibSynthetic: boolean;
  readonly heldOutSynthetic: boolean;
}

/** Calibration and held-out batches: from a file when given (one array file of several sequences is split into batches; the last batch is held out), else generated with distinct seeds. */
export async function inputBatches(model: OnnxModel, params: { readonly calibration?: QuantizeCalibration; readonly validationBatches?: number }, needCalibration: boolean): Promise<TransformInputs> {
  const c = params.calibration ?? {};
  const batchSize = Math.max(1, c.batch ?? 1);
  const count = Math.max(1, Math.ceil((c.samples ?? 8) / batchSize));
  const shape = { batchSize, sequenceLength: c.sequenceLength ?? 128 };
  const specs = declaredInputs(model);
  const validationBatches = Math.max(1, params.validationBatches ?? 2);
  const generated = (seed: number, n: number): Batch[] => {
    const g = new SyntheticInputs(specs, { ...shape, seed });
    return Array.from({ length: n }, () => g.next());
  };
  if (c.file !== undefined) {
    const files = await calibrationFiles([c.file], specs, { splitRows: true });
    const all: Batch[] = [];
    for (let b = 0; b < files.count; b++) all.push(await files.load(b));
    if (all.length >= 2) return { calib: all.slice(0, -1).slice(0, count), heldOut: all.slice(-1), calibSynthetic: false, heldOutSynthetic: false };
    return { calib: all, heldOut: generated(HELD_OUT_SEED, validationBatches), calibSynthetic: false, heldOutSynthetic: true };
  }
  return { calib: needCalibration ? generated(0, count) : undefined, heldOut: generated(HELD_OUT_SEED, validationBatches), calibSynthetic: true, heldOutSynthetic: true };
}
