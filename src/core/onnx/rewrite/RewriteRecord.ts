// The records are wire data, owned by the protocol; the rewriters fill them in.
export type { RewriteKind, RewriteRecord, SkippedRewrite } from '../../../protocol/rewriteTypes';
