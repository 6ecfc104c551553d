import { basename } from 'node:path';
import { FormatError } from '../FormatError';
import type { Checkpoint, TensorInfo } from '../formats/Checkpoint';
import type { DType } from '../tensor/DType';
import { ggmlBlockType } from '../tensor/ggmlBlocks';
import { readTensorChunks } from '../tensor/TensorReader';
import type { DecoderConfig } from './DecoderConfig';
import { canonicalName, decoderTensors, storedName, type TensorNaming } from './decoderTensors';
import { findGptqPacked, readGptqWeight, type GptqCheckpointInfo, type GptqPackedTensors } from './gptqPackedWeight';
import { unpermuteRotary } from './unpermuteRotary';

/**
 * A decoder's weights and architecture, opened lazily: the config is read and every tensor's
 * shape checked against it, but no values are read until {@link read} asks for them.
 */
export interface DecoderSource {
  /** The path the user gave (a folder, `config.json`, a weights file, an index or a `.gguf`). */
  readonly path: string;
  /** Every file the build reads, so a cache can tell when the source changed. */
  readonly files: readonly string[];
  readonly format: Checkpoint['format'];
  readonly naming: TensorNaming;
  readonly config: DecoderConfig;
  /** Float32 bytes the weights take once read (what a build holds in memory). */
  readonly float32Bytes: number;
  /** The stored tensor behind a Hugging Face name, when the source has it. */
  tensor(name: string): TensorInfo | undefined;
  /**
   * The values of the tensor `name` (a Hugging Face name) as float32 in Hugging Face's layout:
   * [out, in] for projections, Q and K rows in rotate-half order whatever the source's layout.
   */
  read(name: string): Promise<Float32Array>;
}

/** Reads a whole tensor as float32 in row-major order (F16, BF16 and ggml blocks are decoded). */
async function readFloat32(t: TensorInfo): Promise<Float32Array> {
  const out = new Float32Array(t.elements);
  let at = 0;
  for await (const chunk of readTensorChunks(t, { rowMajor: true })) {
    out.set(chunk, at);
    at += chunk.length;
  }
  if (at !== t.elements) throw new FormatError(`tensor ${t.name} gave ${at} values, expected ${t.elements}`);
  return out;
}

/** Float dtypes and the ggml block types that have a dequantizer. */
function isFloatReadable(dtype: DType): boolean {
  if (dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F64') return true;
  return ggmlBlockType(dtype)?.dequantize !== undefined;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * A {@link DecoderSource} over an opened checkpoint. The constructor maps the checkpoint's names
 * to Hugging Face's and checks every tensor the config calls for, so a missing tensor or a shape
 * that disagrees with the config is reported before anything large is read.
 */
export class CheckpointDecoderSource implements DecoderSource {
  private readonly byName = new Map<string, TensorInfo>();
  private readonly rotaryHeads = new Map<string, number>();
  /** Projections stored in the GPTQ layout, dequantized when read. */
  private readonly packed = new Map<string, { readonly tensors: GptqPackedTensors; readonly inFeatures: number }>();
  readonly float32Bytes: number;

  constructor(
    readonly path: string,
    readonly files: readonly string[],
    private readonly checkpoint: Checkpoint,
    readonly naming: TensorNaming,
    readonly config: DecoderConfig,
    /** The config file's name, for messages about dims. */
    configName: string,
    /** Set when config.json declares GPTQ quantization: packed projections are then read dequantized. */
    gptq?: GptqCheckpointInfo,
  ) {
    for (const t of checkpoint.tensors) {
      const name = canonicalName(t.name, naming);
      if (name !== undefined) this.byName.set(name, t);
    }
    let bytes = 0;
    const where = basename(checkpoint.path);
    for (const want of decoderTensors(config)) {
      const t = this.byName.get(want.name);
      const stored = storedName(want.name, naming);
      const prefix = want.name.endsWith('.weight') ? want.name.slice(0, -'.weight'.length) : undefined;
      const gptqPacked = !t && gptq && prefix !== undefined && naming === 'hf' ? findGptqPacked((n) => this.byName.get(n), prefix, want.shape, gptq) : undefined;
      if (gptqPacked) {
        this.packed.set(want.name, { tensors: gptqPacked, inFeatures: want.shape[1] });
        bytes += want.shape[0] * want.shape[1] * 4;
        continue;
      }
      if (!t) {
        const packed = want.name.endsWith('.weight') && this.byName.has(`${want.name.slice(0, -'.weight'.length)}.qweight`);
        throw new FormatError(
          packed
            ? `${where} holds ${stored.replace(/\.weight$/, '.qweight')} instead of ${stored}: GPTQ/AWQ-packed weights are built only when config.json's quantization_config declares quant_method "gptq" (AutoGPTQ's layout)`
            : `${where} has no tensor ${stored}, which a ${config.modelType} decoder with this ${configName} needs`,
          { format: checkpoint.format },
        );
      }
      if (!sameShape(t.shape, want.shape)) {
        throw new FormatError(
          `tensor ${stored} has shape [${t.shape.join(', ')}] but ${configName} (${want.from}) implies [${want.shape.join(', ')}]`,
          { format: checkpoint.format },
        );
      }
      if (!isFloatReadable(t.dtype)) throw new FormatError(`tensor ${stored} is stored as ${t.dtype.replace(/^GGML_/, '')}, which cannot be read as float weights`, { format: checkpoint.format });
      // Meta's and llama.cpp's layouts interleave each head's rotary halves; Qwen2 GGUFs do not.
      if (want.rotaryHeads !== undefined && naming !== 'hf' && config.modelType === 'llama') this.rotaryHeads.set(want.name, want.rotaryHeads);
      bytes += t.elements * 4;
    }
    this.float32Bytes = bytes;
  }

  get format(): Checkpoint['format'] {
    return this.checkpoint.format;
  }

  tensor(name: string): TensorInfo | undefined {
    return this.byName.get(name);
  }

  async read(name: string): Promise<Float32Array> {
    const packed = this.packed.get(name);
    if (packed) return readGptqWeight(packed.tensors, name.slice(0, -'.weight'.length), packed.inFeatures);
    const t = this.byName.get(name);
    if (!t) throw new FormatError(`the checkpoint has no tensor ${storedName(name, this.naming)}`, { format: this.checkpoint.format });
    const values = await readFloat32(t);
    const heads = this.rotaryHeads.get(name);
    return heads === undefined ? values : unpermuteRotary(values, heads, t.shape.length === 2 ? t.shape[1] : 1);
  }
}
