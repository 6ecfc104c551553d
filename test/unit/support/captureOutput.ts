import type { CliOutput } from '../../../src/cli/runCliJob';

/** What a CLI command printed, and its exit code. */
export interface Captured {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs a CLI command with its output collected. The command is handed the sink rather than
 * process.stdout being replaced: the test runner reports through process.stdout, and a replaced
 * one would swallow those reports (a test's result, even a failure, would go missing).
 */
export async function captureOutput(run: (output: CliOutput) => Promise<number>): Promise<Captured> {
  let out = '', err = '';
  const code = await run({ out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}
