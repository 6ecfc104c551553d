// The linear algebra the quantization and pruning kernels share (GPTQ, SparseGPT, sensitivity).
export * from './Matrix';
export * from './NotPositiveDefiniteError';
export * from './CancelledError';
export * from './cholesky';
export * from './choleskyDamped';
export * from './triangularSolve';
export * from './invertLower';
export * from './choleskyInverse';
export * from './spdInverse';
export * from './upperCholeskyOfInverse';
export * from './gemm';
export * from './quadraticTrace';
export * from './HessianForm';
export * from './powerIteration';
export * from './GramAccumulator';
export * from './prepareHessian';
