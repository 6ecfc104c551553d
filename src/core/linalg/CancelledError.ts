/**
 * Thrown by a long-running kernel (a factorization, GPTQ, a sensitivity table) when the caller's
 * cancellation check returns true.
 */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** True when `e` is a {@link CancelledError}, also across bundle boundaries. */
export function isCancelledError(e: unknown): e is CancelledError {
  return e instanceof CancelledError || (e instanceof Error && e.name === 'CancelledError');
}
