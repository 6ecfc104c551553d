/**
 * The quantize job: the method table's quantization entry named by `params.method`, run by the
 * transform pipeline.
 */
import { QUANTIZE_METHODS } from '../../core/transform/methods';
import { methodNamed } from '../../core/transform/validateParams';
import type { QuantizeParams, QuantizeReport } from '../../protocol/quantizeTypes';
import type { JobContext } from './JobContext';
import { runTransform } from './runTransform';

/** Quantizes the selected MatMul/Gemm weights of `params.path` into a new model; see {@link runTransform}. */
export function quantizeModel(params: QuantizeParams, ctx: JobContext): Promise<QuantizeReport> {
  return runTransform(methodNamed(QUANTIZE_METHODS, 'quantize', params.method), params, ctx);
}
