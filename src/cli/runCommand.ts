import type { CliCommand } from './CliCommand';
import { parseArgs } from './parseArgs';
import { renderCommandHelp } from './renderHelp';
import { reportError } from './reportError';
import type { CliOutput } from './runCliJob';

/**
 * Runs one command with the words after its name: `-h`/`--help` prints its help, anything else is
 * parsed against its spec and run. Every error is reported here (one line on stderr, and an
 * error object on stdout with `--json`), so the caller only passes the exit code on.
 */
export async function runCommand(command: CliCommand, argv: readonly string[], output: CliOutput): Promise<number> {
  const words = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (words.includes('--help') || words.includes('-h')) {
    output.out(renderCommandHelp(command.spec));
    return 0;
  }
  // Known before parsing, so that a usage mistake in a --json run is reported as JSON too.
  const json = words.includes('--json');
  try {
    return await command.run(parseArgs(command.spec, argv), output);
  } catch (e) {
    return reportError(e, json, output, command.spec.name);
  }
}
