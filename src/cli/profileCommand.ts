/**
 * `quantscope profile FILE`: weight statistics of any format; for ONNX models also calibration in
 * ONNX Runtime and each MatMul/Gemm layer's sensitivity, ranked.
 */
import type { FormatName } from '../core/formats/Checkpoint';
import type { WeightProfile } from '../protocol/workerProtocol';
import { profileModel } from '../worker/jobs/profileModel';
import { profileWeights } from '../worker/jobs/profileWeights';
import { ALL_FORMATS, checkInput, formatWords, isDecoderInput } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec, type OptionSpec } from './CommandSpec';
import { calibrationOptions } from './commonOptions';
import { profileCalibrationFromArgs } from './profileCalibration';
import { UsageError, type ParsedArgs } from './parseArgs';
import { renderProfile } from './renderProfile';
import { renderStats } from './renderStats';
import { runCliJob, type CliOutput } from './runCliJob';

/** Options that run the model, so they apply to ONNX models only. */
const CALIBRATION_OPTIONS: readonly OptionSpec[] = [
  ...calibrationOptions(true, 'marked synthetic'),
  { name: 'threshold', kind: 'number', min: 1e-6, default: 6, help: 'Activation magnitude counted as an LLM.int8() outlier' },
];

/** What `profile` takes. */
export const PROFILE_SPEC: CommandSpec = {
  name: 'profile',
  summary: 'Weight statistics of any format; for ONNX and language models also activation statistics and every layer\'s sensitivity, ranked',
  usage: ['profile FILE [--calib FILE]... [--tokenizer FILE] [--samples N] [--batch N] [--seq N] [--threshold X] [--json]'],
  description: 'Profile a model. Every format (ONNX, safetensors, GGUF, PyTorch, NumPy) gets the weight statistics of its floating-point tensors. An ONNX model is also calibrated in ONNX Runtime: activation outliers of every MatMul/Gemm layer and its Hessian sensitivity to INT8, INT4 and 2:4 pruning, ranked. A language-model checkpoint (a Hugging Face folder, its model.safetensors or index, a .gguf) is built into a graph first (cached beside it) and profiled like an ONNX model. Calibration needs a graph to run, so the calibration options apply to those two only.',
  arguments: [{ name: 'FILE', help: 'The model or checkpoint', count: 'one' }],
  options: [JSON_OPTION],
  groups: [{ title: 'Calibration (ONNX models and language-model checkpoints)', options: CALIBRATION_OPTIONS }],
  examples: ['profile model.onnx --calib inputs.npz --samples 16', 'profile tiny_lm.onnx --calib corpus.txt --tokenizer tokenizer.json', 'profile model.safetensors'],
};

/** The `--json` result of `profile` on a checkpoint without a graph: weight statistics, and why nothing else. */
export interface WeightsOnlyProfile {
  readonly path: string;
  readonly format: FormatName;
  readonly weights: WeightProfile;
  readonly calibration: null;
  readonly layers: readonly [];
  readonly note: string;
}

async function profileWeightsOnly(args: ParsedArgs, path: string, format: FormatName, output: CliOutput): Promise<number> {
  const given = CALIBRATION_OPTIONS.filter((o) => args.has(o.name)).map((o) => `--${o.name}`);
  const what = formatWords(format);
  if (given.length) throw new UsageError(`${given.join(', ')} ${given.length === 1 ? 'applies' : 'apply'} to ONNX models only: calibration runs the model in ONNX Runtime, and ${path} is ${what}. Without ${given.length === 1 ? 'it' : 'them'}, profile gives its weight statistics.`, 'profile');
  const note = `${path} is ${what}: weight statistics only. Activation statistics and layer sensitivity need an ONNX model to run.`;
  return runCliJob('profile', async (ctx): Promise<WeightsOnlyProfile> => ({ path, format, weights: await profileWeights({ path }, ctx), calibration: null, layers: [], note }), (r) => `${renderStats(r.weights)}${r.note}\n`, args.json, 'interrupted', output);
}

/** `quantscope profile`: 0 done, 1 unreadable or nothing to calibrate, 2 usage, 130 interrupted. */
export const PROFILE_COMMAND: CliCommand = {
  spec: PROFILE_SPEC,
  run: async (args, output) => {
    const path = args.positional[0];
    // A language-model checkpoint is calibrated as its built graph; other checkpoints have no graph to run.
    if (!(await isDecoderInput(path))) {
      const format = await checkInput(path, 'profile', ALL_FORMATS);
      if (format !== 'onnx') return profileWeightsOnly(args, path, format, output);
    }
    const threshold = args.number('threshold');
    const params = { path, ...(await profileCalibrationFromArgs(args, path)), ...(threshold !== undefined ? { threshold } : {}) };
    return runCliJob('profile', (ctx) => profileModel(params, ctx), renderProfile, args.json, 'interrupted', output);
  },
};
