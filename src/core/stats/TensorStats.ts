// The statistics are wire data, owned by the protocol; the kernels here compute them.
export type * from '../../protocol/statsTypes';
