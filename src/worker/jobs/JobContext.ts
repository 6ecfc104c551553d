import { CancelledError } from '../../core/linalg/CancelledError';

/** What a running job may ask of its caller: whether to stop, and where to report progress. */
export interface JobContext {
  /** True once the caller cancelled; long loops check it between chunks and stop within a second. */
  readonly isCancelled: () => boolean;
  /** Reports progress; `fraction` is 0..1 or undefined when the length of the work is unknown. */
  readonly progress: (message: string, fraction?: number) => void;
  /** Writes to the user's log (the worker log in VS Code); absent where nobody reads one. */
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** The worker's memory cap in bytes (`--max-memory-mb`); jobs refuse work whose buffers would exceed it. */
  readonly memoryCapBytes?: number;
}

/** Thrown by a job that noticed it was cancelled: the engine's own, so kernels and jobs throw one class. */
export { CancelledError };

/** A context for callers that neither cancel nor watch progress (tests, the CLI without a TTY). */
export const QUIET_JOB: JobContext = { isCancelled: () => false, progress: () => undefined };

/** Throws {@link CancelledError} when the job was cancelled. */
export function throwIfCancelled(ctx: JobContext): void {
  if (ctx.isCancelled()) throw new CancelledError();
}
