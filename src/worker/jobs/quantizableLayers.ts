import { OnnxModel } from '../../core/onnx/OnnxModel';
import { findWeightTargets } from '../../core/onnx/rewrite/weightTargets';
import type { QuantizableLayer } from '../../protocol/workerProtocol';

/** The MatMul and Gemm layers of an ONNX model whose constant weights quantization can rewrite. */
export async function quantizableLayers(path: string): Promise<QuantizableLayer[]> {
  const { targets } = findWeightTargets(await OnnxModel.load(path));
  return targets.map((t) => ({ layer: t.layer, opType: t.opType, weight: t.weight, inFeatures: t.inFeatures, outFeatures: t.outFeatures }));
}
