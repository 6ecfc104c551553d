import { OnnxModel } from '../../core/onnx/OnnxModel';
import { findWeightTargets } from '../../core/onnx/rewrite/weightTargets';
import type { QuantizableLayer } from '../../protocol/workerProtocol';
import { QUIET_JOB, type JobContext } from './JobContext';
import { resolveModelInput } from './modelInput';

/** The MatMul and Gemm layers of an ONNX model (or a checkpoint's built graph) whose constant weights quantization can rewrite. */
export async function quantizableLayers(path: string, ctx: JobContext = QUIET_JOB): Promise<QuantizableLayer[]> {
  const { targets } = findWeightTargets(await OnnxModel.load((await resolveModelInput(path, ctx)).onnx));
  return targets.map((t) => ({ layer: t.layer, opType: t.opType, weight: t.weight, inFeatures: t.inFeatures, outFeatures: t.outFeatures }));
}
