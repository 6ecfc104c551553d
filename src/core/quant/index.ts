// Quantization kernels: RTN and GPTQ with ONNX-exact codes, and the Hessian sensitivity table.
export * from './roundHalfEven';
export * from './QuantScheme';
export * from './quantParams';
export * from './rtn';
export * from './dequantize';
export * from './transposeWeight';
export { CancelledError, isCancelledError } from '../linalg/CancelledError';
export * from './gptq';
export * from './sensitivity';
export * from './toUnsigned';
export * from './mixedPrecisionPlan';
export * from './smoothQuant';
