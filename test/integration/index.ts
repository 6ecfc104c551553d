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
  for (const f of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(join(__dirname, f));
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
