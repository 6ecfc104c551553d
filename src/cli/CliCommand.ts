import type { CommandSpec } from './CommandSpec';
import type { ParsedArgs } from './parseArgs';
import type { CliOutput } from './runCliJob';

/** A subcommand: its spec (for parsing and help) and what it does with a parsed command line. */
export interface CliCommand {
  readonly spec: CommandSpec;
  /** Runs the command and returns its exit code; errors are thrown for the caller to report. */
  readonly run: (args: ParsedArgs, output: CliOutput) => Promise<number>;
}
