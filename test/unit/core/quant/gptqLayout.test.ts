import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { littleEndianBytes, writeSafetensors } from '../../../../src/core/formats/safetensors/safetensorsWriter';
import { dequantize, gptq, quantizeRtn, type QuantizedWeight, type QuantScheme } from '../../../../src/core/quant';
import { dequantizeGptq, gptqFromQuantized, packGptq, unpackGptq, type GptqBits, type GptqLinear } from '../../../../src/core/quant/gptqLayout';
import { seededRandom } from '../../../../src/core/random/seededRandom';
import { syntheticLayer } from '../../support/syntheticLayer';

const tmp = mkdtempSync(join(tmpdir(), 'qs-gptq-layout-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** IEEE binary16 → number, from the format's definition. */
function half(h: number): number {
  const e = (h >> 10) & 31, m = h & 1023, s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A tensor's bytes as the file stores them, found through the header our reader lists. */
async function tensorBytes(file: string): Promise<Map<string, { shape: readonly number[]; dtype: string; bytes: Buffer }>> {
  const raw = readFileSync(file);
  const ckpt = await openCheckpoint(file);
  const out = new Map<string, { shape: readonly number[]; dtype: string; bytes: Buffer }>();
  for (const t of ckpt.tensors) {
    assert.equal(t.source.kind, 'file');
    if (t.source.kind !== 'file') continue;
    out.set(t.name, { shape: t.shape, dtype: t.dtype, bytes: raw.subarray(t.source.offset, t.source.offset + t.source.length) });
  }
  return out;
}

/**
 * Unpacking written from the layout's description, independent of the engine: an int32 holds
 * 32/bits fields, lowest first, so in little-endian bytes field k of a word is bits
 * [k·bits, (k+1)·bits) of the 4 bytes read as one unsigned number.
 */
function field(bytes: Buffer, word: number, k: number, bits: number): number {
  const u = bytes.readUInt32LE(word * 4);
  return Math.floor(u / 2 ** (k * bits)) % 2 ** bits;
}

interface Unpacked {
  readonly codes: number[][]; // [in][out]
  readonly zeros: number[][]; // [group][out], z (stored + 1)
  readonly scales: number[][]; // [group][out]
  readonly gIdx: number[];
}

function unpackFromFile(t: Map<string, { shape: readonly number[]; bytes: Buffer }>, prefix: string, bits: number): Unpacked {
  const qw = t.get(`${prefix}.qweight`)!, qz = t.get(`${prefix}.qzeros`)!, sc = t.get(`${prefix}.scales`)!, gi = t.get(`${prefix}.g_idx`)!;
  const per = 32 / bits;
  const [words, out] = qw.shape;
  const nIn = words * per;
  const groups = sc.shape[0];
  assert.deepEqual(qz.shape, [groups, out / per]);
  assert.deepEqual(gi.shape, [nIn]);
  const codes = Array.from({ length: nIn }, (_, i) => Array.from({ length: out }, (_, o) => field(qw.bytes, Math.floor(i / per) * out + o, i % per, bits)));
  const zeros = Array.from({ length: groups }, (_, g) => Array.from({ length: out }, (_, o) => field(qz.bytes, g * (out / per) + Math.floor(o / per), o % per, bits) + 1));
  const scales = Array.from({ length: groups }, (_, g) => Array.from({ length: out }, (_, o) => half(sc.bytes.readUInt16LE(2 * (g * out + o)))));
  const gIdx = Array.from({ length: nIn }, (_, i) => gi.bytes.readInt32LE(4 * i));
  return { codes, zeros, scales, gIdx };
}

async function writeLayer(name: string, layer: GptqLinear): Promise<string> {
  const p = packGptq(layer);
  const file = join(tmp, `${name}.safetensors`);
  const prefix = 'model.layers.0.mlp.up_proj';
  await writeSafetensors(file, [
    { name: `${prefix}.qweight`, dtype: 'I32', shape: [p.inFeatures / (32 / p.bits), p.outFeatures], data: littleEndianBytes(p.qweight) },
    { name: `${prefix}.qzeros`, dtype: 'I32', shape: [p.groups, p.outFeatures / (32 / p.bits)], data: littleEndianBytes(p.qzeros) },
    { name: `${prefix}.scales`, dtype: 'F16', shape: [p.groups, p.outFeatures], data: littleEndianBytes(p.scales) },
    { name: `${prefix}.g_idx`, dtype: 'I32', shape: [p.inFeatures], data: littleEndianBytes(p.gIdx) },
  ]);
  return file;
}

/** Our quantizer's value of W[o, i] with its scale rounded as the file stores it. */
function expectedValue(q: QuantizedWeight, o: number, i: number, storedScale: number): number {
  const { cols, groupSize, groupsPerRow } = q.layout;
  const s = o * groupsPerRow + Math.floor(i / groupSize);
  return Math.fround((q.codes[o * cols + i] - q.zeroPoints[s]) * storedScale);
}

const OUT = 64, IN = 256;
const layer = syntheticLayer(OUT, IN, 512, 5);

describe('GPTQ layout', () => {
  for (const bits of [4, 8] as GptqBits[]) {
    for (const symmetric of [true, false]) {
      for (const groupSize of [32, 64, 128, -1]) {
        for (const kernel of ['rtn', 'gptq-act-order'] as const) {
          const label = `${bits}-bit ${symmetric ? 'sym' : 'asym'} group ${groupSize} ${kernel}`;
          it(`a file unpacked from the format's description gives our quantizer's weights: ${label}`, async () => {
            const scheme: QuantScheme = groupSize === -1 ? { bits, symmetric, granularity: 'channel' } : { bits, symmetric, granularity: 'group', groupSize };
            const q = kernel === 'rtn' ? quantizeRtn(layer.W, scheme) : gptq(layer.W, layer.H, { scheme, actOrder: true });
            const file = await writeLayer(label.replace(/\W+/g, '-'), gptqFromQuantized(q));
            const u = unpackFromFile(await tensorBytes(file), 'model.layers.0.mlp.up_proj', bits);
            const groupLen = groupSize === -1 ? IN : groupSize;
            assert.equal(u.scales.length, IN / groupLen);
            const offset = symmetric ? 2 ** (bits - 1) : 0;
            const ours = dequantize(q);
            let exact = 0;
            for (let i = 0; i < IN; i++) {
              const g = u.gIdx[i];
              assert.equal(g, Math.floor(i / groupLen));
              for (let o = 0; o < OUT; o++) {
                const s = o * q.layout.groupsPerRow + g;
                assert.equal(u.codes[i][o], q.codes[o * IN + i] + offset, `code [${o}, ${i}]`);
                assert.equal(u.zeros[g][o], q.zeroPoints[s] + offset, `zero [${g}, ${o}]`);
                // float16 scales: the nearest binary16 to our float32 scale.
                const scale = q.scales[s];
                assert.ok(Math.abs(u.scales[g][o] - scale) <= scale * 2 ** -11, `scale ${u.scales[g][o]} vs ${scale}`);
                const w = Math.fround(u.scales[g][o] * (u.codes[i][o] - u.zeros[g][o]));
                assert.equal(w, expectedValue(q, o, i, u.scales[g][o]));
                if (w === ours[o * IN + i]) exact++;
              }
            }
            // Most scales change in the f16 rounding, so most values differ from the float32 ones, by little.
            assert.ok(exact < OUT * IN);
          });
        }
      }
    }
  }

  it('act-order with a permuted g_idx: codes, zeros and groups unpack as packed', async () => {
    const rand = seededRandom(3);
    for (const bits of [4, 8] as GptqBits[]) {
      const nIn = 128, nOut = 32, groups = 4, maxq = 2 ** bits - 1;
      // Channels sorted by a random "activation" order, then cut into groups of that order.
      const order = Array.from({ length: nIn }, (_, i) => i).sort(() => rand() - 0.5);
      const gIdx = new Int32Array(nIn);
      order.forEach((ch, k) => (gIdx[ch] = Math.floor(k / (nIn / groups))));
      const codes = Uint8Array.from({ length: nIn * nOut }, () => Math.floor(rand() * (maxq + 1)));
      const zeros = Uint16Array.from({ length: groups * nOut }, () => 1 + Math.floor(rand() * maxq));
      const scales = Float32Array.from({ length: groups * nOut }, () => Math.fround(half(0x2000 + Math.floor(rand() * 0x1000))));
      const linear: GptqLinear = { bits, inFeatures: nIn, outFeatures: nOut, codes, zeros, scales, gIdx };
      const u = unpackFromFile(await tensorBytes(await writeLayer(`perm-${bits}`, linear)), 'model.layers.0.mlp.up_proj', bits);
      assert.deepEqual(u.gIdx, [...gIdx]);
      const deq = dequantizeGptq(packGptq(linear));
      for (let i = 0; i < nIn; i++) {
        for (let o = 0; o < nOut; o++) {
          assert.equal(u.codes[i][o], codes[o * nIn + i]);
          const g = gIdx[i];
          assert.equal(u.zeros[g][o], zeros[g * nOut + o]);
          assert.equal(u.scales[g][o], scales[g * nOut + o]);
          assert.equal(deq[o * nIn + i], Math.fround(scales[g * nOut + o] * (codes[o * nIn + i] - zeros[g * nOut + o])));
        }
      }
      const back = unpackGptq(packGptq(linear));
      assert.deepEqual(back.codes, codes);
      assert.deepEqual(back.zeros, zeros);
      assert.deepEqual(back.scales, scales);
    }
  });

  it('symmetric 4-bit zeros are stored as 7 in every field (v1: zero − 1)', () => {
    const q = quantizeRtn(layer.W, { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 });
    const p = packGptq(gptqFromQuantized(q));
    assert.ok(p.qzeros.every((w) => w === 0x77777777));
  });

  it('refuses what the layout cannot hold, naming the problem', () => {
    const base: GptqLinear = { bits: 4, inFeatures: 16, outFeatures: 8, codes: new Uint8Array(128), zeros: new Uint16Array(8).fill(3), scales: new Float32Array(8).fill(0.1), gIdx: new Int32Array(16) };
    assert.throws(() => packGptq({ ...base, zeros: new Uint16Array(8) }), /zero point 0 .* v1/);
    assert.throws(() => packGptq({ ...base, inFeatures: 12, codes: new Uint8Array(96), gIdx: new Int32Array(12) }), /multiples of 8/);
    assert.throws(() => packGptq({ ...base, gIdx: new Int32Array(16).fill(1) }), /g_idx\[0\] = 1/);
    assert.throws(() => packGptq({ ...base, codes: new Uint8Array(128).fill(16) }), /does not fit in 4 bits/);
    assert.throws(() => gptqFromQuantized(quantizeRtn(layer.W, { bits: 3, symmetric: true, granularity: 'channel' })), /4 or 8 bits/);
    assert.throws(() => gptqFromQuantized(quantizeRtn(layer.W, { bits: 4, symmetric: true, granularity: 'tensor' })), /per tensor/);
  });
});
