import type { OptionSpec } from './CommandSpec';

/** `-o OUT.onnx` of the commands that write a model. */
export const OUTPUT_OPTION: OptionSpec = { name: 'output', short: 'o', kind: 'string', placeholder: 'OUT.onnx', help: 'Where to write the new model (default: beside the source, never overwriting)' };

/** `--overwrite`. */
export const OVERWRITE_OPTION: OptionSpec = { name: 'overwrite', kind: 'flag', help: 'Replace an existing -o file' };

/** `--layers REGEX`. */
export const LAYERS_OPTION: OptionSpec = { name: 'layers', kind: 'string', placeholder: 'REGEX', help: 'Only the MatMul/Gemm layers whose node or weight name matches (default: every layer)' };

/**
 * The calibration data options. `repeatable` lets `--calib` be given once per input file;
 * `unlabelled` says what happens without calibration data (the report, the findings…).
 */
export function calibrationOptions(repeatable: boolean, unlabelled: string): readonly OptionSpec[] {
  return [
    { name: 'calib', kind: 'string', placeholder: 'FILE', ...(repeatable ? { repeatable } : {}), help: `Calibration data: .npy/.npz per input name, .pb TensorProto files, or a .txt with --tokenizer; without it inputs are generated and ${unlabelled}` },
    { name: 'tokenizer', kind: 'string', placeholder: 'FILE', help: 'tokenizer.json that turns a .txt calibration file into token ids: calibration windows from its start, held-out ones from its end; default: the tokenizer.json beside the model' },
    { name: 'samples', kind: 'int', min: 1, default: 8, help: 'Calibration batches' },
    { name: 'batch', kind: 'int', min: 1, default: 1, help: 'Batch size of generated inputs' },
    { name: 'seq', kind: 'int', min: 1, default: 128, help: 'Length of symbolic (sequence) dimensions of generated inputs' },
  ];
}

/** The calibration options of `quantize` and `prune`. */
export const CALIBRATION_OPTIONS: readonly OptionSpec[] = calibrationOptions(false, 'the report says so');
