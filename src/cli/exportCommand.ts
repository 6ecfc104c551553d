/** `quantscope export MODEL [-o OUT.onnx]`: builds a language-model checkpoint into an ONNX decoder with a KV cache. */
import { exportDecoder } from '../worker/jobs/exportDecoder';
import { checkFile, isDecoderInput } from './checkInput';
import { CliError } from './CliError';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec } from './CommandSpec';
import { renderExport } from './renderExport';
import { runCliJob } from './runCliJob';

/** What `export` takes. */
export const EXPORT_SPEC: CommandSpec = {
  name: 'export',
  summary: 'Build a language-model checkpoint (Hugging Face folder, safetensors, GGUF) into an ONNX decoder with a KV cache',
  usage: ['export MODEL [-o OUT.onnx] [--json]'],
  description: 'Build a Llama-family decoder (Llama, Mistral, Qwen2) from its checkpoint into an ONNX model with a KV cache, under the input and output names ONNX Runtime GenAI uses, write it beside the checkpoint (default model.onnx in its folder, NAME.onnx beside a .gguf, numbered when taken; never overwriting; external data beyond 2 GB) and check that ONNX Runtime loads it.',
  arguments: [{ name: 'MODEL', help: 'A Hugging Face folder (config.json and safetensors), its model.safetensors or model.safetensors.index.json, Meta-named weights with params.json, or a .gguf', count: 'one' }],
  options: [{ name: 'output', short: 'o', kind: 'string', placeholder: 'OUT.onnx', help: 'Where to write the model (refused if it exists)' }, JSON_OPTION],
  examples: ['export models/tiny-llama', 'export models/tiny-llama/model.safetensors -o tiny.onnx --json', 'export qwen2-0.5b.gguf'],
};

/** `quantscope export`: 0 written, 1 not a buildable checkpoint or an existing -o, 2 usage, 130 interrupted (nothing written). */
export const EXPORT_COMMAND: CliCommand = {
  spec: EXPORT_SPEC,
  run: async (args, output) => {
    const path = args.positional[0];
    if (!(await isDecoderInput(path))) {
      await checkFile(path);
      throw new CliError(`${path}: not a language-model checkpoint; export reads a Hugging Face folder (config.json with safetensors), its model.safetensors or index, Meta-named weights with params.json, or a .gguf`, 'wrong-format', { path });
    }
    const out = args.string('output');
    if (out !== undefined && (await checkFile(out).then(() => true, () => false))) throw new CliError(`${out} already exists; choose another name`, 'refused', { path: out });
    return runCliJob('export', (ctx) => exportDecoder({ path, ...(out === undefined ? {} : { output: out }) }, ctx), renderExport, args.json, 'interrupted; nothing was written', output);
  },
};
