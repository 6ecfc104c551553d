import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { atomicWrite, AtomicFileWriter } from '../../../../src/core/io/atomicWrite';
import { nextFreeName } from '../../../../src/core/io/nextFreeName';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('writes streamed chunks and leaves no temporary file', async () => {
  const target = join(dir, 'a.onnx');
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield bytes('hello ');
    await new Promise((r) => setImmediate(r));
    yield bytes('world');
  }
  assert.equal(await atomicWrite(target, chunks()), 11);
  assert.equal(readFileSync(target, 'utf8'), 'hello world');
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
});

test('refuses an existing target unless overwrite is set, and never the source', async () => {
  const target = join(dir, 'b.onnx');
  writeFileSync(target, 'old');
  await assert.rejects(atomicWrite(target, [bytes('new')]), { name: 'TargetExistsError' });
  assert.equal(readFileSync(target, 'utf8'), 'old');
  await atomicWrite(target, [bytes('new')], { overwrite: true });
  assert.equal(readFileSync(target, 'utf8'), 'new');
  const link = join(dir, 'link.onnx');
  symlinkSync(target, link);
  await assert.rejects(atomicWrite(link, [bytes('x')], { overwrite: true, source: target }), /source model/);
  await assert.rejects(atomicWrite(target, [bytes('x')], { overwrite: true, source: target }), /source model/);
  assert.equal(readFileSync(target, 'utf8'), 'new');
});

test('a thrown error or a cancellation removes the temporary file and creates no target', async () => {
  const target = join(dir, 'c.onnx');
  function* failing(): Generator<Uint8Array> {
    yield bytes('partial');
    throw new Error('encoder failed');
  }
  await assert.rejects(atomicWrite(target, failing()), /encoder failed/);
  let calls = 0;
  await assert.rejects(atomicWrite(target, [bytes('a'), bytes('b')], { isCancelled: () => ++calls > 1 }), { name: 'WriteCancelledError' });
  const w = await AtomicFileWriter.create(target);
  await w.write(bytes('x'));
  assert.ok(readdirSync(dir).some((n) => n.endsWith('.tmp')));
  await w.abort();
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.c.onnx') || n === 'c.onnx'), []);
});

test('nextFreeName counts up past taken names', () => {
  const taken = new Set([join('m', 'model.q4.onnx'), join('m', 'model.q4-1.onnx')]);
  assert.equal(nextFreeName(join('m', 'model.onnx'), 'q4', (p) => taken.has(p)), join('m', 'model.q4-2.onnx'));
  assert.equal(nextFreeName(join('m', 'model.onnx'), 'int8', (p) => taken.has(p)), join('m', 'model.int8.onnx'));
  writeFileSync(join(dir, 'net.pruned.onnx'), '');
  assert.equal(nextFreeName(join(dir, 'net.onnx'), 'pruned'), join(dir, 'net.pruned-1.onnx'));
});
