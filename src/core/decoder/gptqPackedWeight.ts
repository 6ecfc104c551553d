/**
 * A projection stored in AutoGPTQ's layout (`qweight`, `qzeros`, `scales`, `g_idx`) read back as
 * float32 weights, so that a GPTQ checkpoint can be built into a float decoder graph.
 */
import { FormatError } from '../FormatError';
import type { TensorInfo } from '../formats/Checkpoint';
import { FileAccessor } from '../io/FileAccessor';
import { dequantizeGptq, gptqFromTensors } from '../quant/gptqLayout';

/** The stored tensors of one packed projection. */
export interface GptqPackedTensors {
  readonly qweight: TensorInfo;
  readonly qzeros: TensorInfo;
  readonly scales: TensorInfo;
  readonly gIdx?: TensorInfo;
}

/** What `config.json`'s `quantization_config` says about packed weights, when it declares GPTQ. */
export interface GptqCheckpointInfo {
  /** `gptq` (v1, zero − 1 stored) or `gptq_v2`. */
  readonly checkpointFormat: string;
}

/** The GPTQ declaration of a parsed `config.json`, or undefined when it declares none. */
export function gptqCheckpointInfo(config: unknown): GptqCheckpointInfo | undefined {
  const q = typeof config === 'object' && config !== null ? (config as { quantization_config?: unknown }).quantization_config : undefined;
  if (typeof q !== 'object' || q === null) return undefined;
  const { quant_method: method, checkpoint_format: format } = q as { quant_method?: unknown; checkpoint_format?: unknown };
  if (method !== 'gptq') return undefined;
  return { checkpointFormat: typeof format === 'string' ? format : 'gptq' };
}

const fail = (message: string): FormatError => new FormatError(message, { format: 'safetensors' });

/**
 * The packed tensors standing for `prefix.weight` of shape [out, in], checked against the layout
 * (dtypes, and shapes that agree with [out, in]) before anything is read.
 *
 * @throws {FormatError} naming the tensor that does not fit, or the v2 format, which is not read.
 */
export function findGptqPacked(lookup: (name: string) => TensorInfo | undefined, prefix: string, shape: readonly number[], info: GptqCheckpointInfo): GptqPackedTensors | undefined {
  const qweight = lookup(`${prefix}.qweight`), qzeros = lookup(`${prefix}.qzeros`), scales = lookup(`${prefix}.scales`), gIdx = lookup(`${prefix}.g_idx`);
  if (!qweight) return undefined;
  if (info.checkpointFormat !== 'gptq') throw fail(`${prefix} is packed in checkpoint_format ${JSON.stringify(info.checkpointFormat)}; only AutoGPTQ's "gptq" layout (zero points stored minus one) is read`);
  if (!qzeros || !scales) throw fail(`${prefix}.qweight has no ${qzeros ? 'scales' : 'qzeros'} beside it`);
  for (const [t, dtype] of [[qweight, 'I32'], [qzeros, 'I32'], [scales, 'F16'], [gIdx, 'I32']] as const) {
    if (t && t.dtype !== dtype) throw fail(`${t.name} is ${t.dtype}; the GPTQ layout stores it as ${dtype}`);
  }
  const [out, inp] = shape;
  try {
    gptqFromTensors(prefix, { qweight: qweight.shape, qzeros: qzeros.shape, scales: scales.shape, gIdx: gIdx?.shape }, { qweight: new Int32Array(0), qzeros: new Int32Array(0), scales: new Uint16Array(0), gIdx: gIdx ? new Int32Array(inp) : undefined }, inp);
  } catch (e) {
    throw fail(e instanceof Error ? e.message : String(e));
  }
  if (qweight.shape[1] !== out) throw fail(`${prefix}.qweight has ${qweight.shape[1]} output channels, but the config implies ${out}`);
  return gIdx ? { qweight, qzeros, scales, gIdx } : { qweight, qzeros, scales };
}

/** A tensor's stored bytes, copied into a fresh aligned buffer. */
async function rawBytes(t: TensorInfo): Promise<ArrayBuffer> {
  if (t.source.kind !== 'file') throw fail(`${t.name} is not a byte range of a file`);
  const file = await FileAccessor.open(t.source.path);
  try {
    const bytes = await file.read(t.source.offset, t.source.length, undefined, t.name);
    return bytes.slice().buffer;
  } finally {
    await file.close();
  }
}

/** The float32 weight [out, in] a packed projection stands for: f32(f16 scale · (q − z)). */
export async function readGptqWeight(p: GptqPackedTensors, prefix: string, inFeatures: number): Promise<Float32Array> {
  const qweight = new Int32Array(await rawBytes(p.qweight));
  const qzeros = new Int32Array(await rawBytes(p.qzeros));
  const scales = new Uint16Array(await rawBytes(p.scales));
  const gIdx = p.gIdx ? new Int32Array(await rawBytes(p.gIdx)) : undefined;
  try {
    const packed = gptqFromTensors(prefix, { qweight: p.qweight.shape, qzeros: p.qzeros.shape, scales: p.scales.shape, gIdx: p.gIdx?.shape }, { qweight, qzeros, scales, gIdx }, inFeatures);
    return dequantizeGptq(packed);
  } catch (e) {
    throw fail(e instanceof Error ? e.message : String(e));
  }
}
