import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openCheckpoint } from '../../../src/core/formats/registry';
import type { GgufQuantizeReport } from '../../../src/core/gguf/quantizeToGguf';
import { fixture } from '../support/paths';
import { cli } from './runCliCapture';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quantscope-cli-gguf-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('quantize --to gguf:q4_k_m re-quantizes a GGUF beside it and reports size, bits per weight and fallbacks', async () => {
  const src = join(dir, 'gqa.gguf');
  await cp(fixture('decoder', 'llama_gqa.gguf'), src);
  const r = await cli('quantize', src, '--to', 'gguf:q4_k_m');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /GGUF Q4_K_M \(llama\): .*gqa\.gguf → .*gqa\.q4_k_m\.gguf/);
  assert.match(r.out, /Size: .*, \d+\.\d\d bits per weight/);
  assert.match(r.out, /Warning: blk\.0\.attn_q\.weight: rows of 32 do not split into Q4_K blocks of 256; written as Q5_0/);
  const written = await openCheckpoint(join(dir, 'gqa.q4_k_m.gguf'));
  assert.equal(written.metadata['general.file_type'], 15);
});

test('quantize --to gguf:TYPE --json gives the report; an HF folder is read with its config', async () => {
  const src = join(dir, 'llama');
  await cp(fixture('decoder', 'llama'), src, { recursive: true });
  const r = await cli('quantize', src, '--to', 'gguf:q8_0', '-o', join(dir, 'out.gguf'), '--json');
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as GgufQuantizeReport;
  assert.equal(report.output, join(dir, 'out.gguf'));
  assert.ok(report.bitsPerWeight > 8 && report.bitsPerWeight < 9.5);
  assert.equal(report.tensors.find((t) => t.name === 'output.weight')?.type, 'Q8_0');
});

test('quantize --to refuses unknown types, ONNX-only options and an existing output, writing nothing', async () => {
  const src = join(dir, 'again.gguf');
  await cp(fixture('decoder', 'llama_gqa.gguf'), src);
  const before = (await readdir(dir)).sort();
  const bad = await cli('quantize', src, '--to', 'gguf:q4_k_x');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown GGUF type "q4_k_x"/);
  const mixed = await cli('quantize', src, '--to', 'gguf:q8_0', '--method', 'rtn');
  assert.equal(mixed.code, 2);
  assert.match(mixed.err, /--method goes with ONNX output/);
  const exists = await cli('quantize', src, '--to', 'gguf:q8_0', '-o', join(dir, 'gqa.gguf'));
  assert.equal(exists.code, 1);
  assert.match(exists.err, /already exists/);
  assert.deepEqual((await readdir(dir)).sort(), before);
});
