import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import { declaredInputs, type FeedTensor, type InputSpec } from '../../../../src/core/calibration/calibrationInputs';
import { ElementType } from '../../../../src/core/onnx/onnxMessages';
import { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { calibrate } from '../../../../src/worker/jobs/calibrate';
import { CancelledError, QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { loadTokenizer } from '../../../../src/worker/jobs/loadTokenizer';
import { embeddingTable } from '../../../../src/core/onnx/embeddingTable';
import { textBatches } from '../../../../src/worker/jobs/textCalibration';
import { fixture } from '../../support/paths';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-text-calibration-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MODEL = fixture('lm', 'tiny_lm.onnx');
const TOKENIZER = fixture('lm', 'tokenizer.json');
const TEXT = fixture('lm', 'calibration.txt');

/** Ids computed by the fixture script's own WordPiece implementation. */
interface Expected {
  readonly vocabSize: number;
  readonly sentence: string;
  readonly sentenceIds: readonly number[];
  readonly textIds: readonly number[];
}
const expected = JSON.parse(readFileSync(fixture('lm', 'expected.json'), 'utf8')) as Expected;

const ids = (spec: Partial<InputSpec> = {}): InputSpec => ({ name: 'input_ids', elemType: ElementType.INT64, shape: ['batch', 'sequence'], ...spec });

function numbers(t: FeedTensor | undefined): number[] {
  assert.ok(t, 'tensor present');
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

function write(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function formatError(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isFormatError(e), `expected a FormatError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  };
}

test('the tokenizer gives exactly the ids the fixture script computed', async () => {
  const tokenizer = await loadTokenizer(TOKENIZER);
  assert.equal(tokenizer.modelType, 'WordPiece');
  assert.equal(tokenizer.vocabSize, expected.vocabSize);
  // "café." ends in a character outside the vocabulary: the last id is [UNK] (1).
  assert.deepEqual(tokenizer.encode(expected.sentence), expected.sentenceIds);
  assert.equal(expected.sentenceIds.at(-1), 1);
  assert.deepEqual(tokenizer.encode(readFileSync(TEXT, 'utf8')), expected.textIds);
});

test('windows are consecutive slices of the token stream, int64 [batchSize, sequenceLength]', async () => {
  const r = await textBatches(TEXT, TOKENIZER, [ids()], { sequenceLength: 16, batchSize: 2, batches: 4 });
  assert.equal(r.batches.length, 4);
  assert.equal(r.tokens, 128);
  assert.equal(r.vocabSize, expected.vocabSize);
  r.batches.forEach((b, i) => {
    assert.deepEqual(Object.keys(b), ['input_ids']);
    const t = b.input_ids;
    assert.equal(t.type, 'int64');
    assert.ok(t.data instanceof BigInt64Array);
    assert.deepEqual(t.dims, [2, 16]);
    assert.deepEqual(numbers(t), expected.textIds.slice(i * 32, (i + 1) * 32));
  });
});

test('declared companions are filled: attention_mask ones, token_type_ids zeros, position_ids 0..L-1; int32 ids stay int32', async () => {
  const specs: InputSpec[] = [
    ids({ elemType: ElementType.INT32 }),
    { name: 'attention_mask', elemType: ElementType.INT64, shape: ['batch', 'sequence'] },
    { name: 'token_type_ids', elemType: ElementType.INT32, shape: ['batch', 'sequence'] },
    { name: 'position_ids', elemType: ElementType.INT64, shape: [1, 'sequence'] },
  ];
  const r = await textBatches(TEXT, TOKENIZER, specs, { sequenceLength: 8, batchSize: 3, batches: 2 });
  assert.equal(r.batches.length, 2);
  const b = r.batches[1];
  assert.ok(b.input_ids.data instanceof Int32Array);
  assert.deepEqual(numbers(b.input_ids), expected.textIds.slice(24, 48));
  assert.ok(b.attention_mask.data instanceof BigInt64Array);
  assert.deepEqual(b.attention_mask.dims, [3, 8]);
  assert.deepEqual(numbers(b.attention_mask), new Array<number>(24).fill(1));
  assert.ok(b.token_type_ids.data instanceof Int32Array);
  assert.deepEqual(numbers(b.token_type_ids), new Array<number>(24).fill(0));
  assert.deepEqual(b.position_ids.dims, [1, 8]);
  assert.deepEqual(numbers(b.position_ids), [0, 1, 2, 3, 4, 5, 6, 7]);
  // Without a declared mask there is none.
  const plain = await textBatches(TEXT, TOKENIZER, [ids()], { sequenceLength: 8, batches: 1 });
  assert.equal(plain.batches[0].attention_mask, undefined);
});

test('held-out windows come from the end of the text and differ from the calibration windows', async () => {
  const options = { sequenceLength: 32, batchSize: 2, batches: 3 };
  const calib = await textBatches(TEXT, TOKENIZER, [ids()], options);
  const held = await textBatches(TEXT, TOKENIZER, [ids()], { ...options, heldOut: true });
  assert.equal(held.tokens, calib.tokens);
  const n = expected.textIds.length;
  assert.ok(n >= 2 * calib.tokens, 'the fixture text is long enough for disjoint windows');
  assert.deepEqual(held.batches.flatMap((b) => numbers(b.input_ids)), expected.textIds.slice(n - 192));
  assert.deepEqual(calib.batches.flatMap((b) => numbers(b.input_ids)), expected.textIds.slice(0, 192));
  assert.notDeepEqual(numbers(held.batches[0].input_ids), numbers(calib.batches[0].input_ids));
});

test('a long text is tokenized in pieces at line ends, only as far as needed, and can be cancelled', async () => {
  // About 115 kB: two pieces for the tokenizer.
  const copies = 40;
  const long = write('long.txt', readFileSync(TEXT, 'utf8').repeat(copies));
  const n = expected.textIds.length;
  const options = { sequenceLength: 32, batchSize: 2, batches: 2 };
  let pieces = 0;
  const head = await textBatches(long, TOKENIZER, [ids()], options, { isCancelled: () => false, progress: () => void pieces++ });
  assert.equal(pieces, 1, 'the second piece is not tokenized');
  assert.deepEqual(head.batches.flatMap((b) => numbers(b.input_ids)), expected.textIds.slice(0, 128));
  const tail = await textBatches(long, TOKENIZER, [ids()], { ...options, heldOut: true });
  assert.deepEqual(tail.batches.flatMap((b) => numbers(b.input_ids)), expected.textIds.slice(n - 128));
  // All of it, across the piece boundary: the same ids as the whole text at once.
  const all = await textBatches(long, TOKENIZER, [ids({ shape: ['n'] })], { sequenceLength: n, batches: copies });
  assert.equal(all.batches.length, copies);
  for (const b of all.batches) assert.deepEqual(numbers(b.input_ids), expected.textIds);

  let reports = 0;
  const ctx = { isCancelled: () => reports > 0, progress: () => void reports++ };
  await assert.rejects(textBatches(long, TOKENIZER, [ids()], { sequenceLength: n, batches: copies }, ctx), CancelledError);
  assert.equal(reports, 1);
});

test('calibrate() with text batches taps the MatMuls of the tiny LM and reports real statistics', async () => {
  const model = await OnnxModel.load(MODEL);
  const specs = declaredInputs(model);
  const { batches, tokens } = await textBatches(TEXT, TOKENIZER, specs, { sequenceLength: 32, batchSize: 2, batches: 3, model });
  const r = await calibrate(model, { feeds: batches }, QUIET_JOB);
  assert.equal(r.synthetic, false);
  assert.equal(r.batches, 3);
  assert.deepEqual(r.layers.map((l) => l.layer).sort(), ['fc1/MatMul', 'lm_head/MatMul']);
  for (const l of r.layers) {
    assert.equal(l.rows, tokens);
    assert.equal(l.hessian.length, l.d * l.d);
    assert.ok(l.hessian.every(Number.isFinite), `${l.layer}: finite H`);
    assert.ok(l.traceOverD > 0, `${l.layer}: tr(H) > 0`);
  }
});

test('too little text: a shorter window for a symbolic sequence axis, an error for a fixed one', async () => {
  const short = write('short.txt', 'The light and the sea.');
  const r = await textBatches(short, TOKENIZER, [ids()], { sequenceLength: 128, batches: 8 });
  assert.equal(r.batches.length, 1);
  assert.deepEqual(r.batches[0].input_ids.dims, [1, 6]);
  assert.equal(r.tokens, 6);
  await assert.rejects(textBatches(short, TOKENIZER, [ids({ shape: ['batch', 16] })]), formatError(/exactly 16 tokens.*only 6/));
  // A fixed batch axis cannot take a partial batch.
  await assert.rejects(textBatches(TEXT, TOKENIZER, [ids({ shape: [4096, 'sequence'] })], { sequenceLength: 64 }), formatError(/exactly 4096 windows/));
  await assert.rejects(textBatches(write('empty.txt', ' \n\n '), TOKENIZER, [ids()]), formatError(/no tokens/));
});

test('inputs text calibration cannot fill are named', async () => {
  const specs: InputSpec[] = [ids(), { name: 'past_key_values.0.key', elemType: ElementType.FLOAT, shape: ['batch', 4, 'past', 8] }, { name: 'use_cache', elemType: ElementType.BOOL, shape: [] }];
  await assert.rejects(textBatches(TEXT, TOKENIZER, specs), formatError(/past_key_values\.0\.key, use_cache; give them as fixed inputs/));
  await assert.rejects(textBatches(TEXT, TOKENIZER, [ids(), { name: 'attention_mask', elemType: ElementType.FLOAT16, shape: ['batch', 'sequence'] }]), formatError(/attention_mask is float16/));
  await assert.rejects(textBatches(TEXT, TOKENIZER, [ids({ elemType: ElementType.FLOAT })]), formatError(/input_ids is float32; token ids must be int64 or int32/));
  await assert.rejects(textBatches(TEXT, TOKENIZER, [{ name: 'pixels', elemType: ElementType.FLOAT, shape: [1, 3, 8, 8] }]), formatError(/no input of the model takes token ids/));
  // Without input_ids, the one integer input with a symbolic sequence axis takes the ids.
  const r = await textBatches(TEXT, TOKENIZER, [{ name: 'tokens', elemType: ElementType.INT64, shape: ['n'] }], { sequenceLength: 5, batches: 2 });
  assert.deepEqual(r.batches.map((b) => numbers(b.tokens)), [expected.textIds.slice(0, 5), expected.textIds.slice(5, 10)]);
});

test('a bad tokenizer.json is a FormatError', async () => {
  await assert.rejects(textBatches(TEXT, write('broken.json', '{"model": {"type": "WordPiece", '), [ids()]), formatError(/broken\.json is not valid JSON/));
  await assert.rejects(textBatches(TEXT, write('array.json', '[1, 2, 3]'), [ids()]), formatError(/not a Hugging Face tokenizer/));
  const unsupported = JSON.stringify({ model: { type: 'CharLevel', vocab: { a: 0 } } });
  await assert.rejects(textBatches(TEXT, write('charlevel.json', unsupported), [ids()]), formatError(/"CharLevel".*supported: BPE, WordPiece, Unigram, WordLevel/));
  const badPre = JSON.stringify({ model: { type: 'WordPiece', unk_token: '[UNK]', vocab: { '[UNK]': 0 } }, pre_tokenizer: { type: 'Telepathy' } });
  await assert.rejects(textBatches(TEXT, write('badpre.json', badPre), [ids()]), formatError(/badpre\.json cannot be loaded/));
  await assert.rejects(textBatches(TEXT, join(dir, 'missing.json'), [ids()]), formatError(/cannot read tokenizer missing\.json: ENOENT/));
  const withConfig = join(dir, 'with-config');
  mkdirSync(withConfig);
  copyFileSync(TOKENIZER, join(withConfig, 'tokenizer.json'));
  writeFileSync(join(withConfig, 'tokenizer_config.json'), '{"unk_token": ');
  await assert.rejects(textBatches(TEXT, join(withConfig, 'tokenizer.json'), [ids()]), formatError(/tokenizer_config\.json is not valid JSON/));
});

test('an unreadable or oversized text is a FormatError', async () => {
  // Sparse: the size check refuses it before reading a byte.
  const huge = write('huge.txt', '');
  truncateSync(huge, 64 * 2 ** 20 + 1);
  await assert.rejects(textBatches(huge, TOKENIZER, [ids()]), formatError(/huge\.txt is 64\.0 MB, more than the 64\.0 MB text calibration reads/));
  await assert.rejects(textBatches(write('binary.txt', new Uint8Array([0xff, 0xfe, 0x00, 0xc3])), TOKENIZER, [ids()]), formatError(/not UTF-8/));
});

test('a WordLevel tokenizer maps whole words and unknown words to [UNK]', async () => {
  const wordLevel = {
    added_tokens: [{ id: 0, content: '[UNK]', special: true, normalized: false, lstrip: false, rstrip: false, single_word: false }],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    model: { type: 'WordLevel', unk_token: '[UNK]', vocab: { '[UNK]': 0, the: 1, light: 2, turned: 3, '.': 4 } },
  };
  const tok = write('wordlevel.json', JSON.stringify(wordLevel));
  const r = await textBatches(write('words.txt', 'The light turned. The lamp turned.'), tok, [ids()], { sequenceLength: 4, batches: 2 });
  assert.equal(r.vocabSize, 5);
  assert.deepEqual(r.batches.map((b) => numbers(b.input_ids)), [[1, 2, 3, 4], [1, 0, 3, 4]]);
  // Without an unknown token, a word outside the vocabulary has no id at all.
  const noUnk = write('wordlevel-nounk.json', JSON.stringify({ ...wordLevel, added_tokens: [], model: { type: 'WordLevel', vocab: { the: 0, light: 1 } } }));
  await assert.rejects(textBatches(write('lamp.txt', 'the lamp'), noUnk, [ids()]), formatError(/"lamp", which is not in the vocabulary of wordlevel-nounk\.json/));
});

test('a byte-level BPE tokenizer (GPT-2 style) applies its merges', async () => {
  const vocab: Record<string, number> = { '<|endoftext|>': 0, t: 1, h: 2, e: 3, 'Ġ': 4, c: 5, a: 6, th: 7, the: 8, 'Ġc': 9, 'Ċ': 10 };
  const bpe = {
    added_tokens: [{ id: 0, content: '<|endoftext|>', special: true, normalized: false, lstrip: false, rstrip: false, single_word: false }],
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: ['t h', 'th e', 'Ġ c'], dropout: null, unk_token: null, fuse_unk: false, byte_fallback: false, ignore_merges: false },
  };
  const tok = write('bpe.json', JSON.stringify(bpe));
  const r = await textBatches(write('cat.txt', 'the cat\nthe'), tok, [ids()], { sequenceLength: 7, batches: 1 });
  // the | Ġc a t | Ċ | the
  assert.deepEqual(numbers(r.batches[0].input_ids), [8, 9, 6, 1, 10, 8]);
  assert.equal(r.vocabSize, 11);
});

test('token ids beyond the model\'s embedding table are refused with both sizes', async () => {
  const model = await OnnxModel.load(MODEL);
  assert.deepEqual(embeddingTable(model, 'input_ids'), { tensor: 'embed.weight', rows: expected.vocabSize });
  model.setInitializer('embed.weight', ElementType.FLOAT, [50, 32], new Float32Array(50 * 32));
  await assert.rejects(
    textBatches(TEXT, TOKENIZER, declaredInputs(model), { sequenceLength: 16, model }),
    formatError(new RegExp(`token id \\d+ from tokenizer\\.json \\(vocabulary of ${expected.vocabSize}\\) is outside the model's embedding embed\\.weight of 50 rows`)),
  );
});
