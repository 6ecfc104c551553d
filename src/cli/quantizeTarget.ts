/**
 * `quantscope quantize --to TARGET`: which kind of file the quantized model is written as. Each
 * target is one member of {@link QuantizeTarget} and one entry of {@link QUANTIZE_TARGETS}; a
 * target with an argument (`gguf:TYPE`) is a prefix entry whose parser reads the rest.
 */
import { parseGgufTarget, type GgufTarget } from '../core/gguf/ggufTypeRules';
import type { OptionSpec } from './CommandSpec';
import { UsageError } from './parseArgs';

/** A parsed `--to` value. */
export type QuantizeTarget =
  | { readonly kind: 'onnx' }
  | { readonly kind: 'safetensors-gptq' }
  | { readonly kind: 'gguf'; readonly gguf: GgufTarget };

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
  {
    shown: 'gguf:TYPE',
    parse: (v) => {
      const m = /^gguf:(.+)$/i.exec(v);
      if (!m) return undefined;
      try {
        return { kind: 'gguf', gguf: parseGgufTarget(m[1]) };
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e), 'quantize');
      }
    },
  },
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
  help: 'What to write: an ONNX model (default); GPTQ-layout safetensors in a new folder for Transformers, vLLM and TGI (from a Hugging Face folder; --method gptq or rtn); or GGUF for llama.cpp in one ggml type (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k..q6_k) or a preset (q4_k_m, q5_k_m, q3_k_m, q8_0), from a .gguf or a Hugging Face folder',
};
