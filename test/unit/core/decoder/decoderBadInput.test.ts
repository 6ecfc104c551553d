import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildDecoder, openDecoderSource } from '../../../../src/core/decoder';
import { isFormatError } from '../../../../src/core/FormatError';
import { GGUF_TYPE, writeGguf } from '../../support/ggufWriter';
import { fixture } from '../../support/paths';

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'decoder-bad-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A copy of a fixture folder to break. */
async function copyOf(name: string, as: string): Promise<string> {
  const dir = join(root, as);
  await cp(fixture('decoder', name), dir, { recursive: true });
  return dir;
}

async function editConfig(dir: string, edit: (c: Record<string, unknown>) => void, file = 'config.json'): Promise<void> {
  const c = JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>;
  edit(c);
  await writeFile(join(dir, file), JSON.stringify(c));
}

/** Asserts that opening and building `path` fails with a FormatError matching `message`, and that nothing appears in the folder. */
async function refuses(path: string, folder: string, message: RegExp, build = false): Promise<void> {
  const before = (await readdir(folder)).sort();
  await assert.rejects(async () => {
    const source = await openDecoderSource(path);
    if (build) await buildDecoder(source, { memoryLimitBytes: 64 * 1024 });
  }, (e: unknown) => {
    assert.ok(isFormatError(e), `not a FormatError: ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
  assert.deepEqual((await readdir(folder)).sort(), before, 'something was written next to the source');
}

test('a folder without config.json is refused, naming the folder and the missing file', async () => {
  const dir = join(root, 'no-config');
  await cp(fixture('decoder', 'llama', 'model.safetensors'), join(dir, 'model.safetensors'), { recursive: true });
  await refuses(dir, dir, /no-config has no config\.json/);
  await refuses(join(dir, 'model.safetensors'), dir, /no-config has no config\.json/);
});

test('a config whose dims disagree with the tensor shapes names the tensor, both shapes and the config fields', async () => {
  const dir = await copyOf('llama', 'wrong-kv');
  await editConfig(dir, (c) => { c.num_key_value_heads = 2; });
  await refuses(dir, dir, /tensor model\.layers\.0\.self_attn\.k_proj\.weight has shape \[32, 32\] but config\.json \(num_key_value_heads 2 × head_dim 8, hidden_size 32\) implies \[16, 32\]/);
  const inter = await copyOf('llama', 'wrong-inter');
  await editConfig(inter, (c) => { c.intermediate_size = 128; });
  await refuses(inter, inter, /mlp\.gate_proj\.weight has shape \[96, 32\] but config\.json \(intermediate_size 128, hidden_size 32\) implies \[128, 32\]/);
  const heads = await copyOf('llama', 'uneven-heads');
  await editConfig(heads, (c) => { c.num_key_value_heads = 3; });
  await refuses(heads, heads, /4 attention heads cannot be shared evenly by 3 key\/value heads/);
});

test('a tensor the config needs but the checkpoint lacks is named as the checkpoint names it', async () => {
  const dir = await copyOf('meta_pth', 'meta-3-layers');
  await editConfig(dir, (c) => { c.n_layers = 3; }, 'params.json');
  await refuses(dir, dir, /consolidated\.00\.pth has no tensor layers\.2\.attention_norm\.weight/);
  const fewer = await copyOf('llama', 'fewer-layers');
  await editConfig(fewer, (c) => { c.num_hidden_layers = 1; });
  // Tensors the config does not call for (the second layer here) are ignored.
  assert.equal((await openDecoderSource(fewer)).config.numLayers, 1);
});

/** Rewrites a safetensors file's header (tensor names, dtypes), keeping its data. */
async function editHeader(file: string, edit: (header: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const bytes = await readFile(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = edit(JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>);
  const text = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  await writeFile(file, Buffer.concat([length, text, bytes.subarray(8 + n)]));
}

test('packed GPTQ weights and integer tensors are refused as such, naming the tensor', async () => {
  const packed = await copyOf('llama', 'gptq');
  await editHeader(join(packed, 'model.safetensors'), (h) => {
    const { ['model.layers.0.self_attn.q_proj.weight']: q, ...rest } = h;
    return { ...rest, 'model.layers.0.self_attn.q_proj.qweight': q };
  });
  await refuses(packed, packed, /model\.safetensors holds model\.layers\.0\.self_attn\.q_proj\.qweight instead of model\.layers\.0\.self_attn\.q_proj\.weight: GPTQ\/AWQ-packed weights/);
  const ints = await copyOf('llama', 'int-weights');
  await editHeader(join(ints, 'model.safetensors'), (h) => {
    (h['model.layers.1.mlp.up_proj.weight'] as { dtype: string }).dtype = 'I32';
    return h;
  });
  await refuses(ints, ints, /tensor model\.layers\.1\.mlp\.up_proj\.weight is stored as I32, which cannot be read as float weights/);
});

test('a missing shard is named', async () => {
  const dir = await copyOf('llama_gqa', 'missing-shard');
  await rm(join(dir, 'model-00002-of-00002.safetensors'));
  await refuses(dir, dir, /shard model-00002-of-00002\.safetensors named in the index cannot be opened/);
});

test('an unsupported model_type, activation or rope scaling is named', async () => {
  const dir = await copyOf('llama', 'gpt2');
  await editConfig(dir, (c) => { c.model_type = 'gpt2'; });
  await refuses(dir, dir, /config\.json: model_type "gpt2" is not supported: decoders are built for llama, mistral, qwen2/);
  await editConfig(dir, (c) => { delete c.model_type; });
  await refuses(dir, dir, /config\.json: has no model_type/);
  await editConfig(dir, (c) => { c.model_type = 'llama'; c.hidden_act = 'gelu'; });
  await refuses(dir, dir, /hidden_act "gelu" is not supported/);
  await editConfig(dir, (c) => { c.hidden_act = 'silu'; c.rope_scaling = { rope_type: 'yarn', factor: 4 }; });
  await refuses(dir, dir, /rope_scaling type "yarn" is not supported \(linear and llama3 are\)/);
  await editConfig(dir, (c) => { c.rope_scaling = { rope_type: 'llama3', factor: 8 }; });
  await refuses(dir, dir, /config\.json rope_scaling: low_freq_factor is missing/);
  await editConfig(dir, (c) => { c.rope_scaling = null; c.hidden_size = 'big'; });
  await refuses(dir, dir, /config\.json: hidden_size must be a positive integer, not "big"/);
});

test('a GGUF without llama.* metadata is refused before its tensors are read', async () => {
  const dir = join(root, 'gguf');
  await cp(fixture('decoder', 'llama_gqa', 'config.json'), join(dir, 'config.json'), { recursive: true });
  const tensor = { name: 'token_embd.weight', dims: [32, 4], type: 0, data: new Uint8Array(32 * 4 * 4) };
  const cases: [string, { key: string; type: number; value: string | number }[], RegExp][] = [
    ['no-arch.gguf', [{ key: 'general.name', type: GGUF_TYPE.STRING, value: 'x' }], /no-arch\.gguf: has no general\.architecture; a decoder needs llama\.\* metadata/],
    ['bare.gguf', [{ key: 'general.architecture', type: GGUF_TYPE.STRING, value: 'llama' }], /bare\.gguf: general\.architecture is llama but there are no llama\.\* keys/],
    ['gpt2.gguf', [{ key: 'general.architecture', type: GGUF_TYPE.STRING, value: 'gpt2' }, { key: 'gpt2.block_count', type: GGUF_TYPE.U32, value: 2 }], /architecture "gpt2" is not supported/],
    ['partial.gguf', [{ key: 'general.architecture', type: GGUF_TYPE.STRING, value: 'llama' }, { key: 'llama.embedding_length', type: GGUF_TYPE.U32, value: 32 }], /partial\.gguf llama\.\*: attention\.head_count is missing/],
  ];
  for (const [name, kvs, message] of cases) {
    await writeFile(join(dir, name), writeGguf(kvs, [tensor]));
    await refuses(join(dir, name), dir, message);
  }
});

test('a model too large for the memory the build may use is refused before any weight is read', async () => {
  const dir = await copyOf('llama', 'too-big');
  await refuses(dir, dir, /building this llama decoder needs about .* of memory \(its weights take .* as float32\), more than the 64\.0 KB available/, true);
});
