import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { checkTensorValues, loadExpected } from '../../support/expectedValues';
import { fixture } from '../../support/paths';

const tmp = mkdtempSync(join(tmpdir(), 'qs-safetensors-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Builds a safetensors file from a header object and data bytes. */
function build(header: unknown, data: Uint8Array, pad = 0): Buffer {
  const json = Buffer.from(JSON.stringify(header) + ' '.repeat(pad));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

async function rejects(bytes: Uint8Array, pattern: RegExp, name = 'bad.safetensors'): Promise<void> {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  await assert.rejects(openCheckpoint(p), (e: unknown) => {
    assert.ok(isFormatError(e), `expected FormatError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

describe('safetensors', () => {
  it('lists every dtype with metadata and decodes values like numpy', async () => {
    const path = fixture('safetensors', 'all_dtypes.safetensors');
    const expected = loadExpected(fixture('safetensors', 'all_dtypes.expected.json'));
    const ckpt = await openCheckpoint(path);
    assert.equal(ckpt.format, 'safetensors');
    assert.deepEqual(ckpt.metadata, expected.metadata);
    assert.deepEqual(ckpt.tensors.map((t) => t.name).sort(), Object.keys(expected.tensors).sort());
    for (const t of ckpt.tensors) {
      const e = expected.tensors[t.name];
      await checkTensorValues(t, e);
      await checkTensorValues(t, e, 1 << 20);
    }
  });

  it('opens a sharded checkpoint through its index as one model', async () => {
    const path = fixture('safetensors', 'sharded', 'model.safetensors.index.json');
    const expected = loadExpected(fixture('safetensors', 'sharded', 'model.expected.json'));
    const ckpt = await openCheckpoint(path);
    assert.equal(ckpt.format, 'safetensors');
    assert.equal(ckpt.metadata.shards, 2);
    assert.equal(ckpt.metadata.total_size, expected.metadata?.total_size);
    assert.deepEqual(ckpt.tensors.map((t) => t.name), Object.keys(expected.tensors));
    for (const t of ckpt.tensors) await checkTensorValues(t, expected.tensors[t.name]);
  });

  it('refuses an index whose shard is missing or escapes the folder', async () => {
    const dir = mkdtempSync(join(tmp, 'shards-'));
    const src = fixture('safetensors', 'sharded');
    copyFileSync(join(src, 'model-00001-of-00002.safetensors'), join(dir, 'model-00001-of-00002.safetensors'));
    const index = JSON.parse(readFileSync(join(src, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    await assert.rejects(openCheckpoint(join(dir, 'model.safetensors.index.json')), /shard model-00002-of-00002.safetensors .*cannot be opened/);
    index.weight_map['layers.3.weight'] = 'model-00001-of-00002.safetensors';
    index.weight_map['layers.2.weight'] = 'model-00001-of-00002.safetensors';
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    await assert.rejects(openCheckpoint(join(dir, 'model.safetensors.index.json')), /weight_map puts tensor layers.[23].weight in shard model-00001-of-00002.safetensors, which does not contain it/);
    index.weight_map['layers.0.weight'] = '../model-00001-of-00002.safetensors';
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    await assert.rejects(openCheckpoint(join(dir, 'model.safetensors.index.json')), /not a file name in the index's folder/);
  });

  it('refuses lying headers before allocating', async () => {
    const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const data = new Uint8Array(8);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(1n << 40n);
    huge.write('{}', 8);
    await rejects(huge, /header declares 1\.0 TB of JSON but the file has 8 bytes left/);
    await rejects(build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data), /shape \[3\] of F32 \(12 bytes\) but data_offsets \[0, 8\] hold 8 bytes/);
    await rejects(build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), /ends at data offset 16 but the file has only 8 bytes of data/);
    await rejects(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } }, data), /overlaps/);
    await rejects(build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data), /gap/);
    await rejects(build(ok, new Uint8Array(12)), /cover 8 bytes of data but the file has 12/);
    await rejects(build({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 8] } }, data), /dtype "Q4"/);
    await rejects(build({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, data), /invalid shape/);
    await rejects(build({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, data), /data_offsets \[0, 8\] hold 8 bytes/);
    await rejects(build({ __metadata__: { a: 1 } }, new Uint8Array(0)), /__metadata__ value "a" is not a string/);
    const bad = build(ok, data);
    bad[8] = 0x7b;
    bad[9] = 0xff;
    await rejects(bad, /not valid UTF-8|not a checkpoint/);
  });

  it('accepts a header padded with spaces and an empty tensor list', async () => {
    const p = join(tmp, 'empty.safetensors');
    writeFileSync(p, build({ __metadata__: { k: 'v' } }, new Uint8Array(0), 6));
    const ckpt = await openCheckpoint(p);
    assert.equal(ckpt.tensors.length, 0);
    assert.deepEqual(ckpt.metadata, { k: 'v' });
  });
});
