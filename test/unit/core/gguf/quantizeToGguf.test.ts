import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDecoder, openDecoderSource } from '../../../../src/core/decoder';
import { gguf, GGUF_VALUE_TYPE as VT, type GgufEntry } from '../../../../src/core/formats/gguf/GgufMetadata';
import { readGgufEntries } from '../../../../src/core/formats/gguf/readGgufEntries';
import { writeGguf } from '../../../../src/core/formats/gguf/writeGguf';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { parseGgufTarget } from '../../../../src/core/gguf/ggufTypeRules';
import { quantizeToGguf } from '../../../../src/core/gguf/quantizeToGguf';
import { FileAccessor } from '../../../../src/core/io/FileAccessor';
import { encodeGgml, writableGgmlType } from '../../../../src/core/tensor/ggmlQuantizers';
import { readTensor } from '../../../../src/core/tensor/TensorReader';
import { DecoderRunner, reference, relativeError } from '../decoder/decoderRuns';
import { fixture } from '../../support/paths';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quantscope-gguf-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Next-token logits of the decoder at `path` (any source) on the fixture's reference tokens. */
async function logits(path: string, tokens: readonly number[]): Promise<Float32Array> {
  const source = await openDecoderSource(path);
  const runner = await DecoderRunner.open(await buildDecoder(source), source.config);
  try {
    return (await runner.step([tokens], runner.emptyCache(), 0)).logits;
  } finally {
    await runner.release();
  }
}

describe('GGUF writer', () => {
  it('writes metadata of every value type, arrays included, and the reader gets them back with their types', async () => {
    const metadata: GgufEntry[] = [
      gguf.str('general.architecture', 'test'),
      { key: 'u8', type: VT.U8, value: 200 }, { key: 'i8', type: VT.I8, value: -5 },
      { key: 'u16', type: VT.U16, value: 60000 }, { key: 'i16', type: VT.I16, value: -30000 },
      gguf.u32('u32', 4e9), gguf.i32('i32', -2e9), gguf.f32('f32', 0.5), gguf.bool('bool', true),
      { key: 'u64', type: VT.U64, value: 2n ** 60n }, { key: 'i64', type: VT.I64, value: -7 }, { key: 'f64', type: VT.F64, value: Math.PI },
      gguf.array('strings', VT.STRING, ['a', 'é', '']),
      gguf.array('floats', VT.F32, [1, -2]),
      { key: 'nested', type: VT.ARRAY, value: { itemType: VT.ARRAY, items: [{ itemType: VT.I32, items: [1, 2] }, { itemType: VT.I32, items: [] }] } },
      gguf.u32('general.alignment', 64),
    ];
    const x = Float32Array.from({ length: 2 * 256 }, (_, i) => Math.sin(i));
    const q4k = writableGgmlType('q4_k')!;
    const f32 = writableGgmlType('f32')!;
    const path = join(dir, 'kv.gguf');
    await writeGguf(path, { metadata, tensors: [
      { name: 'norm', shape: [3], type: f32, data: () => Promise.resolve(new Uint8Array(new Float32Array([1, 2, 3]).buffer)) },
      { name: 'w', shape: [2, 256], type: q4k, data: () => Promise.resolve(encodeGgml(q4k, x)) },
    ] });
    const back = await readGgufEntries(await FileAccessor.open(path));
    assert.deepEqual(back, metadata);
    const ckpt = await openCheckpoint(path);
    assert.deepEqual(ckpt.tensors.map((t) => [t.name, t.dtype, t.shape]), [['norm', 'F32', [3]], ['w', 'GGML_Q4_K', [2, 256]]]);
    for (const t of ckpt.tensors) assert.equal(t.source.kind === 'file' ? t.source.offset % 64 : -1, 0, `${t.name} is 64-aligned`);
    const w = await readTensor(ckpt.tensors[1]);
    assert.ok(relativeError(w, x) < 0.1);
    await assert.rejects(writeGguf(path, { metadata, tensors: [] }), /already exists/);
  });

  it('leaves no file when a tensor fails or a key repeats', async () => {
    const path = join(dir, 'bad.gguf');
    const f32 = writableGgmlType('f32')!;
    await assert.rejects(writeGguf(path, { metadata: [gguf.u32('a', 1), gguf.u32('a', 2)], tensors: [] }), /given twice/);
    await assert.rejects(writeGguf(path, { metadata: [], tensors: [{ name: 't', shape: [4], type: f32, data: () => Promise.resolve(new Uint8Array(3)) }] }), /3 bytes given/);
    await assert.rejects(writeGguf(path, { metadata: [], tensors: [{ name: 't', shape: [2, 100], type: writableGgmlType('q4_0')!, data: () => Promise.resolve(new Uint8Array(0)) }] }), /not whole Q4_0 blocks/);
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('bad') || n.includes('.bad.gguf.')), []);
  });
});

describe('quantize to GGUF', () => {
  it('converts a Hugging Face llama folder: llama.cpp names, permuted Q/K, and the same logits once read back', async () => {
    const src = join(dir, 'llama');
    await cp(fixture('decoder', 'llama'), src, { recursive: true });
    const ref = reference('llama');
    const report = await quantizeToGguf(src, { target: parseGgufTarget('f32') });
    assert.equal(report.output, join(src, 'llama.f32.gguf'));
    assert.equal(report.architecture, 'llama');
    assert.ok(report.tensors.some((t) => t.name === 'blk.1.attn_q.weight'));
    assert.ok(report.warnings.some((w) => /no tokenizer\.json/.test(w)));
    assert.equal(report.bitsPerWeight, 32);
    const md = (await openCheckpoint(report.output)).metadata;
    assert.equal(md['llama.attention.head_count'], 4);
    assert.equal(md['general.file_type'], 0);
    const err = relativeError(await logits(report.output, ref.tokens), ref.logits.flat());
    assert.ok(err < 1e-4, `F32 GGUF logits differ from the reference by ${err}`);

    const q8 = await quantizeToGguf(src, { target: parseGgufTarget('q8_0') });
    assert.ok(q8.bitsPerWeight > 8 && q8.bitsPerWeight < 9.5, `Q8_0 bpw ${q8.bitsPerWeight}`);
    const e8 = relativeError(await logits(q8.output, ref.tokens), ref.logits.flat());
    assert.ok(e8 < 0.03, `Q8_0 logits error ${e8}`);
  });

  it('converts Qwen2 (biases, no rotary permutation) losslessly in F32, and Mistral as llama with a warning about its window', async () => {
    const src = join(dir, 'qwen2');
    await cp(fixture('decoder', 'qwen2'), src, { recursive: true });
    const report = await quantizeToGguf(src, { target: parseGgufTarget('f32') });
    assert.equal(report.architecture, 'qwen2');
    assert.ok(report.tensors.some((t) => t.name === 'blk.0.attn_q.bias'));
    const ref = reference('qwen2');
    const err = relativeError(await logits(report.output, ref.tokens), ref.logits.flat());
    assert.ok(err < 1e-4, `qwen2: F32 GGUF logits differ from the reference by ${err}`);

    const mistral = join(dir, 'mistral');
    await cp(fixture('decoder', 'mistral'), mistral, { recursive: true });
    const m = await quantizeToGguf(mistral, { target: parseGgufTarget('q8_0') });
    assert.equal(m.architecture, 'llama');
    assert.ok(m.warnings.some((w) => /sliding window of \d+ positions is not written/.test(w)), m.warnings.join('; '));
  });

  it('re-quantizes a GGUF without a config, keeps its metadata, and reports rows that fell back', async () => {
    const src = join(dir, 'gqa.gguf');
    await cp(fixture('decoder', 'llama_gqa.gguf'), src);
    const report = await quantizeToGguf(src, { target: parseGgufTarget('q4_k_m') });
    assert.equal(report.output, join(dir, 'gqa.q4_k_m.gguf'));
    const before = await openCheckpoint(src);
    const afterQ = await openCheckpoint(report.output);
    assert.deepEqual(afterQ.metadata['tokenizer.ggml.tokens'], before.metadata['tokenizer.ggml.tokens']);
    assert.equal(afterQ.metadata['general.file_type'], 15);
    // Hidden size 32 does not split into 256-value super-blocks: Q4_K falls back to Q5_0, Q6_K to Q8_0.
    const q = report.tensors.find((t) => t.name === 'blk.0.attn_q.weight');
    assert.deepEqual([q?.wanted, q?.type], ['Q4_K', 'Q5_0']);
    assert.equal(report.tensors.find((t) => t.name === 'output.weight')?.type, 'Q8_0');
    assert.equal(report.tensors.find((t) => t.name === 'blk.0.attn_norm.weight')?.type, 'F32');
    assert.ok(report.warnings.some((w) => /blk\.0\.attn_q\.weight: rows of 32 do not split into Q4_K/.test(w)));
    const ref = reference('llama_gqa.gguf');
    const err = relativeError(await logits(report.output, ref.tokens), ref.logits.flat());
    assert.ok(err < 0.15, `Q4_K_M (as Q5_0/Q8_0) logits error ${err}`);
    await assert.rejects(quantizeToGguf(src, { target: parseGgufTarget('q4_k_m'), output: src }), /source model/);
  });

  it('copies an unknown architecture as-is with a warning, and names bad targets', async () => {
    const path = join(dir, 'odd.gguf');
    const f32 = writableGgmlType('f32')!;
    const w = Float32Array.from({ length: 64 }, (_, i) => i / 64);
    await writeGguf(path, { metadata: [gguf.str('general.architecture', 'oddnet'), gguf.u32('oddnet.block_count', 1)], tensors: [
      { name: 'blk.0.proj.weight', shape: [2, 32], type: f32, data: () => Promise.resolve(new Uint8Array(w.buffer)) },
    ] });
    const report = await quantizeToGguf(path, { target: parseGgufTarget('q8_0') });
    assert.ok(report.warnings.some((m) => /oddnet/.test(m)));
    assert.equal(report.tensors[0].type, 'Q8_0');
    assert.equal((await openCheckpoint(report.output)).metadata['oddnet.block_count'], 1);
    assert.throws(() => parseGgufTarget('q4_k_x'), /unknown GGUF type "q4_k_x"/);
  });
});
