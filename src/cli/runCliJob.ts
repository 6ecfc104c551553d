import type { JobContext } from '../worker/jobs/JobContext';
import { reportError } from './reportError';

/** A job context for the terminal: progress on stderr when it is a TTY (so `--json` stays clean). */
export function terminalContext(isCancelled: () => boolean = () => false): JobContext & { readonly clear: () => void } {
  const tty = process.stderr.isTTY;
  return {
    isCancelled,
    progress: (message, fraction) => {
      if (tty) process.stderr.write(`\r\x1b[K${fraction === undefined ? '' : `${(fraction * 100).toFixed(0)}% `}${message}`.slice(0, process.stderr.columns ?? 120));
    },
    clear: () => {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

/** Where a command prints its result (`out`) and its one-line problems (`err`). */
export interface CliOutput {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The process's standard output and error. */
export const PROCESS_OUTPUT: CliOutput = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/**
 * Runs a long CLI job: Ctrl-C cancels it (exit 130), a failure is reported (exit 1; see
 * {@link reportError}) and the result is printed as text or JSON (exit 0).
 */
export async function runCliJob<T>(command: string, job: (ctx: JobContext) => Promise<T>, render: (result: T) => string, json: boolean, onInterrupt = 'interrupted; no output was written', output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  const ctx = terminalContext(() => interrupted);
  try {
    const result = await job(ctx);
    ctx.clear();
    output.out(json ? JSON.stringify(result, null, 2) + '\n' : render(result));
    return 0;
  } catch (e) {
    ctx.clear();
    return reportError(e, json, output, command, onInterrupt);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
