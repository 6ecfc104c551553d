import { ADVISE_COMMAND } from './adviseCommand';
import { BENCH_COMMAND } from './benchCommand';
import type { CliCommand } from './CliCommand';
import { EXPORT_COMMAND } from './exportCommand';
import { INSPECT_COMMAND } from './inspectCommand';
import { MEMORY_COMMAND } from './memoryCommand';
import { PROFILE_COMMAND } from './profileCommand';
import { PRUNE_COMMAND } from './pruneCommand';
import { QUANTIZE_COMMAND } from './quantizeCommand';
import { STATS_COMMAND } from './statsCommand';

/** Every subcommand, in the order the help lists them. */
export const COMMANDS: readonly CliCommand[] = [INSPECT_COMMAND, STATS_COMMAND, PROFILE_COMMAND, QUANTIZE_COMMAND, PRUNE_COMMAND, BENCH_COMMAND, EXPORT_COMMAND, ADVISE_COMMAND, MEMORY_COMMAND];
