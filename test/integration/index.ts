/**
 * Entry point that VS Code's extension host loads for `extensionTestsPath`: runs every
 * `*.test.js` beside it with mocha and records the counts for the CI summary.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

/** Called by the extension host; resolves when every test passed. */
export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 120_000, reporter: 'spec' });
  // QUANTSCOPE_SUITE=restricted runs the tests of a host started in Restricted Mode instead.
  const dir = process.env.QUANTSCOPE_SUITE === 'restricted' ? join(__dirname, 'restricted') : __dirname;
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(join(dir, f));
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run((n) => resolve(n));
    const result = process.env.QUANTSCOPE_TEST_RESULT;
    if (result) {
      runner.on('end', () => {
        writeFileSync(result, JSON.stringify({ passed: runner.stats?.passes ?? 0, failed: runner.stats?.failures ?? 0, pending: runner.stats?.pending ?? 0 }));
      });
    }
  });
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
