/**
 * `quantscope quantize --to TARGET`: which kind of file the quantized model is written as. Each
 * target is one member of {@link QuantizeTarget} and one entry of {@link QUANTIZE_TARGETS}; a
 * target with an argument (`gguf:TYPE`) is a prefix entry whose parser reads the rest.
 */
import type { OptionSpec } from './CommandSpec';
import { UsageError } from './parseArgs';

/** A parsed `--to` value. */
export type QuantizeTarget =
  | { readonly kind: 'onnx' }
  | { readonly kind: 'safetensors-gptq' };

/** One accepted form of `--to`: an exact word, or a prefix (`gguf:`) followed by an argument. */
interface TargetForm {
  /** How the help shows it. */
  readonly shown: string;
  readonly parse: (value: string) => QuantizeTarget | undefined;
}

const exact = (word: string, target: QuantizeTarget): TargetForm => ({ shown: word, parse: (v) => (v === word ? target : undefined) });

/** Every target `--to` accepts, in the order the help lists them. */
export const QUANTIZE_TARGETS: readonly TargetForm[] = [
  exact('onnx', { kind: 'onnx' }),
  exact('safetensors-gptq', { kind: 'safetensors-gptq' }),
];

/** The target `value` names. @throws {UsageError} listing the accepted forms. */
export function parseQuantizeTarget(value: string): QuantizeTarget {
  for (const form of QUANTIZE_TARGETS) {
    const t = form.parse(value);
    if (t) return t;
  }
  throw new UsageError(`--to ${value} is not a target; use ${QUANTIZE_TARGETS.map((f) => f.shown).join(', ')}`, 'quantize');
}

/** `--to`. */
export const TO_OPTION: OptionSpec = {
  name: 'to',
  kind: 'string',
  placeholder: QUANTIZE_TARGETS.map((f) => f.shown).join('|'),
  help: 'What to write: an ONNX model (default), or GPTQ-layout safetensors in a new folder for Transformers, vLLM and TGI (from a Hugging Face folder; --method gptq or rtn)',
};
