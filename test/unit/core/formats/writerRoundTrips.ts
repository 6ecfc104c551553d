/**
 * Property tests for every writer: random seeded content (shapes, dtypes, names, metadata) is
 * written, read back with our own readers, and compared exactly. Registered by fuzz.test.ts so
 * one file runs every fuzz test at one size.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Checkpoint } from '../../../../src/core/formats/Checkpoint';
import { GGUF_VALUE_TYPE as VT, type GgufArray, type GgufEntry, type GgufScalar, type GgufValueType } from '../../../../src/core/formats/gguf/GgufMetadata';
import { readGgufEntries } from '../../../../src/core/formats/gguf/readGgufEntries';
import { alignmentEntry, writeGguf, type GgufTensorOut } from '../../../../src/core/formats/gguf/writeGguf';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { littleEndianBytes, writeSafetensors, type SafetensorsTensor } from '../../../../src/core/formats/safetensors/safetensorsWriter';
import { writeSafetensorsShards } from '../../../../src/core/formats/safetensors/writeSafetensorsShards';
import { FileAccessor } from '../../../../src/core/io/FileAccessor';
import { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { ElementType } from '../../../../src/core/onnx/onnxMessages';
import { gptqPack, packGptq, unpackGptq, gptqFromTensors, type GptqBits, type GptqLinear } from '../../../../src/core/quant/gptqLayout';
import { seededRandom } from '../../../../src/core/random/seededRandom';
import type { DType } from '../../../../src/core/tensor/DType';
import { f16Lookup } from '../../../../src/core/tensor/floatTables';
import { GGML_TYPES } from '../../../../src/core/tensor/ggmlBlocks';
import type { TensorInfo } from '../../../../src/core/tensor/TensorInfo';
import { tensorBytes } from '../../../../src/core/tensor/tensorBytes';
import { caseSeed, replayHint, type FuzzSettings } from '../../support/fuzzSettings';
import { fixture } from '../../support/paths';

/** A seeded source of the random pieces the generators need. */
class Draw {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  of<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** Names with dots, slashes, spaces, quotes and non-ASCII, which headers must escape or keep. */
  name(): string {
    const alphabet = ['a', 'b', 'z', '0', '9', '.', '_', '/', '-', ' ', '"', '\\', 'é', '日', '🙂', ':'];
    const n = 1 + this.int(24);
    let s = '';
    for (let i = 0; i < n; i++) s += this.of(alphabet);
    return s;
  }
  shape(maxRank: number, maxDim: number): number[] {
    return Array.from({ length: this.int(maxRank + 1) }, () => this.int(maxDim + 1));
  }
}

/** Every byte of a listed tensor, gathered from its source. */
async function storedBytes(t: TensorInfo): Promise<Uint8Array> {
  const out = new Uint8Array(t.byteLength);
  let at = 0;
  for await (const piece of tensorBytes(t.source, t.name, t.byteLength, 1, new Uint8Array(1 << 16))) {
    out.set(piece, at);
    at += piece.length;
  }
  assert.equal(at, t.byteLength, `${t.name}: read ${at} of ${t.byteLength} bytes`);
  return out;
}

/** Byte equality that does not care whether either side is a Buffer. */
function sameBytes(actual: Uint8Array, expected: Uint8Array, message: string): void {
  assert.deepEqual(new Uint8Array(actual), new Uint8Array(expected), message);
}

function byName(ckpt: Checkpoint): Map<string, TensorInfo> {
  return new Map(ckpt.tensors.map((t) => [t.name, t]));
}

const SAFETENSORS_DTYPES: readonly [DType, number][] = [
  ['F64', 8], ['F32', 4], ['F16', 2], ['BF16', 2], ['F8_E4M3', 1], ['F8_E5M2', 1],
  ['I64', 8], ['I32', 4], ['I16', 2], ['I8', 1], ['U64', 8], ['U32', 4], ['U16', 2], ['U8', 1], ['BOOL', 1],
];

/** Random tensors with distinct names, half of them produced lazily the way the exporters hand them over. */
function safetensorsTensors(draw: Draw, count: number): SafetensorsTensor[] {
  const names = new Set<string>();
  const tensors: SafetensorsTensor[] = [];
  while (tensors.length < count) {
    const name = draw.name();
    if (names.has(name) || name === '__metadata__') continue;
    names.add(name);
    const [dtype, size] = draw.of(SAFETENSORS_DTYPES);
    const shape = draw.shape(4, 6);
    const bytes = draw.bytes(shape.reduce((a, b) => a * b, 1) * size);
    if (dtype === 'BOOL') for (let i = 0; i < bytes.length; i++) bytes[i] &= 1;
    tensors.push({ name, dtype, shape, data: draw.int(2) === 0 ? bytes : () => bytes });
  }
  return tensors;
}

/** Checks that every tensor of `tensors` is in `back` with its dtype, shape and bytes. */
async function sameTensors(back: Checkpoint, tensors: readonly SafetensorsTensor[]): Promise<void> {
  const read = byName(back);
  assert.equal(read.size, tensors.length);
  for (const t of tensors) {
    const r = read.get(t.name);
    assert.ok(r, `tensor ${JSON.stringify(t.name)} was not read back`);
    assert.equal(r.dtype, t.dtype, t.name);
    assert.deepEqual(r.shape, t.shape, t.name);
    const want = typeof t.data === 'function' ? await t.data() : t.data;
    sameBytes(await storedBytes(r), want, `${t.name}: bytes differ`);
  }
}

async function safetensorsShardsCase(draw: Draw, target: string): Promise<void> {
  const folder = `${target}.d`;
  mkdirSync(folder);
  try {
    const tensors = safetensorsTensors(draw, 1 + draw.int(8));
    // Small shard limits, so that most cases split, and some tensors exceed a shard on their own.
    const written = await writeSafetensorsShards(folder, tensors, { maxShardBytes: 1 + draw.int(256), metadata: { format: 'pt' } });
    const opened = written.files[written.files.length - 1];
    await sameTensors(await openCheckpoint(join(folder, opened)), tensors);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function safetensorsCase(draw: Draw, target: string): Promise<void> {
  const tensors = safetensorsTensors(draw, draw.int(7));
  const metadata: Record<string, string> = {};
  for (let i = draw.int(4); i > 0; i--) metadata[draw.name()] = draw.name();
  const withMetadata = draw.int(3) !== 0;
  await writeSafetensors(target, tensors, withMetadata ? { metadata } : {});
  const back = await openCheckpoint(target);
  assert.equal(back.format, 'safetensors');
  assert.deepEqual(back.metadata, withMetadata ? metadata : {});
  await sameTensors(back, tensors);
}

const SCALAR_TYPES: readonly GgufValueType[] = [VT.U8, VT.I8, VT.U16, VT.I16, VT.U32, VT.I32, VT.F32, VT.BOOL, VT.STRING, VT.U64, VT.I64, VT.F64];

/** A value of `type` as the reader gives it back: 64-bit integers are numbers when exact, bigints beyond. */
function scalarOf(draw: Draw, type: GgufValueType): GgufScalar {
  const int = (bits: number, signed: boolean): number => {
    const v = draw.int(2 ** bits);
    return signed ? v - 2 ** (bits - 1) : v;
  };
  switch (type) {
    case VT.U8: return int(8, false);
    case VT.I8: return int(8, true);
    case VT.U16: return int(16, false);
    case VT.I16: return int(16, true);
    case VT.U32: return int(32, false);
    case VT.I32: return int(32, true);
    case VT.F32: return Math.fround(draw.of([0, -0, 1e-45, 3.4e38, Infinity, -Infinity, NaN, (draw.next() - 0.5) * 1e6]));
    case VT.BOOL: return draw.int(2) === 1;
    case VT.STRING: return draw.int(5) === 0 ? '' : draw.name();
    case VT.U64: return draw.int(2) === 0 ? draw.int(2 ** 40) : 0xffffffffffffffffn - BigInt(draw.int(1000));
    case VT.I64: return draw.int(2) === 0 ? -draw.int(2 ** 40) : -(1n << 63n) + BigInt(draw.int(1000));
    default: return draw.of([0, -0, 5e-324, Number.MAX_VALUE, NaN, -Infinity, (draw.next() - 0.5) * 1e300]);
  }
}

function arrayOf(draw: Draw, depth: number): GgufArray {
  const n = draw.int(6);
  if (depth < 2 && draw.int(4) === 0) return { itemType: VT.ARRAY, items: Array.from({ length: n }, () => arrayOf(draw, depth + 1)) };
  const itemType = draw.of(SCALAR_TYPES);
  return { itemType, items: Array.from({ length: n }, () => scalarOf(draw, itemType)) };
}

async function ggufCase(draw: Draw, target: string): Promise<void> {
  const metadata: GgufEntry[] = [];
  const keys = new Set<string>(['general.alignment']);
  if (draw.int(3) === 0) metadata.push(alignmentEntry(2 ** draw.int(8)));
  for (let i = draw.int(8); i > 0; i--) {
    const key = draw.name();
    if (keys.has(key)) continue;
    keys.add(key);
    if (draw.int(4) === 0) metadata.push({ key, type: VT.ARRAY, value: arrayOf(draw, 0) });
    else {
      const type = draw.of(SCALAR_TYPES);
      metadata.push({ key, type, value: scalarOf(draw, type) });
    }
  }
  const tensors: (GgufTensorOut & { readonly bytes: Uint8Array })[] = [];
  const names = new Set<string>();
  for (let i = draw.int(6); i > 0; i--) {
    const name = draw.name();
    if (names.has(name)) continue;
    names.add(name);
    const type = draw.of(GGML_TYPES);
    const shape = [draw.int(3) + 1, ...draw.shape(2, 3).map((d) => d + 1)];
    // Rows (the last numpy axis) must hold whole blocks.
    shape[shape.length - 1] = type.blockSize * (1 + draw.int(type.blockSize > 1 ? 2 : 5));
    const elements = shape.reduce((a, b) => a * b, 1);
    const bytes = draw.bytes((elements / type.blockSize) * type.typeSize);
    tensors.push({ name, shape, type, bytes, data: () => Promise.resolve(bytes) });
  }
  await writeGguf(target, { metadata, tensors });

  const file = await FileAccessor.open(target);
  assert.deepEqual(await readGgufEntries(file), metadata);
  const back = await openCheckpoint(target);
  assert.equal(back.format, 'gguf');
  const read = byName(back);
  assert.equal(read.size, tensors.length);
  for (const t of tensors) {
    const r = read.get(t.name);
    assert.ok(r, `tensor ${JSON.stringify(t.name)} was not read back`);
    assert.deepEqual(r.shape, t.shape, t.name);
    sameBytes(await storedBytes(r), t.bytes, `${t.name}: bytes differ`);
  }
}

/** ONNX element types with a fixed size, and how many bytes one element takes. */
const ONNX_TYPES: readonly [number, number][] = [
  [ElementType.FLOAT, 4], [ElementType.UINT8, 1], [ElementType.INT8, 1], [ElementType.UINT16, 2], [ElementType.INT16, 2],
  [ElementType.INT32, 4], [ElementType.INT64, 8], [ElementType.BOOL, 1], [ElementType.FLOAT16, 2], [ElementType.DOUBLE, 8],
  [ElementType.UINT32, 4], [ElementType.UINT64, 8], [ElementType.BFLOAT16, 2],
];

async function onnxCase(draw: Draw, source: OnnxModel, target: string): Promise<void> {
  const model = source.clone();
  const added = new Map<string, { dataType: number; dims: number[]; bytes: Uint8Array }>();
  const used = model.usedNames();
  for (let i = 1 + draw.int(5); i > 0; i--) {
    const name = draw.name();
    if (used.has(name) || added.has(name)) continue;
    const [dataType, size] = draw.of(ONNX_TYPES);
    const dims = draw.shape(3, 5);
    const bytes = draw.bytes(dims.reduce((a, b) => a * b, 1) * size);
    if (dataType === ElementType.BOOL) for (let k = 0; k < bytes.length; k++) bytes[k] &= 1;
    model.setInitializer(name, dataType, dims, bytes);
    added.set(name, { dataType, dims, bytes });
  }
  const metadata = new Map<string, string>();
  for (let i = draw.int(4); i > 0; i--) {
    const k = draw.name(), v = draw.name();
    model.setMetadata(k, v);
    metadata.set(k, v);
  }
  const externalData = draw.of(['never', 'always'] as const);
  await model.save(target, { externalData });

  const back = await OnnxModel.load(target);
  for (const [k, v] of metadata) assert.equal(back.getMetadata(k), v, `metadata ${JSON.stringify(k)}`);
  for (const [name, t] of added) {
    assert.deepEqual(back.tensorInfo(name), { dataType: t.dataType, dims: t.dims }, name);
    sameBytes(back.getTensorBytes(name), t.bytes, `${name}: bytes differ (external data ${externalData})`);
  }
  // The originals survive an edit and a save byte for byte, too.
  for (const init of source.graph.initializer ?? []) {
    if (init.name === undefined) continue;
    sameBytes(back.getTensorBytes(init.name), source.getTensorBytes(init.name), init.name);
  }
  // And the registry's reader, which scans the wire without the editor's codec, agrees.
  const listed = byName(await openCheckpoint(target));
  for (const [name, t] of added) {
    const r = listed.get(name);
    assert.ok(r, `initializer ${JSON.stringify(name)} was not listed`);
    assert.deepEqual(r.shape, t.dims, name);
    sameBytes(await storedBytes(r), t.bytes, `${name}: bytes differ in the registry's reader`);
  }
}

async function gptqCase(draw: Draw, target: string): Promise<void> {
  const bits: GptqBits = draw.of([4, 8] as const);
  const pack = gptqPack(bits);
  const inFeatures = pack * (1 + draw.int(6)), outFeatures = pack * (1 + draw.int(4));
  const groups = 1 + draw.int(Math.min(inFeatures, 8));
  const levels = 2 ** bits;
  const f16 = f16Lookup();
  const scales = new Float32Array(groups * outFeatures);
  for (let i = 0; i < scales.length; i++) {
    // Any finite float16 is a scale the layout must carry exactly.
    let h: number;
    do h = draw.int(0x10000); while ((h & 0x7c00) === 0x7c00);
    scales[i] = f16[h];
  }
  const layer: GptqLinear = {
    bits, inFeatures, outFeatures,
    codes: Uint8Array.from({ length: inFeatures * outFeatures }, () => draw.int(levels)),
    // v1 stores z − 1, and the packer keeps the all-ones field out, so 1 … 2^bits − 1.
    zeros: Uint16Array.from({ length: groups * outFeatures }, () => 1 + draw.int(levels - 1)),
    scales,
    gIdx: Int32Array.from({ length: inFeatures }, () => draw.int(groups)),
  };
  const p = packGptq(layer);
  const prefix = `model.layers.${draw.int(40)}.self_attn.q_proj`;
  await writeSafetensors(target, [
    { name: `${prefix}.qweight`, dtype: 'I32', shape: [p.inFeatures / pack, p.outFeatures], data: littleEndianBytes(p.qweight) },
    { name: `${prefix}.qzeros`, dtype: 'I32', shape: [p.groups, p.outFeatures / pack], data: littleEndianBytes(p.qzeros) },
    { name: `${prefix}.scales`, dtype: 'F16', shape: [p.groups, p.outFeatures], data: littleEndianBytes(p.scales) },
    { name: `${prefix}.g_idx`, dtype: 'I32', shape: [p.inFeatures], data: littleEndianBytes(p.gIdx) },
  ]);

  const read = byName(await openCheckpoint(target));
  const get = async (suffix: string): Promise<{ shape: readonly number[]; bytes: Uint8Array }> => {
    const t = read.get(`${prefix}.${suffix}`);
    assert.ok(t, `${prefix}.${suffix} was not read back`);
    return { shape: t.shape, bytes: await storedBytes(t) };
  };
  const [qweight, qzeros, scalesT, gIdx] = await Promise.all(['qweight', 'qzeros', 'scales', 'g_idx'].map(get));
  const i32 = (b: Uint8Array): Int32Array => new Int32Array(b.slice().buffer);
  const back = unpackGptq(gptqFromTensors(prefix,
    { qweight: qweight.shape, qzeros: qzeros.shape, scales: scalesT.shape, gIdx: gIdx.shape },
    { qweight: i32(qweight.bytes), qzeros: i32(qzeros.bytes), scales: new Uint16Array(scalesT.bytes.slice().buffer), gIdx: i32(gIdx.bytes) },
    inFeatures));
  assert.equal(back.bits, bits);
  assert.deepEqual(back.codes, layer.codes, 'codes differ');
  assert.deepEqual(back.zeros, layer.zeros, 'zero points differ');
  assert.deepEqual(back.gIdx, layer.gIdx, 'g_idx differs');
  // Compared as bit patterns, so -0 and the smallest subnormals count too.
  assert.deepEqual(new Uint32Array(back.scales.buffer), new Uint32Array(layer.scales.buffer), 'scales differ');
}

/** Registers the writer round-trip property tests. */
export function writerRoundTrips(settings: FuzzSettings, tmp: string): void {
  const run = async (label: string, cases: number, one: (draw: Draw, target: string) => Promise<void>, ext: string): Promise<void> => {
    const dir = mkdtempSync(join(tmp, `w-${label}-`));
    for (let i = 0; i < cases; i++) {
      const seed = caseSeed(settings.seed, `writer ${label}`, i);
      const target = join(dir, `case${i}.${ext}`);
      try {
        await one(new Draw(seed), target);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        assert.fail(`${label} writer case ${i} (case seed 0x${seed.toString(16)}): ${why}\n${replayHint(settings, i)}`);
      }
      rmSync(target, { force: true });
      rmSync(`${target}.data`, { force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const cases = 4 * settings.iterations;
  describe('fuzz: what every writer writes reads back exactly', () => {
    it('safetensors: random names, dtypes, shapes and metadata', () => run('safetensors', cases, safetensorsCase, 'safetensors'));
    it('safetensors shards: random tensors split by small shard limits, read through the index', () => run('shards', cases, safetensorsShardsCase, 'safetensors'));
    it('GGUF: random typed metadata, alignments, ggml types and shapes', () => run('gguf', cases, ggufCase, 'gguf'));
    it('ONNX editor: random initializers and metadata, inline and external data', async () => {
      const source = await OnnxModel.load(fixture('workspace', 'tiny_mlp.onnx'));
      await run('onnx', cases, (draw, target) => onnxCase(draw, source, target), 'onnx');
    });
    it('GPTQ layout: random bits, groups, g_idx, codes, zero points and float16 scales', () => run('gptq', cases, gptqCase, 'safetensors'));
  });
}
