/**
 * The headless CLI. It calls the same worker functions the editor uses, in-process, so a script
 * and the editor see the same results.
 */
import { runCli } from './runCli';
import { reportError } from './reportError';
import { PROCESS_OUTPUT } from './runCliJob';

runCli(process.argv.slice(2), PROCESS_OUTPUT).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportError(e, process.argv.includes('--json'), PROCESS_OUTPUT);
  },
);
