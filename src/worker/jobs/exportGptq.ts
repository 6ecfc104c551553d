/**
 * The `exportGptq` job: a Hugging Face checkpoint quantized with GPTQ (Hessians from calibrating
 * its built decoder graph in ONNX Runtime) or RTN, and written as a new folder in AutoGPTQ's
 * GPTQ layout, which Transformers, vLLM and TGI load.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { openDecoderSource, type DecoderSource } from '../../core/decoder';
import { decoderTensors } from '../../core/decoder/decoderTensors';
import { FormatError } from '../../core/FormatError';
import { DEFAULT_HESSIAN_BUDGET } from '../../core/calibration/layerGroups';
import type { TensorInfo } from '../../core/formats/Checkpoint';
import { openCheckpoint } from '../../core/formats/registry';
import { littleEndianBytes, type SafetensorsTensor } from '../../core/formats/safetensors/safetensorsWriter';
import { writeSafetensorsShards } from '../../core/formats/safetensors/writeSafetensorsShards';
import { atomicWrite, TargetExistsError, WriteCancelledError } from '../../core/io/atomicWrite';
import { FileAccessor } from '../../core/io/FileAccessor';
import { isCancelledError } from '../../core/linalg/CancelledError';
import { quadraticTrace, quadraticTraceOfDifference } from '../../core/linalg/quadraticTrace';
import type { MatrixLike } from '../../core/linalg/Matrix';
import { OnnxModel } from '../../core/onnx/OnnxModel';
import { canonicalWeight, findWeightTargets } from '../../core/onnx/rewrite/weightTargets';
import { gptq } from '../../core/quant/gptq';
import { dequantizeGptq, gptqFromQuantized, gptqPack, packGptq, type GptqPacked } from '../../core/quant/gptqLayout';
import { gptqQuantizationConfig, type GptqSettings } from '../../core/quant/gptqQuantizeConfig';
import type { QuantizedWeight, QuantScheme } from '../../core/quant/QuantScheme';
import { quantizeRtn } from '../../core/quant/rtn';
import type { GptqExportParams, GptqExportReport, GptqLayerReport } from '../../protocol/gptqExportTypes';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { streamCalibration } from './layerCalibration';
import { resolveModelInput } from './modelInput';
import { transformInputs } from './transformInputs';

/** The projections AutoGPTQ quantizes in a Llama-family block; embeddings, norms and lm_head stay as they are. */
const PROJECTION = /^model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/;

/** Files beside the weights that a runtime loads with the model, copied unchanged. */
const COMPANION_FILES = ['tokenizer.json', 'tokenizer_config.json', 'tokenizer.model', 'special_tokens_map.json', 'added_tokens.json', 'vocab.json', 'merges.txt', 'generation_config.json'];

/** `<folder>-gptq-4bit-g128` beside the source folder (`-perchannel` for group −1), numbered when taken. */
export function gptqOutputFolder(sourceFolder: string, bits: number, groupSize: number, taken: (path: string) => boolean = existsSync): string {
  const base = `${sourceFolder.replace(/[\\/]+$/, '')}-gptq-${bits}bit-${groupSize === -1 ? 'perchannel' : `g${groupSize}`}`;
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? base : `${base}-${i}`;
    if (!taken(candidate)) return candidate;
  }
}

/** The settings with defaults, checked. */
function settingsOf(params: GptqExportParams): GptqSettings & { readonly rounding: 'gptq' | 'rtn' } {
  const bits = params.bits ?? 4;
  if (bits !== 4 && bits !== 8) throw new RangeError(`GPTQ safetensors are written at 4 or 8 bits, not ${String(bits)}`);
  const groupSize = params.groupSize ?? 128;
  if (groupSize !== -1 && !(Number.isInteger(groupSize) && groupSize > 0)) throw new RangeError(`the group size must be a positive integer or −1 (per channel), not ${String(groupSize)}`);
  const damping = params.damping ?? 0.01;
  if (!(damping > 0 && damping < 1)) throw new RangeError(`damping must be in (0, 1), not ${String(damping)}`);
  const rounding = params.rounding ?? 'gptq';
  if (rounding !== 'gptq' && rounding !== 'rtn') throw new RangeError(`rounding must be gptq or rtn, not ${String(rounding)}`);
  return { bits, groupSize, damping, symmetric: params.symmetric ?? true, actOrder: rounding === 'gptq' && (params.actOrder ?? false), quantizer: 'quantscope', rounding };
}

/** A Hugging Face checkpoint in safetensors with its config.json: the only source whose tensors can be copied as they are. */
function checkSource(source: DecoderSource): { configPath: string; weightsPath: string } {
  const [configPath, weightsPath] = source.files;
  if (source.format !== 'safetensors' || source.naming !== 'hf' || basename(configPath) !== 'config.json' || weightsPath === undefined) {
    throw new FormatError(`${basename(source.path)} is not a Hugging Face folder with config.json and safetensors weights; GPTQ safetensors are written from one (export a GGUF or Meta checkpoint's weights to that layout first)`, { format: 'decoder' });
  }
  return { configPath, weightsPath };
}

/** One layer's quantized weight, with the rounding that made it and the Hessian it was measured on. */
interface QuantizedModule {
  readonly packed: GptqPacked;
  readonly report: GptqLayerReport;
}

function schemeOf(s: GptqSettings): QuantScheme {
  return s.groupSize === -1 ? { bits: s.bits, symmetric: s.symmetric, granularity: 'channel' } : { bits: s.bits, symmetric: s.symmetric, granularity: 'group', groupSize: s.groupSize };
}

/** Packs `q` and measures the relative layer error of the weights as written (float16 scales). */
function finish(module: string, W: MatrixLike, q: QuantizedWeight, H: MatrixLike | undefined, rounding: 'gptq' | 'rtn'): QuantizedModule {
  const packed = packGptq(gptqFromQuantized(q));
  let relativeError: number | undefined;
  if (H !== undefined) {
    const written = { rows: W.rows, cols: W.cols, data: dequantizeGptq(packed) };
    const base = quadraticTrace(W, H);
    relativeError = base > 0 ? quadraticTraceOfDifference(W, written, H) / base : 0;
  }
  const report: GptqLayerReport = { module, inFeatures: W.cols, outFeatures: W.rows, rounding, ...(relativeError === undefined ? {} : { relativeError }) };
  return { packed, report };
}

/** Checks before any work that every projection packs into whole words. */
function checkShapes(source: DecoderSource, names: readonly string[], bits: 4 | 8): void {
  const pack = gptqPack(bits);
  for (const name of names) {
    const t = source.tensor(name);
    if (!t) throw new FormatError(`${basename(source.path)} stores ${name} packed already; quantize the float checkpoint instead`, { format: 'decoder' });
    const [out, inp] = t.shape;
    if (out % pack !== 0 || inp % pack !== 0) throw new RangeError(`${name} is ${out}×${inp}: the GPTQ layout at ${bits} bits needs both dimensions to be multiples of ${pack}`);
  }
}

/** RTN on every projection, read from the checkpoint. */
async function quantizeAllRtn(source: DecoderSource, names: readonly string[], s: GptqSettings, ctx: JobContext, done: Map<string, QuantizedModule>): Promise<void> {
  for (const [k, name] of names.entries()) {
    throwIfCancelled(ctx);
    if (done.has(name)) continue;
    ctx.progress(`rounding ${name}`, (0.7 * k) / names.length);
    const t = source.tensor(name);
    const W = { rows: t?.shape[0] ?? 0, cols: t?.shape[1] ?? 0, data: await source.read(name) };
    done.set(name, finish(name.slice(0, -'.weight'.length), W, quantizeRtn(W, schemeOf(s)), undefined, 'rtn'));
  }
}

/**
 * GPTQ on every projection the built graph's calibration reaches: the graph's MatMul weights are
 * named after the checkpoint's tensors, so each Hessian belongs to one projection. Layers without
 * a Hessian are left for RTN.
 */
async function quantizeGptq(params: GptqExportParams, names: readonly string[], s: GptqSettings, ctx: JobContext, done: Map<string, QuantizedModule>): Promise<Pick<GptqExportReport, 'calibrationBatches' | 'calibrationSynthetic' | 'decoder'>> {
  const input = await resolveModelInput(params.path, ctx);
  const model = await OnnxModel.load(input.onnx);
  const wanted = new Set(names);
  const targets = findWeightTargets(model).targets.filter((t) => wanted.has(t.weight));
  const inputs = await transformInputs(model, params, true);
  const byLayer = new Map(targets.map((t) => [t.layer, t]));
  let k = 0;
  const cal = await streamCalibration(model, targets, inputs.calib, DEFAULT_HESSIAN_BUDGET, ctx, (group, stats) => {
    for (const layer of group.layers) {
      throwIfCancelled(ctx);
      const target = byLayer.get(layer);
      const h = stats.get(layer);
      if (!target || !h) continue;
      ctx.progress(`GPTQ on ${target.weight}`, 0.7 * (k++ / targets.length));
      const W = { rows: target.outFeatures, cols: target.inFeatures, data: canonicalWeight(model, target) };
      const H = { rows: target.inFeatures, cols: target.inFeatures, data: h.hessian };
      const q = gptq(W, H, { scheme: schemeOf(s), actOrder: s.actOrder, percdamp: s.damping, isCancelled: ctx.isCancelled });
      done.set(target.weight, finish(target.weight.slice(0, -'.weight'.length), W, q, H, 'gptq'));
    }
  });
  return { calibrationBatches: cal.batches, calibrationSynthetic: inputs.calibSynthetic, ...(input.decoder ? { decoder: input.decoder } : {}) };
}

/** The output tensors in the source's order: a projection's weight becomes its four GPTQ tensors, everything else is copied byte for byte. */
function outputTensors(tensors: readonly TensorInfo[], modules: ReadonlyMap<string, QuantizedModule>, files: Map<string, FileAccessor>): { list: SafetensorsTensor[]; copied: number } {
  const list: SafetensorsTensor[] = [];
  let copied = 0;
  for (const t of tensors) {
    const m = modules.get(t.name);
    if (m) {
      const p = m.packed, pack = gptqPack(p.bits);
      const prefix = t.name.slice(0, -'.weight'.length);
      list.push(
        { name: `${prefix}.qweight`, dtype: 'I32', shape: [p.inFeatures / pack, p.outFeatures], data: littleEndianBytes(p.qweight) },
        { name: `${prefix}.qzeros`, dtype: 'I32', shape: [p.groups, p.outFeatures / pack], data: littleEndianBytes(p.qzeros) },
        { name: `${prefix}.scales`, dtype: 'F16', shape: [p.groups, p.outFeatures], data: littleEndianBytes(p.scales) },
        { name: `${prefix}.g_idx`, dtype: 'I32', shape: [p.inFeatures], data: littleEndianBytes(p.gIdx) },
      );
      continue;
    }
    const src = t.source;
    if (src.kind !== 'file') throw new FormatError(`tensor ${t.name} is not stored as a byte range of a file and cannot be copied`);
    list.push({
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      data: async () => {
        let file = files.get(src.path);
        if (!file) files.set(src.path, (file = await FileAccessor.open(src.path)));
        return file.read(src.offset, src.length, undefined, t.name);
      },
    });
    copied++;
  }
  return { list, copied };
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await atomicWrite(path, [new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`)]);
}

/**
 * Quantizes the projections of the checkpoint at `params.path` and writes a new folder (never an
 * existing one, never the source) with the GPTQ-layout safetensors (sharded past
 * `maxShardBytes`), `config.json` with `quantization_config`, `quantize_config.json`, and the
 * tokenizer files. Everything is written into a temporary folder beside the target, reopened and
 * checked, then renamed into place; a failure or a cancellation leaves nothing.
 */
export async function exportGptq(params: GptqExportParams, ctx: JobContext): Promise<GptqExportReport> {
  const t0 = performance.now();
  const s = settingsOf(params);
  ctx.progress('reading the checkpoint', 0);
  const source = await openDecoderSource(params.path);
  const { configPath, weightsPath } = checkSource(source);
  const folder = dirname(configPath);
  const output = params.output ?? gptqOutputFolder(folder, s.bits, s.groupSize);
  if (existsSync(output)) throw new TargetExistsError(`${output} already exists; choose another folder`);
  if (!existsSync(dirname(output))) throw new FormatError(`${dirname(output)}, where ${basename(output)} would go, does not exist`);
  const names = decoderTensors(source.config).map((t) => t.name).filter((n) => PROJECTION.test(n));
  checkShapes(source, names, s.bits);

  const modules = new Map<string, QuantizedModule>();
  const files = new Map<string, FileAccessor>();
  const temp = join(dirname(output), `.${basename(output)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const cal = s.rounding === 'gptq' ? await quantizeGptq(params, names, s, ctx, modules) : { calibrationBatches: 0, calibrationSynthetic: false };
    // Projections calibration did not reach are rounded to nearest.
    await quantizeAllRtn(source, names, s, ctx, modules);
    const tq = performance.now();

    const checkpoint = await openCheckpoint(weightsPath);
    const { list, copied } = outputTensors(checkpoint.tensors, modules, files);
    await mkdir(temp);
    const written = await writeSafetensorsShards(temp, list, {
      maxShardBytes: params.maxShardBytes,
      metadata: { format: 'pt' },
      isCancelled: ctx.isCancelled,
      onShard: (name, i, n) => ctx.progress(`writing ${name}`, 0.7 + (0.25 * i) / n),
    });
    const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    const quantization = gptqQuantizationConfig(s);
    await writeJson(join(temp, 'config.json'), { ...config, quantization_config: quantization });
    await writeJson(join(temp, 'quantize_config.json'), quantization);
    const outFiles = [...written.files, 'config.json', 'quantize_config.json'];
    for (const name of COMPANION_FILES) {
      if (!existsSync(join(folder, name))) continue;
      await copyFile(join(folder, name), join(temp, name));
      outFiles.push(name);
    }
    throwIfCancelled(ctx);
    ctx.progress('checking the written files', 0.95);
    // Reopening validates every shard's header against its size.
    const reopened = await openCheckpoint(join(temp, written.files[written.files.length - 1]));
    if (reopened.tensors.length !== list.length) throw new FormatError(`the written checkpoint lists ${reopened.tensors.length} tensors, expected ${list.length}`);
    if (existsSync(output)) throw new TargetExistsError(`${output} appeared while the checkpoint was written; it was left alone`);
    await rename(temp, output);
    const tw = performance.now();
    ctx.progress('done', 1);
    return {
      source: params.path,
      output,
      files: outFiles.sort(),
      bits: s.bits,
      groupSize: s.groupSize,
      symmetric: s.symmetric,
      actOrder: s.actOrder,
      rounding: s.rounding,
      layers: names.map((n) => modules.get(n)?.report).filter((r): r is GptqLayerReport => r !== undefined),
      copiedTensors: copied,
      sourceBytes: checkpoint.fileSize,
      outputBytes: written.bytes,
      ...cal,
      seconds: { calibrateAndQuantize: (tq - t0) / 1000, write: (tw - tq) / 1000, total: (tw - t0) / 1000 },
    };
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    if (isCancelledError(e) || e instanceof WriteCancelledError) throw new CancelledError();
    throw e;
  } finally {
    for (const f of files.values()) await f.close();
  }
}

