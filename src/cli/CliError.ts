/** What went wrong, as the `code` of a `--json` error object. */
export type CliErrorCode =
  /** A mistake on the command line (exit 2). */
  | 'usage'
  /** A named file does not exist. */
  | 'no-such-file'
  /** A folder where the command needs a file. */
  | 'is-folder'
  /** A readable file of a format the command does not read. */
  | 'wrong-format'
  /** A file the readers reject (truncated, corrupt, not a checkpoint). */
  | 'unreadable'
  /** The job refused the request: an existing output, a scheme a layer cannot take. */
  | 'refused'
  /** The disk (or quota) filled up while an output was written; nothing was left behind. */
  | 'no-space'
  /** Ctrl-C (exit 130). */
  | 'interrupted'
  /** A bug in Quantscope. */
  | 'internal';

/** A problem the CLI reports in plain words, with the code its `--json` error object carries. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  /** The file the problem is about, when there is one. */
  readonly path: string | undefined;
  /** The format the file turned out to be, for `wrong-format`. */
  readonly format: string | undefined;

  constructor(message: string, code: CliErrorCode, details: { path?: string; format?: string } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.path = details.path;
    this.format = details.format;
  }
}
