import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { deriveFindings } from '../../../../src/core/findings/deriveFindings';
import { sharedWeights } from '../../../../src/core/findings/sharedWeights';
import { computeTensorStats } from '../../../../src/core/stats/computeTensorStats';
import type { MatrixLayout } from '../../../../src/core/stats/MatrixLayout';
import type { Finding } from '../../../../src/protocol/findingTypes';
import type { TensorProfile, WeightProfile } from '../../../../src/protocol/workerProtocol';
import { fixture } from '../../support/paths';

const EXPECTED = JSON.parse(readFileSync(fixture('stats', 'expected.json'), 'utf8')) as Record<string, { file: string; layout: MatrixLayout | null; stats: { shape: number[] } }>;

/** The stats fixture `name` (written by numpy) as float32, through the real statistics kernel. */
function values(name: string): Float32Array {
  const b = readFileSync(fixture('stats', EXPECTED[name].file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function profile(name: string, data: Float32Array, shape: readonly number[], layout?: MatrixLayout | null, dtype = 'F32'): Promise<TensorProfile> {
  const stats = await computeTensorStats(async function* () {
    yield data;
    await Promise.resolve();
  }, [...shape], layout === undefined ? {} : { layout });
  return { name, dtype, shape, layer: `${name}/MatMul`, stats };
}

function weights(tensors: TensorProfile[], shared: WeightProfile['shared'] = []): WeightProfile {
  return { path: 'model.onnx', format: 'onnx', tensors, skipped: 0, heatmap: { layers: [], members: [], columns: 0, values: [], maxChannels: 0 }, shared, elapsedMs: 0 };
}

function findingsOf(w: WeightProfile): readonly Finding[] {
  return deriveFindings({ weights: w }).findings;
}

async function fromFixture(name: string): Promise<TensorProfile> {
  const e = EXPECTED[name];
  return profile(name, values(name), e.stats.shape, e.layout);
}

test('heavy_matmul: outlier input channels 7, 150, 259 are named, with group-wise scales or per-channel as the fix', async () => {
  const f = findingsOf(weights([await fromFixture('heavy_matmul')])).find((x) => x.kind === 'weight-outliers');
  assert.ok(f, 'a weight-outlier finding');
  assert.equal(f.severity, 'warning');
  assert.ok((f.evidence.inputMaxOverMedian as number) > 20);
  assert.match(f.message, /top 7, 150, 259|top (7|150|259), (7|150|259), (7|150|259)/);
  assert.ok(f.fix?.kind === 'int4-g128' || f.fix?.kind === 'int8-channel');
  assert.equal(f.layer, 'heavy_matmul/MatMul');
  assert.equal(f.tensor, 'heavy_matmul');
});

test('wide_matmul: an outlier output channel asks for per-channel scales; the SQNRs are the profile\'s', async () => {
  const t = await fromFixture('wide_matmul');
  const f = findingsOf(weights([t])).find((x) => x.kind === 'weight-outliers');
  assert.ok(f);
  assert.equal(f.fix?.kind, 'int8-channel');
  const sqnr = (s: string): number | null | undefined => t.stats?.quantization.find((q) => q.scheme === s)?.sqnrDb;
  assert.equal(f.evidence.int8PerTensorSqnrDb, sqnr('int8-per-tensor'));
  assert.equal(f.evidence.int8PerChannelSqnrDb, sqnr('int8-per-channel'));
  assert.ok((f.evidence.int8PerChannelSqnrDb as number) > (f.evidence.int8PerTensorSqnrDb as number));
});

test('normal_2d has no finding; special_2d\'s NaN and Inf are an error with their fractions', async () => {
  assert.deepEqual(findingsOf(weights([await fromFixture('normal_2d')])).map((f) => f.kind), []);
  const t = await fromFixture('special_2d');
  const f = findingsOf(weights([t])).find((x) => x.kind === 'non-finite');
  assert.ok(f);
  assert.equal(f.severity, 'error');
  assert.equal(f.fix, null);
  assert.equal(f.evidence.nanFraction, t.stats?.nanFraction);
  assert.equal(f.evidence.infFraction, t.stats?.infFraction);
});

test('dead input channels are listed; denormals are named with the smallest value', async () => {
  const rows = 64, cols = 200;
  const data = values('normal_2d').slice();
  // Layout [out, in] = [64, 200]: zero input columns 5 and 77, shrink 120 to 1e-9 of its values.
  for (let r = 0; r < rows; r++) {
    data[r * cols + 5] = 0;
    data[r * cols + 77] = 0;
    data[r * cols + 120] *= 1e-9;
  }
  data[3] = 1e-40; // a float32 denormal
  const found = findingsOf(weights([await profile('w', data, [rows, cols])]));
  const dead = found.find((f) => f.kind === 'dead-channels');
  assert.deepEqual(dead?.evidence.channels, [5, 77, 120]);
  const den = found.find((f) => f.kind === 'denormals');
  assert.ok(den);
  assert.ok((den.evidence.smallestAbs as number) < 1.2e-38 && (den.evidence.smallestAbs as number) > 5e-41, String(den.evidence.smallestAbs));
});

test('without calibration, INT4 g128 below the SQNR threshold recommends INT8', async () => {
  const t = await fromFixture('heavy_matmul');
  const int4 = t.stats?.quantization.find((q) => q.scheme === 'int4-group-sym')?.sqnrDb ?? NaN;
  const strict = deriveFindings({ weights: weights([t]), thresholds: { int4MinSqnrDb: int4 + 1 } }).findings.find((f) => f.kind === 'int4-error');
  assert.equal(strict?.fix?.kind, 'int8-channel');
  assert.equal(strict?.evidence.int4G128SqnrDb, int4);
  assert.equal(deriveFindings({ weights: weights([t]), thresholds: { int4MinSqnrDb: int4 - 1 } }).findings.find((f) => f.kind === 'int4-error'), undefined);
});

test('a tied embedding (Gather and a MatMul through Transpose read one table) is found and kept in float', () => {
  const node = (name: string, opType: string, inputs: string[], outputs: string[]) => ({ name, opType, domain: '', inputs, outputs, attributes: {} });
  const graph = {
    name: 'g', inputs: [], outputs: [], opsets: { '': 17 },
    nodes: [node('embed', 'Gather', ['wte', 'ids'], ['h']), node('tr', 'Transpose', ['wte'], ['wteT']), node('lm_head', 'MatMul', ['h', 'wteT'], ['logits']), node('fc', 'MatMul', ['h', 'w_fc'], ['y'])],
  };
  const shared = sharedWeights(graph, new Set(['wte', 'w_fc']));
  assert.deepEqual(shared, [{ tensor: 'wte', lookups: ['embed'], layers: ['lm_head'] }]);
  const f = findingsOf(weights([], shared)).find((x) => x.kind === 'tied-embedding');
  assert.equal(f?.layer, 'lm_head');
  assert.equal(f?.fix?.kind, 'keep-float');
});
