/**
 * The one error a format reader may throw for a bad file: truncated, lying, malicious or simply
 * not the format it claims to be. Its message is written for the user, and names the problem
 * (`header declares 2^40 tensors but the file has 1.2 MB left`), never a stack trace.
 */
export class FormatError extends Error {
  /** The format whose reader rejected the file, such as `safetensors`, when known. */
  readonly format: string | undefined;
  /** The byte offset where the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(message: string, options: { format?: string; offset?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FormatError';
    this.format = options.format;
    this.offset = options.offset;
  }
}

/** True when `e` is a {@link FormatError}, also across bundle boundaries where `instanceof` fails. */
export function isFormatError(e: unknown): e is FormatError {
  return e instanceof FormatError || (e instanceof Error && e.name === 'FormatError');
}
