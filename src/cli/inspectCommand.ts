/** `quantscope inspect FILE`: lists a checkpoint of any supported format. */
import { QUIET_JOB } from '../worker/jobs/JobContext';
import { inspectModel } from '../worker/jobs/inspectModel';
import { ALL_FORMATS, checkInput } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec } from './CommandSpec';
import { renderInspect } from './renderInspect';

/** What `inspect` takes. */
export const INSPECT_SPEC: CommandSpec = {
  name: 'inspect',
  summary: 'List a model or checkpoint: format, inputs and outputs, tensors, dtypes',
  usage: ['inspect FILE [--tensors N] [--json]'],
  description: 'List a model or checkpoint of any supported format (ONNX, safetensors, GGUF, PyTorch, NumPy): its format, size, graph, inputs and outputs, every tensor with its dtype and shape, and the dtype breakdown. ONNX models are also loaded in ONNX Runtime, and a model it refuses is reported.',
  arguments: [{ name: 'FILE', help: 'The model or checkpoint (a safetensors index .json for sharded checkpoints)', count: 'one' }],
  options: [{ name: 'tensors', kind: 'int', min: 0, default: 40, help: 'How many tensors the text lists (0: all)' }, JSON_OPTION],
  examples: ['inspect model.onnx', 'inspect model.safetensors --json'],
};

/** `quantscope inspect`: 0 listed, 1 unreadable, 2 usage. */
export const INSPECT_COMMAND: CliCommand = {
  spec: INSPECT_SPEC,
  run: async (args, output) => {
    const path = args.positional[0];
    await checkInput(path, 'inspect', ALL_FORMATS);
    const summary = await inspectModel({ path }, QUIET_JOB);
    output.out(args.json ? JSON.stringify(summary, null, 2) + '\n' : renderInspect(summary, { maxTensors: args.number('tensors') ?? 40 }));
    return 0;
  },
};
