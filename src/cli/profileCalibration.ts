import { tokenizerBeside } from '../core/calibration/tokenizerBeside';
import { checkFile } from './checkInput';
import type { ParsedArgs } from './parseArgs';

/** The calibration fields that `profile` and `advise` send to their jobs; only those given are set. */
export interface ProfileCalibrationArgs {
  readonly calibrationFiles?: string[];
  readonly tokenizer?: string;
  readonly samples?: number;
  readonly batchSize?: number;
  readonly sequenceLength?: number;
}

/**
 * Reads `--calib` (repeatable), `--tokenizer`, `--samples`, `--batch` and `--seq`. A `.txt` file
 * without `--tokenizer` is read with the `tokenizer.json` beside the model, as `quantize` does.
 */
export async function profileCalibrationFromArgs(args: ParsedArgs, modelPath: string): Promise<ProfileCalibrationArgs> {
  const calibrationFiles = args.strings('calib');
  for (const f of calibrationFiles) await checkFile(f, { folders: true });
  const given = args.string('tokenizer');
  if (given !== undefined) await checkFile(given);
  const tokenizer = given ?? (calibrationFiles.some((f) => /\.txt$/i.test(f)) ? await tokenizerBeside(modelPath) : undefined);
  const samples = args.number('samples'), batchSize = args.number('batch'), sequenceLength = args.number('seq');
  return {
    ...(calibrationFiles.length ? { calibrationFiles } : {}),
    ...(tokenizer ? { tokenizer } : {}),
    ...(samples ? { samples } : {}),
    ...(batchSize ? { batchSize } : {}),
    ...(sequenceLength ? { sequenceLength } : {}),
  };
}
