/**
 * Listing speed: creates ≥1 GB synthetic checkpoints (sparse files: only headers are written,
 * the data is a hole that reads as zeros, so each file is valid), times how long we take to list
 * them, and compares with numpy listing the same safetensors and npy files in the same run.
 * The target is under 100 ms per listing. A benchmark, not a test: it prints, it does not assert.
 */
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../src/core/formats/registry';
import { median, peerProblem, python, ratio, runPython, withTempDirAsync } from './support/benchSupport';

const REPEATS = 15;
const TARGET_MS = 100;

/** A transformer-shaped safetensors file: `layers` blocks of attention and MLP weights in F16. */
function makeSafetensors(path: string, layers: number, hidden: number): { bytes: number; tensors: number } {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  const add = (name: string, shape: number[]): void => {
    const n = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + n] };
    offset += n;
  };
  add('model.embed_tokens.weight', [32000, hidden]);
  for (let i = 0; i < layers; i++) {
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) add(`model.layers.${i}.self_attn.${p}.weight`, [hidden, hidden]);
    add(`model.layers.${i}.mlp.gate_proj.weight`, [hidden * 4, hidden]);
    add(`model.layers.${i}.mlp.up_proj.weight`, [hidden * 4, hidden]);
    add(`model.layers.${i}.mlp.down_proj.weight`, [hidden, hidden * 4]);
    add(`model.layers.${i}.input_layernorm.weight`, [hidden]);
    add(`model.layers.${i}.post_attention_layernorm.weight`, [hidden]);
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json]));
  truncateSync(path, 8 + json.length + offset);
  return { bytes: 8 + json.length + offset, tensors: Object.keys(header).length - 1 };
}

function makeNpy(path: string, rows: number, cols: number): number {
  let text = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  while ((10 + text.length + 1) % 64 !== 0) text += ' ';
  text += '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  pre.writeUInt16LE(text.length, 8);
  writeFileSync(path, Buffer.concat([pre, Buffer.from(text, 'latin1')]));
  const size = 10 + text.length + rows * cols * 4;
  truncateSync(path, size);
  return size;
}

/** A GGUF v3 file with a 32,000-token vocabulary and Q4_K weights. */
function makeGguf(path: string, layers: number, hidden: number): number {
  const parts: Buffer[] = [];
  const u32 = (v: number): void => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v: number): void => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s: string): void => { const b = Buffer.from(s); u64(b.length); parts.push(b); };
  const tensors: { name: string; dims: number[] }[] = [];
  for (let i = 0; i < layers; i++) {
    for (const p of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) tensors.push({ name: `blk.${i}.${p}.weight`, dims: [hidden, hidden] });
    for (const p of ['ffn_gate', 'ffn_up']) tensors.push({ name: `blk.${i}.${p}.weight`, dims: [hidden, hidden * 4] });
    tensors.push({ name: `blk.${i}.ffn_down.weight`, dims: [hidden * 4, hidden] });
  }
  parts.push(Buffer.from('GGUF'));
  u32(3);
  u64(tensors.length);
  u64(2);
  str('general.architecture'); u32(8); str('llama');
  str('tokenizer.ggml.tokens'); u32(9); u32(8); u64(32000);
  for (let t = 0; t < 32000; t++) str(`tok${t}`);
  let offset = 0;
  for (const t of tensors) {
    str(t.name); u32(2); u64(t.dims[0]); u64(t.dims[1]); u32(12); u64(offset);
    offset += (t.dims[0] * t.dims[1] / 256) * 144;
  }
  let head = Buffer.concat(parts);
  head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
  writeFileSync(path, head);
  truncateSync(path, head.length + offset);
  return head.length + offset;
}

async function medianMs(path: string): Promise<{ median: number; first: number; tensors: number }> {
  const times: number[] = [];
  let tensors = 0;
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    tensors = (await openCheckpoint(path)).tensors.length;
    times.push(performance.now() - t);
  }
  return { median: median(times), first: times[0], tensors };
}

const gb = (n: number): string => `${(n / 1024 ** 3).toFixed(2)} GB`;

async function main(): Promise<void> {
  await withTempDirAsync('quantscope-bench-open-', async (dir) => {
    const st = join(dir, 'model.safetensors');
    const npy = join(dir, 'array.npy');
    const gguf = join(dir, 'model.gguf');
    const stInfo = makeSafetensors(st, 32, 2048);
    const npySize = makeNpy(npy, 65536, 8192);
    const ggufSize = makeGguf(gguf, 80, 4096);

    const ours = { safetensors: await medianMs(st), npy: await medianMs(npy), gguf: await medianMs(gguf) };
    const py = runPython('open_numpy.py', [st, npy, String(REPEATS)]);
    let ref: { safetensors: number; npy: number } | undefined;
    if (py.status === 0) ref = JSON.parse(py.stdout) as { safetensors: number; npy: number };
    else console.log(`numpy reference ${peerProblem(py)}${py.status === 127 ? '' : ` (${python()})`}`);

    console.log(`listing (median of ${REPEATS}; target < ${TARGET_MS} ms)`);
    const row = (name: string, size: number, r: { median: number; first: number; tensors: number }, numpy?: number): void => {
      const vsNumpy = numpy === undefined ? '' : `  numpy ${numpy.toFixed(2)} ms  ratio ours/numpy ${ratio(r.median, numpy)}`;
      const ok = r.median < TARGET_MS ? 'ok' : 'SLOW';
      console.log(`  ${name.padEnd(12)} ${gb(size).padStart(9)} ${String(r.tensors).padStart(5)} tensors  ours ${r.median.toFixed(2)} ms (first ${r.first.toFixed(2)} ms) ${ok}${vsNumpy}`);
    };
    row('safetensors', stInfo.bytes, ours.safetensors, ref?.safetensors);
    row('npy', npySize, ours.npy, ref?.npy);
    row('gguf', ggufSize, ours.gguf);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
