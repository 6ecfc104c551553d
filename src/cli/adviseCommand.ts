/**
 * `quantscope advise MODEL`: the findings about a model (per layer: severity, evidence, fix),
 * from its weight statistics and, for ONNX models, a calibration in ONNX Runtime.
 */
import { DEFAULT_FINDING_THRESHOLDS, FINDING_THRESHOLD_HELP } from '../core/findings/findingThresholds';
import type { FindingThresholds } from '../protocol/findingTypes';
import { adviseModel, type AdviseParams } from '../worker/jobs/adviseModel';
import { ALL_FORMATS, checkInput, formatWords, isDecoderInput } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec, type OptionSpec } from './CommandSpec';
import { calibrationOptions } from './commonOptions';
import { profileCalibrationFromArgs } from './profileCalibration';
import { UsageError } from './parseArgs';
import { renderAdvice } from './renderAdvice';
import { runCliJob } from './runCliJob';

/** `activationMagnitude` → `activation-magnitude`. */
function optionName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const FIELDS = Object.keys(DEFAULT_FINDING_THRESHOLDS) as (keyof FindingThresholds)[];

/** One option per threshold, named after its field, its default the engine's. */
const THRESHOLD_OPTIONS: readonly (OptionSpec & { readonly field: keyof FindingThresholds })[] = FIELDS.map((field) => ({
  name: optionName(field), field, kind: field === 'sensitiveTopK' ? 'int' : 'number', min: 0, default: DEFAULT_FINDING_THRESHOLDS[field], help: FINDING_THRESHOLD_HELP[field],
}));

const CALIBRATION_OPTIONS: readonly OptionSpec[] = [
  ...calibrationOptions(true, 'the findings say so'),
  { name: 'weights-only', kind: 'flag', help: 'Judge the weight statistics alone, without calibrating' },
];

/** What `advise` takes. */
export const ADVISE_SPEC: CommandSpec = {
  name: 'advise',
  summary: 'Findings per layer (activation and weight outliers, sensitivity, dead channels, NaN/Inf) with the recommended fix',
  usage: ['advise MODEL [--calib FILE]... [--tokenizer FILE] [--samples N] [--weights-only] [--THRESHOLD X]... [--json]'],
  description: 'Judge a model layer by layer: every format by its weight statistics; an ONNX model also by a calibration in ONNX Runtime (activation outliers, Hessian sensitivity). Each finding names its layer as the model spells it, a severity, the figures behind it and the fix (SmoothQuant with an α, LLM.int8(), INT8 per-channel, INT4 g128 via GPTQ, 2:4, keep in float). The thresholds are options; the defaults are shown.',
  arguments: [{ name: 'MODEL', help: 'The model or checkpoint', count: 'one' }],
  options: [JSON_OPTION],
  groups: [{ title: 'Calibration (ONNX models only)', options: CALIBRATION_OPTIONS }, { title: 'Thresholds', options: THRESHOLD_OPTIONS }],
  examples: ['advise model.onnx --calib inputs.npz', 'advise model.onnx --sensitive-top-k 5 --json', 'advise model.safetensors'],
};

/** `quantscope advise`: 0 done, 1 unreadable, 2 usage, 130 interrupted. */
export const ADVISE_COMMAND: CliCommand = {
  spec: ADVISE_SPEC,
  run: async (args, output) => {
    const path = args.positional[0];
    // A language-model checkpoint is judged on its built graph, calibration included.
    const format = (await isDecoderInput(path)) ? 'onnx' : await checkInput(path, 'advise', ALL_FORMATS);
    const given = CALIBRATION_OPTIONS.filter((o) => o.name !== 'weights-only' && args.has(o.name)).map((o) => `--${o.name}`);
    if (format !== 'onnx' && given.length) throw new UsageError(`${given.join(', ')} ${given.length === 1 ? 'applies' : 'apply'} to ONNX models only: calibration runs the model in ONNX Runtime, and ${path} is ${formatWords(format)}.`, 'advise');
    const thresholds: Partial<Record<keyof FindingThresholds, number>> = {};
    for (const o of THRESHOLD_OPTIONS) {
      const v = args.number(o.name);
      if (v !== undefined) thresholds[o.field] = v;
    }
    const params: AdviseParams = {
      path,
      ...(await profileCalibrationFromArgs(args, path)),
      // The calibration counts LLM.int8() outliers at the same magnitude the findings judge by.
      ...(thresholds.activationMagnitude !== undefined ? { threshold: thresholds.activationMagnitude } : {}),
      ...(args.has('weights-only') ? { weightsOnly: true } : {}),
      thresholds,
    };
    return runCliJob('advise', (ctx) => adviseModel(params, ctx), renderAdvice, args.json, 'interrupted', output);
  },
};
