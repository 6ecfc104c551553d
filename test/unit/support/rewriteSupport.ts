import type { MatrixLike } from '../../../src/core/linalg/Matrix';
import { OnnxModel } from '../../../src/core/onnx/OnnxModel';
import { ElementType } from '../../../src/core/onnx/onnxMessages';
import { canonicalWeight, findWeightTargets, NameAllocator, type RewriteRecord, type WeightTarget } from '../../../src/core/onnx/rewrite';
import { dequantize, quantizeRtn, transposeWeight, type QuantizedWeight, type QuantScheme } from '../../../src/core/quant';
import { seededRandom } from '../../../src/core/random/seededRandom';
import { openSession, type RunTensor, type SessionOptions } from '../../../src/worker/ort';

/** A rewrite under test. */
export type Rewrite = (model: OnnxModel, target: WeightTarget, q: QuantizedWeight, names: NameAllocator) => RewriteRecord;

/** The rewritten model, and a float copy holding exactly the weights the rewrite's codes dequantize to. */
export interface RewritePair {
  readonly quantized: OnnxModel;
  readonly reference: OnnxModel;
  readonly records: RewriteRecord[];
}

/**
 * Quantizes the chosen layers (RTN under `scheme` unless `quantize` says otherwise), rewrites them with `rewrite`, and builds the
 * reference: the source with each weight replaced by our own `dequantize()` of the same codes.
 */
export async function rewriteWithReference(
  path: string,
  scheme: QuantScheme,
  rewrite: Rewrite,
  pick: (t: WeightTarget) => boolean = () => true,
  quantize: (W: MatrixLike, t: WeightTarget) => QuantizedWeight = (W) => quantizeRtn(W, scheme),
): Promise<RewritePair> {
  const source = await OnnxModel.load(path);
  const quantized = source.clone();
  const reference = source.clone();
  const names = new NameAllocator(quantized);
  const records: RewriteRecord[] = [];
  for (const t of findWeightTargets(quantized).targets.filter(pick)) {
    const q = quantize({ rows: t.outFeatures, cols: t.inFeatures, data: canonicalWeight(quantized, t) }, t);
    const deq = dequantize(q);
    const stored = t.transposed ? deq : transposeWeight(deq, t.outFeatures, t.inFeatures);
    const dims = t.transposed ? [t.outFeatures, t.inFeatures] : [t.inFeatures, t.outFeatures];
    reference.setInitializer(t.weight, ElementType.FLOAT, dims, stored);
    records.push(rewrite(quantized, t, q, names));
  }
  return { quantized, reference, records };
}

/** A float32 tensor of standard normal values (Box–Muller over a seeded generator). */
export function normalFloats(dims: readonly number[], seed: number): RunTensor {
  const rnd = seededRandom(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()));
  return { type: 'float32', dims, data };
}

/** ‖a − b‖ / ‖b‖ over every element of the float outputs. */
export function relativeL2(a: Record<string, RunTensor>, b: Record<string, RunTensor>): number {
  let num = 0, den = 0;
  for (const [name, t] of Object.entries(b)) {
    const x = a[name].data as Float32Array, y = t.data as Float32Array;
    for (let i = 0; i < y.length; i++) {
      num += (x[i] - y[i]) ** 2;
      den += y[i] ** 2;
    }
  }
  return Math.sqrt(num / den);
}

/** Runs a model once with the given session options. */
export async function runWith(model: Uint8Array | string, feeds: Record<string, RunTensor>, options: SessionOptions = {}): Promise<Record<string, RunTensor>> {
  const s = await openSession(model, { threads: 1, ...options });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/**
 * Runs both models of a pair and returns the relative L2 difference of their outputs. QDQ checks
 * pass `optimization: 'basic'`: from the `extended` level on, ONNX Runtime 1.30 rewrites
 * DequantizeLinear + MatMul into its own `MatMulNBits` kernel (seen in its optimized graph), whose
 * results are no longer the float MatMul of the dequantized weight (about 1e-2 apart on tiny_mlp).
 */
export async function pairError(pair: RewritePair, feeds: Record<string, RunTensor>, options: SessionOptions = {}): Promise<number> {
  const a = await runWith(pair.quantized.toBytes(), feeds, options);
  const b = await runWith(pair.reference.toBytes(), feeds, options);
  return relativeL2(a, b);
}
