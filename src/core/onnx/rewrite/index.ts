// Graph rewrites that replace float MatMul/Gemm weights by quantized forms ONNX Runtime runs.
export * from './RewriteRecord';
export * from './NameAllocator';
export * from './weightTargets';
export * from './replaceWeightedNode';
export * from './packInt4';
export * from './packMatMulNBits';
export * from './matMulNBits';
export * from './weightOnlyQdq';
export * from './dynamicW8A8';
export * from './staticW8A8';
export * from './int8Decomposition';
export * from './smoothQuant';
