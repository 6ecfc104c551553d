import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildDecoder, openDecoderSource } from '../../../../src/core/decoder';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { TargetExistsError } from '../../../../src/core/io/atomicWrite';
import { readTensor } from '../../../../src/core/tensor/TensorReader';
import { dequantize, quantizeRtn } from '../../../../src/core/quant';
import { CancelledError, QUIET_JOB, type JobContext } from '../../../../src/worker/jobs/JobContext';
import { exportGptq } from '../../../../src/worker/jobs/exportGptq';
import { DecoderRunner, reference, relativeError } from '../../core/decoder/decoderRuns';
import { fixture } from '../../support/paths';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-gptq-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const folder = join(dir, 'llama');
cpSync(fixture('decoder', 'llama'), folder, { recursive: true });
writeFileSync(join(folder, 'tokenizer.json'), '{"model":{"type":"BPE"}}');
const listing = (): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => !f.includes('.quantscope')).sort();

function half(h: number): number {
  const e = (h >> 10) & 31, m = h & 1023, s = h & 0x8000 ? -1 : 1;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

async function tensorsOf(path: string): Promise<Map<string, { shape: readonly number[]; bytes: Buffer }>> {
  const ckpt = await openCheckpoint(path);
  const out = new Map<string, { shape: readonly number[]; bytes: Buffer }>();
  for (const t of ckpt.tensors) {
    if (t.source.kind !== 'file') throw new Error('inline tensor');
    out.set(t.name, { shape: t.shape, bytes: readFileSync(t.source.path).subarray(t.source.offset, t.source.offset + t.source.length) });
  }
  return out;
}

test('RTN in the GPTQ layout: sharded safetensors with an index, quantization_config, copied tensors and tokenizer', async () => {
  const r = await exportGptq({ path: folder, rounding: 'rtn', groupSize: 32, symmetric: false, maxShardBytes: 40_000 }, QUIET_JOB);
  assert.equal(r.output, `${folder}-gptq-4bit-g32`);
  assert.ok(r.files.includes('model.safetensors.index.json') && r.files.includes('tokenizer.json') && r.files.includes('quantize_config.json'), r.files.join(', '));
  assert.equal(r.layers.length, 2 * 7);
  const config = JSON.parse(readFileSync(join(r.output, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.model_type, 'llama');
  assert.deepEqual(config.quantization_config, JSON.parse(readFileSync(join(r.output, 'quantize_config.json'), 'utf8')));
  const q = config.quantization_config as Record<string, unknown>;
  assert.deepEqual([q.quant_method, q.bits, q.group_size, q.sym, q.desc_act, q.checkpoint_format], ['gptq', 4, 32, false, false, 'gptq']);

  const src = await tensorsOf(join(folder, 'model.safetensors'));
  const out = await tensorsOf(join(r.output, 'model.safetensors.index.json'));
  const index = JSON.parse(readFileSync(join(r.output, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  assert.ok(new Set(Object.values(index.weight_map)).size > 1);
  for (const [name, t] of src) {
    const m = /^(.*_proj)\.weight$/.exec(name);
    if (!m) {
      assert.deepEqual(out.get(name)?.bytes, t.bytes, `${name} copied byte for byte`);
      continue;
    }
    assert.equal(out.has(name), false);
    const [nOut, nIn] = t.shape;
    const qw = out.get(`${m[1]}.qweight`)!, qz = out.get(`${m[1]}.qzeros`)!, sc = out.get(`${m[1]}.scales`)!, gi = out.get(`${m[1]}.g_idx`)!;
    assert.deepEqual([qw.shape, qz.shape, sc.shape, gi.shape], [[nIn / 8, nOut], [nIn / 32, nOut / 8], [nIn / 32, nOut], [nIn]]);
    // The file's weights (read the way the layout is described) are our RTN's, with float16 scales.
    const W = { rows: nOut, cols: nIn, data: await readTensor((await openCheckpoint(join(folder, 'model.safetensors'))).tensors.find((x) => x.name === name)!) };
    const rtn = quantizeRtn(W, { bits: 4, symmetric: false, granularity: 'group', groupSize: 32 });
    const ours = dequantize(rtn);
    for (let o = 0; o < nOut; o++) {
      for (let i = 0; i < nIn; i++) {
        const g = gi.bytes.readInt32LE(4 * i);
        const code = (qw.bytes.readUInt32LE(4 * (Math.floor(i / 8) * nOut + o)) >>> (4 * (i % 8))) & 15;
        const zero = ((qz.bytes.readUInt32LE(4 * (g * (nOut / 8) + Math.floor(o / 8))) >>> (4 * (o % 8))) & 15) + 1;
        const scale = half(sc.bytes.readUInt16LE(2 * (g * nOut + o)));
        const s = o * rtn.layout.groupsPerRow + g;
        assert.equal(Math.fround(scale * (code - zero)), Math.fround((rtn.codes[o * nIn + i] - rtn.zeroPoints[s]) * scale));
        assert.ok(Math.abs(Math.fround(scale * (code - zero)) - ours[o * nIn + i]) <= Math.abs(ours[o * nIn + i]) * 2 ** -10 + 1e-12);
      }
    }
  }
});

test('GPTQ with Hessians from the built decoder graph; a second run is numbered and an existing folder is refused', async () => {
  const r = await exportGptq({ path: folder, bits: 8, groupSize: -1, actOrder: true, calibration: { samples: 2, sequenceLength: 16 } }, QUIET_JOB);
  assert.equal(r.output, `${folder}-gptq-8bit-perchannel`);
  assert.deepEqual(r.files, ['config.json', 'model.safetensors', 'quantize_config.json', 'tokenizer.json']);
  assert.ok(r.layers.every((l) => l.rounding === 'gptq' && l.relativeError !== undefined && l.relativeError < 1e-3), JSON.stringify(r.layers));
  assert.ok(r.calibrationBatches > 0);
  const q = (JSON.parse(readFileSync(join(r.output, 'config.json'), 'utf8')) as { quantization_config: Record<string, unknown> }).quantization_config;
  assert.deepEqual([q.bits, q.group_size, q.desc_act, q.static_groups, q.sym, q.lm_head], [8, -1, true, true, true, false]);
  const again = await exportGptq({ path: folder, bits: 8, groupSize: -1, rounding: 'rtn' }, QUIET_JOB);
  assert.equal(again.output, `${folder}-gptq-8bit-perchannel-1`);
  await assert.rejects(exportGptq({ path: folder, output: r.output, rounding: 'rtn' }, QUIET_JOB), TargetExistsError);
});

test('a cancelled export leaves nothing; bad settings are named', async () => {
  const before = listing();
  for (const n of [1, 3, 6]) {
    let reports = 0;
    const ctx: JobContext = { isCancelled: () => reports >= n, progress: () => void reports++ };
    await assert.rejects(exportGptq({ path: folder, rounding: 'rtn', output: join(dir, 'cancelled') }, ctx), CancelledError);
    assert.deepEqual(listing(), before, `cancelled after ${n} reports`);
  }
  await assert.rejects(exportGptq({ path: folder, bits: 3 as 4 }, QUIET_JOB), /4 or 8 bits, not 3/);
  await assert.rejects(exportGptq({ path: folder, groupSize: 0 }, QUIET_JOB), /positive integer or −1/);
  await assert.rejects(exportGptq({ path: folder, rounding: 'rtn', output: join(dir, 'no', 'such') }, QUIET_JOB), /where such would go, does not exist/);
});

test('a written GPTQ folder opens as a decoder source: projections read dequantized, the built graph runs close to the float reference', async () => {
  const r = await exportGptq({ path: folder, bits: 8, groupSize: 32, calibration: { samples: 2, sequenceLength: 16 }, output: join(dir, 'llama-gptq-8') }, QUIET_JOB);
  const source = await openDecoderSource(r.output);
  const name = 'model.layers.1.mlp.down_proj.weight';
  assert.equal(source.tensor(name), undefined);
  const packed = await tensorsOf(join(r.output, 'model.safetensors'));
  const qw = packed.get('model.layers.1.mlp.down_proj.qweight')!, qz = packed.get('model.layers.1.mlp.down_proj.qzeros')!, sc = packed.get('model.layers.1.mlp.down_proj.scales')!;
  const [nOut, nIn] = [source.config.hiddenSize, source.config.intermediateSize];
  const W = await source.read(name);
  for (const [o, i] of [[0, 0], [5, 37], [31, 95]]) {
    const g = Math.floor(i / 32);
    const code = (qw.bytes.readUInt32LE(4 * (Math.floor(i / 4) * nOut + o)) >>> (8 * (i % 4))) & 255;
    const zero = ((qz.bytes.readUInt32LE(4 * (g * (nOut / 4) + Math.floor(o / 4))) >>> (8 * (o % 4))) & 255) + 1;
    assert.equal(W[o * nIn + i], Math.fround(half(sc.bytes.readUInt16LE(2 * (g * nOut + o))) * (code - zero)));
  }
  const ref = reference('llama');
  const runner = await DecoderRunner.open(await buildDecoder(source), source.config);
  try {
    const out = await runner.step([ref.tokens], runner.emptyCache(), 0);
    const err = relativeError(out.logits, ref.logits.flat());
    assert.ok(err > 0 && err < 0.05, `8-bit GPTQ logits off the float reference by ${err}`);
  } finally {
    await runner.release();
  }
  await assert.rejects(exportGptq({ path: r.output, rounding: 'rtn' }, QUIET_JOB), /packed already/);
});
