import { intAttribute, type OnnxModel } from '../OnnxModel';
import { ElementType, type NodeMessage } from '../onnxMessages';
import type { ScratchArrays } from '../../quant/ScratchArrays';
import { transposeWeight } from '../../quant/transposeWeight';
import type { SkippedRewrite } from './RewriteRecord';

/** A MatMul or Gemm whose right operand is a constant 2-D float weight: something a rewrite can quantize. */
export interface WeightTarget {
  /** The node's name (or its first output when unnamed), as calibration names layers. */
  readonly layer: string;
  readonly node: NodeMessage;
  readonly opType: 'MatMul' | 'Gemm';
  /** The initializer or Constant output holding the weight. */
  readonly weight: string;
  /** The activation input. */
  readonly activation: string;
  /** Input (reduction) width K. */
  readonly inFeatures: number;
  /** Output width N. */
  readonly outFeatures: number;
  /** True when the stored weight is [out, in] (Gemm with transB = 1); otherwise it is [in, out]. */
  readonly transposed: boolean;
  /** Bytes the stored weight takes. */
  readonly storedBytes: number;
}

/** The targets of a model and the layers that cannot be rewritten. */
export interface WeightTargets {
  readonly targets: readonly WeightTarget[];
  readonly skipped: readonly SkippedRewrite[];
}

const FLOAT_BYTES: Readonly<Record<number, number>> = { [ElementType.FLOAT]: 4, [ElementType.FLOAT16]: 2, [ElementType.BFLOAT16]: 2, [ElementType.DOUBLE]: 8 };

/** The name a layer goes by: the node's name, else its first output. */
export function layerName(node: NodeMessage): string {
  return node.name || node.output?.[0] || '';
}

/**
 * Finds the MatMul and Gemm nodes of the main graph that read a constant 2-D float weight as
 * their second input. Gemm nodes with `transA`, or `alpha`/`beta` other than 1, are skipped with a
 * reason: the rewritten operators have no such attributes.
 */
export function findWeightTargets(model: OnnxModel): WeightTargets {
  const targets: WeightTarget[] = [];
  const skipped: SkippedRewrite[] = [];
  for (const node of model.nodes) {
    if ((node.domain ?? '') !== '' || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) continue;
    const layer = layerName(node);
    const [activation, weight] = node.input ?? [];
    if (!activation || !weight) continue;
    const info = model.tensorInfo(weight);
    // Activation × activation products (attention scores) have no weight to quantize: not listed.
    if (!info) continue;
    const bytes = FLOAT_BYTES[info.dataType];
    if (bytes === undefined) {
      skipped.push({ layer, reason: `weight ${weight} has element type ${info.dataType}, not a float type` });
      continue;
    }
    // The rewrites emit float32 scales, so their outputs are float32: in a float16 model the
    // consumer would see a type it does not accept.
    if (info.dataType !== ElementType.FLOAT) {
      skipped.push({ layer, reason: `weight ${weight} is not float32; only float32 layers are rewritten` });
      continue;
    }
    if (info.dims.length !== 2) {
      skipped.push({ layer, reason: `weight ${weight} has rank ${info.dims.length}; only 2-D weights are rewritten` });
      continue;
    }
    const opType = node.opType;
    let transposed = false;
    if (opType === 'Gemm') {
      if (intAttribute(node, 'transA', 0) !== 0) {
        skipped.push({ layer, reason: 'Gemm with transA = 1 is not rewritten' });
        continue;
      }
      const alpha = node.attribute?.find((a) => a.name === 'alpha')?.f ?? 1;
      const beta = node.attribute?.find((a) => a.name === 'beta')?.f ?? 1;
      if (alpha !== 1 || (beta !== 1 && (node.input?.[2] ?? '') !== '')) {
        skipped.push({ layer, reason: `Gemm with alpha ${alpha} and beta ${beta} is not rewritten; only alpha = beta = 1` });
        continue;
      }
      transposed = intAttribute(node, 'transB', 0) !== 0;
    }
    const [d0, d1] = info.dims;
    const inFeatures = transposed ? d1 : d0;
    const outFeatures = transposed ? d0 : d1;
    if (inFeatures === 0 || outFeatures === 0) {
      skipped.push({ layer, reason: `weight ${weight} is empty` });
      continue;
    }
    targets.push({ layer, node, opType, weight, activation, inFeatures, outFeatures, transposed, storedBytes: d0 * d1 * bytes });
  }
  return { targets, skipped };
}

/**
 * The target's weight in our canonical orientation W [out, in] (row-major float32), which the
 * quantization kernels take: a MatMul's [in, out] initializer is transposed. With `scratch` the
 * values land in its arrays, valid only until the next call with the same scratch.
 */
export function canonicalWeight(model: OnnxModel, target: WeightTarget, scratch?: ScratchArrays): Float32Array {
  const n = target.inFeatures * target.outFeatures;
  const stored = model.getFloatTensor(target.weight, scratch?.float32('stored', n));
  return target.transposed ? stored : transposeWeight(stored, target.inFeatures, target.outFeatures, scratch?.float32('canonical', n));
}
