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
// The tests write models (quantized outputs) next to their sources: work on a copy of the fixtures.
const workspace = join(resultDir, 'workspace');
cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
/**
 * One run of the suite in a new extension host; resolves with its counts. `suite` 'restricted'
 * starts the host with workspace trust on and the folder untrusted, and runs that suite's tests.
 */
async function runSuite(suite) {
  const resultFile = join(resultDir, `result-${suite}.json`);
  let failed = false;
  try {
    await runTests({
      ...(desktop ? {} : { vscodeExecutablePath: join(root, 'scripts', 'code-server-shim.mjs') }),
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'dist', 'test', 'suite', 'index.js'),
      launchArgs: [workspace, '--disable-extensions'],
      extensionTestsEnv: { QUANTSCOPE_TEST_RESULT: resultFile, QUANTSCOPE_SUITE: suite },
    });
  } catch (e) {
    console.error(`[integration] ${suite}: ${e instanceof Error ? e.message : String(e)}`);
    failed = true;
  }
  try {
    const counts = JSON.parse(readFileSync(resultFile, 'utf8'));
    return { passed: counts.passed, failed: counts.failed || (failed ? 1 : 0) };
  } catch {
    console.error(`[integration] ${suite}: the suite did not report its counts (did the extension host start?)`);
    return { passed: 0, failed: 1 };
  }
}

const counts = { passed: 0, failed: 0 };
for (const suite of desktop ? ['main'] : ['main', 'restricted']) {
  const c = await runSuite(suite);
  counts.passed += c.passed;
  counts.failed += c.failed;
}
rmSync(resultDir, { recursive: true, force: true });
console.log(`[integration] ${counts.passed} passed, ${counts.failed} failed`);
process.exit(counts.failed ? 1 : 0);
