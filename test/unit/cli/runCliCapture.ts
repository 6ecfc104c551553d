import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/runCli';
import { captureOutput, type Captured } from '../support/captureOutput';
import { repoRoot } from '../support/paths';

/** Runs the whole CLI in-process (`argv` as after `quantscope`), its output captured. */
export function cli(...argv: string[]): Promise<Captured> {
  return captureOutput((output) => runCli(argv, output));
}

/** Runs the built CLI bundle as a user does, `node dist/cli.js …`, and returns its exit code and output. */
export function cliProcess(...argv: string[]): Captured {
  const root = repoRoot();
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...argv], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
