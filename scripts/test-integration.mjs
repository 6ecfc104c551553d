// Runs the mocha suite inside a real VS Code extension host through @vscode/test-electron.
// Here that host is code-server (driven by Chromium through the shim); where desktop VS Code can
// be downloaded, QUANTSCOPE_VSCODE=desktop runs the same suite in it.
import { runTests } from '@vscode/test-electron';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCodeServer, root } from './lib/codeServer.mjs';

const desktop = process.env.QUANTSCOPE_VSCODE === 'desktop' || !haveCodeServer();
const resultDir = mkdtempSync(join(tmpdir(), 'quantscope-it-'));
const resultFile = join(resultDir, 'result.json');
// The tests write models (quantized outputs) next to their sources: work on a copy of the fixtures.
const workspace = join(resultDir, 'workspace');
cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
let exitCode = 0;
try {
  await runTests({
    ...(desktop ? {} : { vscodeExecutablePath: join(root, 'scripts', 'code-server-shim.mjs') }),
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'dist', 'test', 'suite', 'index.js'),
    launchArgs: [workspace, '--disable-extensions'],
    extensionTestsEnv: { QUANTSCOPE_TEST_RESULT: resultFile },
  });
} catch (e) {
  console.error(`[integration] ${e instanceof Error ? e.message : String(e)}`);
  exitCode = 1;
}
let counts = { passed: 0, failed: exitCode ? 1 : 0 };
try {
  counts = JSON.parse(readFileSync(resultFile, 'utf8'));
} catch {
  console.error('[integration] the suite did not report its counts (did the extension host start?)');
  exitCode = 1;
}
rmSync(resultDir, { recursive: true, force: true });
console.log(`[integration] ${counts.passed} passed, ${counts.failed} failed`);
process.exit(exitCode || (counts.failed ? 1 : 0));
