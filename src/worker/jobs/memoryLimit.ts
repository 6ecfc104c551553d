import { totalmem } from 'node:os';
import type { JobContext } from './JobContext';

/** The worker's argument that carries the memory cap in MiB (`quantscope.worker.maxMemoryMB`). */
export const MAX_MEMORY_ARG = '--max-memory-mb=';

/** The share of RAM a job may plan for when no cap is set: the rest is the editor's and the system's. */
const RAM_SHARE = 0.8;

/** A limit on the big buffers of one job, and where it comes from (for the refusal's message). */
export interface MemoryLimit {
  readonly bytes: number;
  readonly origin: string;
}

/**
 * The cap in bytes given to this process as `--max-memory-mb=N` (N a positive integer), or
 * undefined when there is none. A malformed value is ignored rather than fatal: the worker still
 * runs, bounded by RAM as before.
 */
export function memoryCapFromArgv(argv: readonly string[]): number | undefined {
  const arg = argv.find((a) => a.startsWith(MAX_MEMORY_ARG));
  if (!arg) return undefined;
  const mb = Number(arg.slice(MAX_MEMORY_ARG.length));
  return Number.isInteger(mb) && mb > 0 ? mb * 1024 * 1024 : undefined;
}

/**
 * What a job may hold in big buffers: the worker's cap when it has one and it is the smaller,
 * else 80% of RAM. Jobs compare their estimate against it before they read any weight.
 */
export function jobMemoryLimit(ctx: Pick<JobContext, 'memoryCapBytes'>, ram: number = totalmem()): MemoryLimit {
  const share = Math.floor(ram * RAM_SHARE);
  const cap = ctx.memoryCapBytes;
  if (cap !== undefined && cap < share) return { bytes: cap, origin: "the worker's memory cap, quantscope.worker.maxMemoryMB" };
  return { bytes: share, origin: "80% of this machine's memory" };
}

/** {@link jobMemoryLimit} as the decoder builder's options, so its refusal names the limit's origin. */
export function decoderMemoryLimit(ctx: Pick<JobContext, 'memoryCapBytes'>): { memoryLimitBytes: number; memoryLimitOrigin: string } {
  const limit = jobMemoryLimit(ctx);
  return { memoryLimitBytes: limit.bytes, memoryLimitOrigin: limit.origin };
}
