/**
 * Mutates every checkpoint fixture many times (truncation, byte flips, huge integers in length
 * and count fields, random bytes, empty files) and checks that opening the mutant and reading
 * every tensor either succeeds or fails with a FormatError, quickly and without huge allocations.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { seededRandom } from '../../../../src/core/random/seededRandom';
import { readTensorChunks } from '../../../../src/core/tensor/TensorReader';
import { fixture, npmModel, repoRoot } from '../../support/paths';

/** Files the registry should open, by name. */
const MODEL_FILE = /\.(safetensors|npy|npz|gguf|onnx|pt|pth|bin|ckpt)$|\.safetensors\.index\.json$/;
/** Larger fixtures are fuzzed with fewer mutants so the whole run stays well under a minute. */
const MAX_FIXTURE_BYTES = 4 << 20;
const MUTANTS_PER_FIXTURE = 40;
const TIME_BOUND_MS = 2000;
/** Growth of ArrayBuffer memory across one mutant that counts as a huge allocation. */
const MAX_ARRAYBUFFER_GROWTH = 256 << 20;

const tmp = mkdtempSync(join(tmpdir(), 'qs-fuzz-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function fixtures(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (MODEL_FILE.test(name) && statSync(p).size <= MAX_FIXTURE_BYTES) out.push(p);
    }
  };
  walk(fixture());
  const vad = npmModel('@ricky0123', 'vad-web', 'dist', 'silero_vad_legacy.onnx');
  if (existsSync(vad)) out.push(vad);
  return out.sort();
}

const HUGE = [0xffffffffffffffffn, 1n << 40n, 1n << 62n, 0x7fffffffn, 0xffffffffn, 1n << 31n, 0x80000000_00000000n];

/** One mutant of `src` and a description of what was done, for the failure message. */
function mutate(src: Buffer, rnd: () => number): { bytes: Buffer; what: string } {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const kind = pick(6);
  if (kind === 0) {
    const at = pick(src.length);
    return { bytes: src.subarray(0, at), what: `truncated at ${at}` };
  }
  const b = Buffer.from(src);
  if (kind === 1) {
    const n = 1 + pick(8);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      // Headers are where the structure is: aim most flips at the first kilobytes.
      const o = rnd() < 0.7 ? pick(Math.min(b.length, 4096)) : pick(b.length);
      b[o] ^= 1 << pick(8);
      at.push(o);
    }
    return { bytes: b, what: `bit flips at ${at.join(',')}` };
  }
  if (kind === 2 || kind === 3) {
    const v = HUGE[pick(HUGE.length)];
    const limit = kind === 2 ? Math.min(b.length, 64) : Math.min(b.length, 4096);
    const o = Math.max(0, Math.min(b.length - 8, pick(limit)));
    if (b.length >= 8) {
      if (rnd() < 0.5) b.writeBigUInt64LE(v & 0xffffffffffffffffn, o);
      else b.writeUInt32LE(Number(v & 0xffffffffn), Math.min(o, b.length - 4));
    }
    return { bytes: b, what: `huge integer ${v} at ${o}` };
  }
  if (kind === 4) {
    const o = pick(b.length);
    const n = 1 + pick(64);
    for (let i = o; i < Math.min(b.length, o + n); i++) b[i] = pick(256);
    return { bytes: b, what: `${n} random bytes at ${o}` };
  }
  const o = pick(b.length);
  const n = 1 + pick(32);
  return { bytes: Buffer.concat([b.subarray(0, o), b.subarray(Math.min(b.length, o + n))]), what: `${n} bytes deleted at ${o}` };
}

/** Opens `path` and reads every tensor; resolves with the error thrown, if any. */
async function exercise(path: string): Promise<unknown> {
  try {
    const ckpt = await openCheckpoint(path);
    for (const t of ckpt.tensors) {
      try {
        for await (const chunk of readTensorChunks(t, { chunkElements: 1 << 16 })) void chunk;
      } catch (e) {
        if (!isFormatError(e)) return e;
      }
    }
    return undefined;
  } catch (e) {
    return e;
  }
}

async function check(path: string, what: string): Promise<void> {
  const before = process.memoryUsage().arrayBuffers;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), TIME_BOUND_MS); });
  const started = Date.now();
  const result = await Promise.race([exercise(path), timeout]);
  clearTimeout(timer);
  assert.notEqual(result, 'timeout', `${what}: took longer than ${TIME_BOUND_MS} ms`);
  if (result !== undefined) {
    assert.ok(isFormatError(result), `${what}: threw ${result instanceof Error ? `${result.name}: ${result.message}\n${result.stack}` : inspect(result)}`);
    assert.doesNotMatch((result as Error).message, /unexpected error in the/, `${what}: a reader failed internally`);
  }
  const growth = process.memoryUsage().arrayBuffers - before;
  assert.ok(growth < MAX_ARRAYBUFFER_GROWTH, `${what}: ArrayBuffer memory grew by ${growth} bytes in ${Date.now() - started} ms`);
}

describe('fuzz: every reader gives only FormatError on damaged files', () => {
  const files = fixtures();
  it('finds fixtures of every format', () => {
    const kinds = new Set(files.map((f) => f.replace(/^.*\./, '')));
    for (const k of ['safetensors', 'npy', 'npz', 'gguf', 'onnx']) assert.ok(kinds.has(k), `no .${k} fixture`);
  });

  it('handles empty and random files', async () => {
    const rnd = seededRandom(1);
    const empty = join(tmp, 'empty.bin');
    writeFileSync(empty, '');
    await check(empty, 'empty file');
    for (let i = 0; i < 40; i++) {
      const p = join(tmp, `random${i}.bin`);
      const bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 5000) }, () => Math.floor(rnd() * 256)));
      // Give some random files a real magic number, so each reader sees garbage after it.
      const magics = ['GGUF', '\x93NUMPY\x01\x00', 'PK\x03\x04', '\x08\x07\x12', '\x80\x02'];
      if (i % 2 === 0 && bytes.length > 12) Buffer.from(magics[i % magics.length], 'latin1').copy(bytes);
      writeFileSync(p, bytes);
      await check(p, `random file ${i}`);
    }
  });

  for (const [index, file] of files.entries()) {
    const name = relative(repoRoot(), file);
    it(`mutants of ${name}`, async () => {
      const dir = mkdtempSync(join(tmp, 'f-'));
      // Siblings (shards, external data) come along so that only the mutated file is damaged.
      for (const sib of readdirSync(dirname(file))) {
        const p = join(dirname(file), sib);
        if (statSync(p).isFile() && statSync(p).size <= MAX_FIXTURE_BYTES && p !== file) copyFileSync(p, join(dir, sib));
      }
      const src = readFileSync(file);
      const target = join(dir, basename(file));
      const rnd = seededRandom(0x5eed + index);
      const count = src.length > 1 << 20 ? MUTANTS_PER_FIXTURE / 4 : MUTANTS_PER_FIXTURE;
      for (let i = 0; i < count; i++) {
        const { bytes, what } = mutate(src, rnd);
        writeFileSync(target, bytes);
        await check(target, `${name} mutant ${i} (${what})`);
      }
      rmSync(dir, { recursive: true, force: true });
    });
  }
});
