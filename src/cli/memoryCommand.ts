/** `quantscope memory MODEL|config.json`: serving memory of a decoder, and what fits a budget. */
import { KV_PRECISIONS, WEIGHT_PRECISIONS, type MemorySettings } from '../protocol/servingTypes';
import { planServingMemory } from '../worker/jobs/planServingMemory';
import { checkFile } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec } from './CommandSpec';
import { parseByteSize } from '../protocol/parseByteSize';
import { UsageError } from './parseArgs';
import { renderMemory } from './renderMemory';
import { runCliJob } from './runCliJob';

/** What `memory` takes. */
export const MEMORY_SPEC: CommandSpec = {
  name: 'memory',
  summary: 'Serving memory of a decoder: weights per precision, KV cache, what fits a budget',
  usage: ['memory MODEL|config.json [--budget SIZE] [--weights P] [--kv P] [--context N] [--block-size N] [--experts] [--json]'],
  description: 'Plans the memory of serving a decoder: its weights at float32, float16, INT8 and INT4 (with their scales and zero points), the KV cache per token and per sequence at fp16, fp8 and int8, the activations of one prefill step, and the largest batch at each context length that fits the budget. The architecture comes from a config.json (alone it is enough; nothing else is read), a model folder, a .gguf file\'s metadata or an ONNX decoder\'s graph; the output says which fields were read, inferred or assumed.',
  arguments: [{ name: 'MODEL', help: 'A config.json, a model folder, a weights file with config.json beside it, a .gguf or an ONNX decoder', count: 'one' }],
  options: [
    { name: 'budget', kind: 'string', placeholder: 'SIZE', default: '24GiB', help: 'Memory available to the model (24GiB, 80GB, 16g, or bytes)' },
    { name: 'weights', kind: 'enum', values: WEIGHT_PRECISIONS, default: 'float16', help: 'Precision of the weights for the fit' },
    { name: 'kv', kind: 'enum', values: KV_PRECISIONS, default: 'fp16', help: 'Element type of the KV cache for the fit' },
    { name: 'context', kind: 'int', min: 1, help: 'Context length of one sequence (default: the model\'s)' },
    { name: 'block-size', kind: 'int', min: 1, default: 16, help: 'Tokens per KV block of a paged allocator (1: exact allocation)' },
    { name: 'prefill', kind: 'int', min: 1, default: 2048, help: 'Tokens of one prefill step, for the activation estimate' },
    { name: 'group', kind: 'enum', values: ['16', '32', '64', '128', '256'], default: '128', help: 'Group size of the INT4 scheme (MatMulNBits blocks)' },
    { name: 'experts', kind: 'flag', help: 'Also compare the routed experts of an MoE model (reads their weights): statistics, cosine similarity, merge error' },
    JSON_OPTION,
  ],
  examples: ['memory config.json --budget 24GiB --kv fp8', 'memory mixtral/ --experts', 'memory model.gguf --weights int4 --context 32768 --json'],
};

/** `quantscope memory`: 0 planned, 1 unreadable or incomplete config, 2 usage. */
export const MEMORY_COMMAND: CliCommand = {
  spec: MEMORY_SPEC,
  run: async (args, output) => {
    const path = args.positional[0];
    let budgetBytes: number;
    try {
      budgetBytes = parseByteSize(args.string('budget') ?? '24GiB');
    } catch (e) {
      throw new UsageError(`--budget must ${e instanceof Error ? e.message : String(e)}; got "${args.string('budget') ?? ''}"`, 'memory');
    }
    await checkFile(path, { folders: true });
    const settings: Partial<MemorySettings> = {
      budgetBytes,
      weights: args.choice('weights', WEIGHT_PRECISIONS) ?? 'float16',
      kv: args.choice('kv', KV_PRECISIONS) ?? 'fp16',
      blockSize: args.number('block-size') ?? 16,
      prefillTokens: args.number('prefill') ?? 2048,
      int4GroupSize: Number(args.string('group') ?? '128'),
      ...(args.number('context') !== undefined ? { contextLength: args.number('context') } : {}),
    };
    return runCliJob('memory', (ctx) => planServingMemory({ path, settings, experts: args.has('experts') }, ctx), renderMemory, args.json, 'interrupted', output);
  },
};
