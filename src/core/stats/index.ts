/** Weight statistics: streaming kernels over decoded tensor chunks. */
export { computeTensorStats, StatsCancelledError, type ChunkSource, type TensorStatsOptions } from './computeTensorStats';
export type { TensorStats, Histogram, ChannelSummary, ChannelEntry, QuantErrorStats, QuantSchemeName } from './TensorStats';
export { resolveLayout, type MatrixLayout } from './MatrixLayout';
export * from './quantizeLinear';
