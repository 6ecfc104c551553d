import { isFormatError } from '../core/FormatError';
import { DiskFullError, TargetExistsError } from '../core/io/atomicWrite';
import { RecipeError } from '../core/transform/quantize/planRecipe';
import { CancelledError } from '../worker/jobs/JobContext';
import { CliError, type CliErrorCode } from './CliError';
import { UsageError } from './parseArgs';
import type { CliOutput } from './runCliJob';

/** Exit codes, as the help and the README document them. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** The `--json` error object printed on stdout. */
export interface CliErrorReport {
  readonly error: {
    readonly message: string;
    readonly code: CliErrorCode;
    readonly exitCode: number;
    readonly command?: string;
    readonly path?: string;
    readonly format?: string;
  };
}

interface Classified {
  readonly message: string;
  readonly code: CliErrorCode;
  readonly exitCode: number;
  readonly path?: string;
  readonly format?: string;
}

/** Node's file errors in plain words. */
function fileProblem(e: NodeJS.ErrnoException): Classified | undefined {
  const path = e.path ?? '';
  if (e.code === 'ENOENT') return { message: `no such file: ${path}`, code: 'no-such-file', exitCode: EXIT.failure, path };
  if (e.code === 'EISDIR') return { message: `${path} is a folder`, code: 'is-folder', exitCode: EXIT.failure, path };
  if (e.code === 'EACCES' || e.code === 'EPERM') return { message: `no permission to read ${path}`, code: 'unreadable', exitCode: EXIT.failure, path };
  return undefined;
}

function classify(e: unknown, interrupted: string): Classified {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof UsageError) return { message, code: 'usage', exitCode: EXIT.usage };
  if (e instanceof CliError) return { message, code: e.code, exitCode: EXIT.failure, ...(e.path ? { path: e.path } : {}), ...(e.format ? { format: e.format } : {}) };
  if (e instanceof CancelledError) return { message: interrupted, code: 'interrupted', exitCode: EXIT.interrupted };
  // A reader's "cannot open" keeps the file system's error as its cause.
  const errno = (isFormatError(e) && e.cause instanceof Error ? e.cause : e) as NodeJS.ErrnoException | undefined;
  const file = typeof errno?.code === 'string' ? fileProblem(errno) : undefined;
  if (file) return file;
  if (isFormatError(e) || e instanceof RecipeError) return { message, code: 'unreadable', exitCode: EXIT.failure };
  if (e instanceof DiskFullError) return { message, code: 'no-space', exitCode: EXIT.failure, path: e.target };
  if (e instanceof RangeError || e instanceof TargetExistsError) return { message, code: 'refused', exitCode: EXIT.failure };
  return { message: `internal error: ${message}`, code: 'internal', exitCode: EXIT.failure };
}

/**
 * Prints a failed command's error: one `quantscope: ` line on stderr (usage mistakes add where
 * the help is), and with `json` the same as a {@link CliErrorReport} on stdout. Returns the exit
 * code: 2 for usage, 130 interrupted, 1 for everything else.
 */
export function reportError(e: unknown, json: boolean, output: CliOutput, command?: string, interrupted = 'interrupted; no output was written'): number {
  const c = classify(e, interrupted);
  const helpFor = e instanceof UsageError ? e.command ?? command : undefined;
  const hint = c.code === 'usage' ? `\nRun "quantscope help${helpFor ? ` ${helpFor}` : ''}" for the options.` : '';
  output.err(`quantscope: ${c.message}${hint}\n`);
  if (c.code === 'internal' && e instanceof Error && e.stack) output.err(`${e.stack}\n`);
  if (json) {
    const report: CliErrorReport = {
      error: {
        message: c.message, code: c.code, exitCode: c.exitCode,
        ...(command ? { command } : {}), ...(c.path ? { path: c.path } : {}), ...(c.format ? { format: c.format } : {}),
      },
    };
    output.out(JSON.stringify(report, null, 2) + '\n');
  }
  return c.exitCode;
}
