// Pruning kernels: magnitude (per layer or global), N:M masks, channel permutation search for
// N:M (Pool & Yu 2021) and SparseGPT (Frantar & Alistarh 2023). The layer error
// tr(ΔW·H·ΔWᵀ) is linalg's quadraticTraceOfDifference, shared with quantization.
export * from './PrunedWeight';
export * from './removeSmallest';
export * from './magnitudePrune';
export * from './nmMask';
export { seededNormal, seededRandom } from '../random/seededRandom';
export * from './stripeKept';
export * from './stripeGroupPartitions';
export * from './permuteColumns';
export * from './permutationEfficacy';
export * from './channelPermutation';
export * from './rtnColumnQuantizer';
export * from './sparsegpt';
