import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { analyzeExperts, findExperts, openArchitecture, planMemory } from '../../../../src/core/serving';
import { readTensor } from '../../../../src/core/tensor/TensorReader';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { GGUF_TYPE, writeGguf } from '../../support/ggufWriter';
import { fixture } from '../../support/paths';

interface Expected {
  readonly parameters: number;
  readonly layers: readonly { layer: number; cosine: number[][]; mergeError: number[][]; stats: { norm: number; absmax: number; mean: number; std: number }[] }[];
}

const MOE = fixture('moe', 'model.safetensors');
const expected = JSON.parse(readFileSync(fixture('moe', 'expected.json'), 'utf8')) as Expected;

function close(actual: number, want: number, what: string): void {
  assert.ok(Math.abs(actual - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${what}: ${actual} against ${want}`);
}

function compare(report: Awaited<ReturnType<typeof analyzeExperts>>): void {
  assert.equal(report.layers.length, 2);
  for (const [l, layer] of report.layers.entries()) {
    const want = expected.layers[l];
    assert.equal(layer.experts, 4);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        close(layer.cosine[i][j], want.cosine[i][j], `layer ${l} cosine ${i},${j}`);
        close(layer.mergeError[i][j], want.mergeError[i][j], `layer ${l} merge ${i},${j}`);
      }
      for (const k of ['norm', 'absmax', 'mean', 'std'] as const) close(layer.stats[i][k], want.stats[i][k], `layer ${l} expert ${i} ${k}`);
    }
  }
  // The generator made expert 1 a near copy of expert 0 and expert 3 the negation of expert 2.
  assert.deepEqual([report.layers[0].closest?.a, report.layers[0].closest?.b], [0, 1]);
  close(report.layers[0].cosine[2][3], -1, 'negated expert');
}

test('experts.N. tensors in safetensors: statistics and similarity equal numpy', async () => {
  const checkpoint = await openCheckpoint(MOE);
  const layout = findExperts(checkpoint);
  assert.equal(layout.detectedBy, 'experts.N. tensor names');
  assert.deepEqual(layout.layers.map((g) => [g.layer, g.experts.length, [...g.experts[0].tensors.keys()].join(',')]), [[0, 4, 'w1,w2,w3'], [1, 4, 'w1,w2,w3']]);
  const report = await analyzeExperts(checkpoint, QUIET_JOB);
  compare(report);
  assert.equal(report.expertParameters, 2 * 4 * 3 * 16 * 32);
  // The planner's total and active parameters for the same model, against its weights.
  const a = await openArchitecture(fixture('moe'));
  assert.deepEqual(a.fields['experts'], { origin: 'read', from: 'num_local_experts' });
  const plan = planMemory(a);
  assert.equal(plan.parameters.total, expected.parameters);
  assert.equal(a.countedParameters, expected.parameters);
  assert.equal(plan.parameters.total - plan.parameters.active, 2 * (4 - 2) * 3 * 16 * 32);
});

test('a config without expert keys: the expert count is inferred from the experts.N. tensors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'moe-infer-'));
  try {
    const config = JSON.parse(readFileSync(fixture('moe', 'config.json'), 'utf8')) as Record<string, unknown>;
    delete config['num_local_experts'];
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await writeFile(join(dir, 'model.safetensors'), readFileSync(MOE));
    const a = await openArchitecture(join(dir, 'model.safetensors'));
    assert.equal(a.moe?.experts, 4);
    assert.deepEqual(a.fields['experts'], { origin: 'inferred', from: 'experts.N. tensors (4 distinct)' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('GGUF ffn_*_exps stacks: the same experts, read one slice at a time', async () => {
  const checkpoint = await openCheckpoint(MOE);
  const byName = new Map(checkpoint.tensors.map((t) => [t.name, t]));
  const tensors = [];
  for (let layer = 0; layer < 2; layer++) {
    for (const [role, name] of [['w1', 'ffn_gate_exps'], ['w3', 'ffn_up_exps'], ['w2', 'ffn_down_exps']] as const) {
      const parts = [];
      for (let e = 0; e < 4; e++) {
        const info = byName.get(`model.layers.${layer}.block_sparse_moe.experts.${e}.${role}.weight`);
        assert.ok(info);
        parts.push(await readTensor(info));
      }
      const [rows, cols] = byName.get(`model.layers.${layer}.block_sparse_moe.experts.0.${role}.weight`)?.shape ?? [];
      const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      parts.forEach((p, i) => data.set(p, i * p.length));
      tensors.push({ name: `blk.${layer}.${name}.weight`, dims: [cols, rows, 4], type: 0, data: new Uint8Array(data.buffer) });
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'moe-gguf-'));
  try {
    const path = join(dir, 'moe.gguf');
    await writeFile(path, writeGguf([
      { key: 'general.architecture', type: GGUF_TYPE.STRING, value: 'llama' },
      { key: 'llama.block_count', type: GGUF_TYPE.U32, value: 2 },
      { key: 'llama.embedding_length', type: GGUF_TYPE.U32, value: 16 },
      { key: 'llama.feed_forward_length', type: GGUF_TYPE.U32, value: 32 },
      { key: 'llama.attention.head_count', type: GGUF_TYPE.U32, value: 4 },
      { key: 'llama.attention.head_count_kv', type: GGUF_TYPE.U32, value: 2 },
      { key: 'llama.expert_used_count', type: GGUF_TYPE.U32, value: 2 },
      { key: 'llama.vocab_size', type: GGUF_TYPE.U32, value: 64 },
      { key: 'llama.context_length', type: GGUF_TYPE.U32, value: 256 },
    ], tensors));
    const gguf = await openCheckpoint(path);
    const report = await analyzeExperts(gguf, QUIET_JOB);
    assert.equal(report.detectedBy, 'ffn_*_exps tensors (experts stacked along the first dimension)');
    // Roles sort differently, the flattened order differs, but sums over all matrices do not.
    compare(report);
    const a = await openArchitecture(path);
    assert.deepEqual([a.moe?.experts, a.moe?.expertsPerToken, a.moe?.expertIntermediateSize], [4, 2, 32]);
    assert.match(a.fields['experts'].from, /^blk\.0\.ffn_gate_exps\.weight shape \[4, 32, 16\]/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("ONNX Runtime's MoE node: its stacked fc1/fc2 weights are compared expert by expert", async () => {
  const { GraphWriter } = await import('../../../../src/core/decoder/GraphWriter');
  const { ElementType } = await import('../../../../src/core/onnx/onnxMessages');
  const E = 3;
  const fc1 = Float32Array.from({ length: E * 8 * 4 }, (_, i) => Math.sin(i * 0.7 + 1));
  const fc2 = Float32Array.from({ length: E * 4 * 8 }, (_, i) => Math.cos(i * 0.3));
  // Expert 2 is twice expert 0: cosine 1, and merging them costs ‖W − 2W‖² / (2 (‖W‖² + ‖2W‖²)) = 1/10.
  for (const w of [fc1, fc2]) for (let k = 0; k < w.length / E; k++) w[2 * (w.length / E) + k] = 2 * w[k];
  const g = GraphWriter.create(17, 'moe');
  const x = g.input('x', ElementType.FLOAT, ['n', 8]);
  const router = g.input('router', ElementType.FLOAT, ['n', E]);
  const y = g.op('MoE', [x, router, g.weight('fc1_experts_weights', [E, 8, 4], fc1), '', g.weight('fc2_experts_weights', [E, 4, 8], fc2)]);
  g.output(y, ElementType.FLOAT, ['n', 8]);
  const dir = await mkdtemp(join(tmpdir(), 'moe-onnx-'));
  try {
    const path = join(dir, 'moe.onnx');
    await g.model.save(path);
    const report = await analyzeExperts(await openCheckpoint(path), QUIET_JOB);
    assert.equal(report.detectedBy, 'MoE nodes (com.microsoft) and their stacked expert weights');
    assert.equal(report.layers.length, 1);
    const flat = (e: number): number[] => [...fc1.subarray(e * 32, (e + 1) * 32), ...fc2.subarray(e * 32, (e + 1) * 32)];
    const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);
    for (let i = 0; i < E; i++) {
      for (let j = 0; j < E; j++) {
        const [a, b] = [flat(i), flat(j)];
        close(report.layers[0].cosine[i][j], dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b)), `cosine ${i},${j}`);
      }
    }
    close(report.layers[0].cosine[0][2], 1, 'scaled copy');
    close(report.layers[0].mergeError[0][2], 1 / 10, 'merge error of a scaled copy');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
