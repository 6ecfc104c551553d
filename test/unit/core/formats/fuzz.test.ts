/**
 * Hostile input, continuously. Two halves:
 *
 * - every reader (the registry's ONNX, safetensors, GGUF, PyTorch and NumPy readers, the ONNX
 *   editor's decoder, the GGUF metadata reader, the plan-recipe parser and the tokenizer.json
 *   loader) is given mutants of real fixtures: truncation, bit flips, huge integers in length and
 *   count fields, random bytes, removed, duplicated and swapped sections, and for text formats
 *   edits of the parsed structure. Each mutant must open or fail with the reader's documented
 *   error (FormatError, RecipeError) with a message; never another exception, a hang or a huge
 *   allocation;
 * - every writer (safetensors, GGUF, the ONNX editor, the GPTQ layout) is given random seeded
 *   content, and what it writes must read back exactly through our readers.
 *
 * Size and seed come from QUANTSCOPE_FUZZ_ITERATIONS and QUANTSCOPE_FUZZ_SEED; every failure
 * names the seed that replays it.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import { readGgufEntries } from '../../../../src/core/formats/gguf/readGgufEntries';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { FileAccessor } from '../../../../src/core/io/FileAccessor';
import { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { seededRandom } from '../../../../src/core/random/seededRandom';
import { readTensorChunks } from '../../../../src/core/tensor/TensorReader';
import { parsePlanRecipe, RecipeError } from '../../../../src/core/transform/quantize/planRecipe';
import { loadTokenizer } from '../../../../src/worker/jobs/loadTokenizer';
import { caseSeed, fuzzSettings, replayHint } from '../../support/fuzzSettings';
import { fixture, npmModel, repoRoot } from '../../support/paths';
import { writerRoundTrips } from './writerRoundTrips';

const settings = fuzzSettings();
/** Files the registry should open, by name. */
const MODEL_FILE = /\.(safetensors|npy|npz|gguf|onnx|pt|pth|bin|ckpt)$|\.safetensors\.index\.json$/;
/** Larger fixtures are fuzzed with fewer mutants so the CI run stays short. */
const MAX_FIXTURE_BYTES = 4 << 20;
/**
 * Only a hang trips this: a mutant takes milliseconds, and the bound is far above any machine's
 * speed. How long a case may run is set by the iteration count, not asserted.
 */
const HANG_MS = 60_000;
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

const HUGE = [0xffffffffffffffffn, 1n << 40n, 1n << 62n, 0x7fffffffn, 0xffffffffn, 1n << 31n, 0x80000000_00000000n, 1n << 53n];

/** One mutant of `src` and a description of what was done, for the failure message. */
function mutate(src: Buffer, rnd: () => number): { bytes: Buffer; what: string } {
  const pick = (n: number): number => Math.floor(rnd() * n);
  // Headers are where the structure is: aim most edits at the first kilobytes.
  const spot = (n: number): number => (rnd() < 0.7 ? pick(Math.min(n, 4096)) : pick(n));
  const kind = pick(9);
  if (kind === 0) {
    const at = pick(src.length);
    return { bytes: src.subarray(0, at), what: `truncated at ${at}` };
  }
  const b = Buffer.from(src);
  if (b.length === 0) return { bytes: b, what: 'empty' };
  if (kind === 1) {
    const n = 1 + pick(8);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = spot(b.length);
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
    const o = spot(b.length);
    const n = 1 + pick(64);
    for (let i = o; i < Math.min(b.length, o + n); i++) b[i] = pick(256);
    return { bytes: b, what: `${n} random bytes at ${o}` };
  }
  if (kind === 5) {
    const o = spot(b.length);
    const n = 1 + pick(32);
    return { bytes: Buffer.concat([b.subarray(0, o), b.subarray(Math.min(b.length, o + n))]), what: `${n} bytes deleted at ${o}` };
  }
  // Whole sections: a run of bytes up to a quarter of the file, duplicated in place, removed, or moved.
  const o = spot(b.length);
  const n = 1 + pick(Math.max(1, Math.min(b.length - o, b.length >> 2)));
  const section = b.subarray(o, o + n);
  if (kind === 6) return { bytes: Buffer.concat([b.subarray(0, o + n), section, b.subarray(o + n)]), what: `section of ${n} bytes at ${o} duplicated` };
  if (kind === 7) return { bytes: Buffer.concat([b.subarray(0, o), b.subarray(o + n)]), what: `section of ${n} bytes at ${o} removed` };
  const rest = Buffer.concat([b.subarray(0, o), b.subarray(o + n)]);
  const to = pick(rest.length + 1);
  return { bytes: Buffer.concat([rest.subarray(0, to), section, rest.subarray(to)]), what: `section of ${n} bytes moved from ${o} to ${to}` };
}

/** Reads every tensor of an opened checkpoint; resolves with the first error that is not a FormatError. */
async function readAll(path: string): Promise<unknown> {
  const ckpt = await openCheckpoint(path);
  for (const t of ckpt.tensors) {
    try {
      for await (const chunk of readTensorChunks(t, { chunkElements: 1 << 16 })) void chunk;
    } catch (e) {
      if (!isFormatError(e)) return e;
    }
  }
  return undefined;
}

/** Runs `open` on the file; resolves with the error thrown, if any. */
async function attempt(open: () => Promise<unknown>): Promise<unknown> {
  try {
    return await open();
  } catch (e) {
    return e;
  }
}

/** The readers that take a file of this name, each as a label and a function that reads all of it. */
function readersFor(path: string): [string, () => Promise<unknown>][] {
  const out: [string, () => Promise<unknown>][] = [['registry', () => readAll(path)]];
  // The editor decodes ONNX with its own protobuf codec, and GGUF conversion reads typed metadata
  // with its own reader: both see the same hostile bytes as the registry does.
  if (path.endsWith('.onnx')) out.push(['OnnxModel', async () => { await OnnxModel.load(path); return undefined; }]);
  if (path.endsWith('.gguf')) {
    out.push(['readGgufEntries', async () => {
      const file = await FileAccessor.open(path);
      await readGgufEntries(file);
      return undefined;
    }]);
  }
  return out;
}

const isRecipeError = (e: unknown): boolean => e instanceof RecipeError;

/** Checks one mutant with one reader: no result or `accepted(error)`, in bounded time and memory. */
async function check(open: () => Promise<unknown>, what: string, accepted: (e: unknown) => boolean = isFormatError): Promise<void> {
  const before = process.memoryUsage().arrayBuffers;
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => { timer = setTimeout(() => resolve('hang'), HANG_MS); });
  const result = await Promise.race([attempt(open), hang]);
  clearTimeout(timer);
  assert.notEqual(result, 'hang', `${what}: did not finish (a hang)`);
  if (result !== undefined) {
    assert.ok(accepted(result), `${what}: threw ${result instanceof Error ? `${result.name}: ${result.message}\n${result.stack}` : inspect(result)}`);
    const message = (result as Error).message;
    assert.ok(message.trim().length > 0, `${what}: threw ${(result as Error).name} without a message`);
    assert.doesNotMatch(message, /unexpected error in the|undefined|NaN|\[object /, `${what}: a reader failed internally: ${message}`);
  }
  const growth = process.memoryUsage().arrayBuffers - before;
  assert.ok(growth < MAX_ARRAYBUFFER_GROWTH, `${what}: ArrayBuffer memory grew by ${growth} bytes`);
}

/** A copy of `file` in a fresh folder with its small siblings (shards, external data), so only the mutant is damaged. */
function stage(file: string): { dir: string; target: string } {
  const dir = mkdtempSync(join(tmp, 'f-'));
  for (const sib of readdirSync(dirname(file))) {
    const p = join(dirname(file), sib);
    if (statSync(p).isFile() && statSync(p).size <= MAX_FIXTURE_BYTES && p !== file) copyFileSync(p, join(dir, sib));
  }
  return { dir, target: join(dir, basename(file)) };
}

describe(`fuzz: every reader gives only its documented error on damaged files (seed 0x${settings.seed.toString(16)}, ${settings.iterations} per fixture)`, () => {
  const files = fixtures();
  it('finds fixtures of every format', () => {
    const kinds = new Set(files.map((f) => f.replace(/^.*\./, '')));
    for (const k of ['safetensors', 'npy', 'npz', 'gguf', 'onnx', 'pt', 'json']) assert.ok(kinds.has(k), `no .${k} fixture`);
  });

  it('handles empty and random files', async () => {
    const empty = join(tmp, 'empty.bin');
    writeFileSync(empty, '');
    await check(() => readAll(empty), 'empty file');
    const magics = ['GGUF', '\x93NUMPY\x01\x00', 'PK\x03\x04', '\x08\x07\x12', '\x80\x02'];
    for (let i = 0; i < 2 * settings.iterations; i++) {
      const rnd = seededRandom(caseSeed(settings.seed, 'random', i));
      const p = join(tmp, `random${i % 8}.bin`);
      const bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 5000) }, () => Math.floor(rnd() * 256)));
      // Give some random files a real magic number, so each reader sees garbage after it.
      if (i % 2 === 0 && bytes.length > 12) Buffer.from(magics[(i >> 1) % magics.length], 'latin1').copy(bytes);
      writeFileSync(p, bytes);
      await check(() => readAll(p), `random file ${i} (${replayHint(settings, i)})`);
    }
  });

  for (const file of files) {
    const name = relative(repoRoot(), file);
    it(`mutants of ${name}`, async () => {
      const { dir, target } = stage(file);
      const src = readFileSync(file);
      const readers = readersFor(target);
      const count = src.length > 1 << 20 ? Math.ceil(settings.iterations / 4) : settings.iterations;
      for (let i = 0; i < count; i++) {
        const { bytes, what } = mutate(src, seededRandom(caseSeed(settings.seed, name, i)));
        writeFileSync(target, bytes);
        for (const [reader, open] of readers) await check(open, `${name} mutant ${i} (${what}), ${reader}; ${replayHint(settings, i)}`);
      }
      rmSync(dir, { recursive: true, force: true });
    });
  }
});

/** JSON values, for mutating parsed documents. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ODD_VALUES: readonly Json[] = [null, true, false, 0, -1, 1e308, -1e308, 2 ** 53, 2 ** 32, 1.5, '', 'x'.repeat(300), '\u0000', '\ud800', [], {}, [[[]]], { type: 'BPE' }];

/**
 * Edits one random node of a parsed JSON document in place: replaced by an odd value, a key
 * removed, an array entry duplicated or removed, or a key duplicated under a new name.
 */
function mutateJson(root: Json, rnd: () => number): string {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const path: string[] = [];
  let node = root;
  let parent: Json[] | { [key: string]: Json } | undefined;
  let key: string | number | undefined;
  // Walk down a random depth, so deep parts (merges, vocab entries, normalizers) are reached as well as the top.
  while (node !== null && typeof node === 'object' && rnd() < 0.75) {
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node;
    key = keys[pick(keys.length)];
    path.push(String(key));
    node = Array.isArray(node) ? node[key as number] : node[key as string];
  }
  const where = path.join('.') || '(root)';
  const choice = pick(4);
  if (parent === undefined || key === undefined) return `root kept (${where})`;
  if (choice === 0 || (choice === 3 && Array.isArray(parent))) {
    // A copy: inserting the shared value itself would let later edits change it, and with it other cases.
    const v = structuredClone(ODD_VALUES[pick(ODD_VALUES.length)]);
    if (Array.isArray(parent)) parent[key as number] = v; else parent[key as string] = v;
    return `${where} set to ${JSON.stringify(v)?.slice(0, 40)}`;
  }
  if (Array.isArray(parent)) {
    const i = key as number;
    if (choice === 1) parent.splice(i, 1); else parent.splice(i, 0, structuredClone(parent[i]));
    return `${where} ${choice === 1 ? 'removed' : 'duplicated'}`;
  }
  if (choice === 1) {
    delete parent[key as string];
    return `${where} removed`;
  }
  if (choice === 2) {
    parent[`${String(key)}_copy`] = structuredClone(parent[key as string]);
    return `${where} copied`;
  }
  return `${where} kept`;
}

/** A mutant of a text file: the byte mutations, or (for JSON) an edit of its structure, or whole lines duplicated or removed. */
function mutateText(src: string, rnd: () => number, json: boolean): { text: Buffer; what: string } {
  const r = rnd();
  if (json && r < 0.5) {
    const doc = JSON.parse(src) as Json;
    const steps = 1 + Math.floor(rnd() * 3);
    const whats: string[] = [];
    for (let i = 0; i < steps; i++) whats.push(mutateJson(doc, rnd));
    return { text: Buffer.from(JSON.stringify(doc, null, rnd() < 0.5 ? 1 : undefined)), what: whats.join('; ') };
  }
  if (r < 0.75) {
    const lines = src.split('\n');
    const at = Math.floor(rnd() * lines.length);
    const n = 1 + Math.floor(rnd() * Math.min(8, lines.length - at));
    const dup = rnd() < 0.5;
    const out = dup ? [...lines.slice(0, at + n), ...lines.slice(at, at + n), ...lines.slice(at + n)] : [...lines.slice(0, at), ...lines.slice(at + n)];
    return { text: Buffer.from(out.join('\n')), what: `${n} lines at ${at + 1} ${dup ? 'duplicated' : 'removed'}` };
  }
  const { bytes, what } = mutate(Buffer.from(src), rnd);
  return { text: bytes, what };
}

/** Recipes in the shapes users write: the printed form, and the variations the parser accepts. */
const RECIPES: readonly string[] = [
  [
    '# Mixed-precision plan for tiny.onnx: 5.02 bits per weight (budget 6), summed error 3.1e-3.',
    'model: tiny.onnx # relative to this file',
    'method: plan',
    'weights: rtn # rtn or gptq',
    'budget-bits: 6',
    'layers:',
    '  /blocks.0/q/MatMul: int4-g128 # 120×480',
    '  /blocks.0/k/MatMul: int8-channel',
    '  "1.0": float',
    '  p2o.MatMul.0: int4-channel',
    '',
  ].join('\n'),
  ['model: "sub dir/m.onnx"', 'method: plan', 'weights: gptq', 'budget-error: 3e-3', 'layers: { a: float, b: int4-g128 }', ''].join('\n'),
  ['model: m.onnx', 'method: plan', 'layers:', '  ? |', '    multi', '    line', '  : int8-channel', '  &x y: *x', ''].join('\n'),
];

describe('fuzz: the plan-recipe parser gives only RecipeError', () => {
  it('parses the seed recipes', () => {
    for (const r of RECIPES.slice(0, 2)) assert.ok(parsePlanRecipe(r).layers.length > 0);
  });
  it('mutated recipes parse or throw RecipeError with a line', async () => {
    for (let i = 0; i < 20 * settings.iterations; i++) {
      const rnd = seededRandom(caseSeed(settings.seed, 'recipe', i));
      const src = RECIPES[i % RECIPES.length];
      const { text, what } = mutateText(src, rnd, false);
      const decoded = text.toString('utf8');
      await check(() => { parsePlanRecipe(decoded); return Promise.resolve(undefined); }, `recipe ${i % RECIPES.length} mutant ${i} (${what}): ${JSON.stringify(decoded.slice(0, 200))}; ${replayHint(settings, i)}`, (e) => isRecipeError(e) && /^line \d+: /.test((e as Error).message));
    }
  });
});

describe('fuzz: the tokenizer.json loader gives only FormatError', () => {
  const sources = [fixture('lm', 'tokenizer.json'), fixture('workspace', 'tiny_qwen2', 'tokenizer.json')];
  const text = 'The quick brown fox, 12 jumps! Ünïcödé 日本語 [UNK] <|endoftext|>';
  for (const file of sources) {
    const name = relative(repoRoot(), file);
    it(`mutants of ${name}`, async () => {
      const { dir, target } = stage(file);
      const src = readFileSync(file, 'utf8');
      const open = async (): Promise<unknown> => {
        const tok = await loadTokenizer(target);
        tok.encode(text);
        return undefined;
      };
      await check(open, `${name} as shipped`);
      for (let i = 0; i < 4 * settings.iterations; i++) {
        const { text: bytes, what } = mutateText(src, seededRandom(caseSeed(settings.seed, name, i)), true);
        writeFileSync(target, bytes);
        await check(open, `${name} mutant ${i} (${what}); ${replayHint(settings, i)}`);
      }
      rmSync(dir, { recursive: true, force: true });
    });
  }
});

writerRoundTrips(settings, tmp);
