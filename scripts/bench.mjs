// Runs the benchmarks under bench/ (all, or those named: `npm run bench -- open stats`). Each one
// times our code and a reference (numpy, a plain ONNX Runtime loop) in the same run and prints
// ratios; absolute times on a shared machine prove little.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib/codeServer.mjs';

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const dir = join(root, 'dist', 'bench');
const all = readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort();
const chosen = names.length ? all.filter((f) => names.some((n) => f.startsWith(`${n}.`))) : all;
if (!chosen.length) {
  console.error(`no benchmark matches ${names.join(', ')}; have: ${all.map((f) => f.replace('.bench.js', '')).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const f of chosen) {
  console.log(`\n=== bench ${f.replace('.bench.js', '')}`);
  const r = spawnSync(process.execPath, [join(dir, f), ...passthrough], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_PATH: join(root, 'node_modules') } });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
