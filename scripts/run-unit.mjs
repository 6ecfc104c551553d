// Builds the given unit tests (or all of them) into a private temporary folder and runs them with
// node --test, so several people can run tests at once without sharing dist/.
import * as esbuild from 'esbuild';
import { mkdtempSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const reporter = args.find((a) => a.startsWith('--test-reporter='));
const entries = args.filter((a) => !a.startsWith('--'));
const tests = entries.length ? entries : files('test/unit');
const out = mkdtempSync(join(tmpdir(), 'quantscope-unit-'));
await esbuild.build({
  entryPoints: tests.map((t) => resolve(t)),
  outbase: resolve('test'),
  outdir: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'warning',
});

const js = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) js.push(p);
  }
})(out);

const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=1', ...(reporter ? [reporter] : []), ...js], {
  stdio: 'inherit',
  env: { ...process.env, NODE_PATH: resolve('node_modules') },
});
rmSync(out, { recursive: true, force: true });
process.exit(r.status ?? 1);
