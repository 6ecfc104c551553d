// One build script for every bundle: extension, worker, CLI, webviews and tests.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
// --product: only what ships (extension, worker, CLI, webviews), with source maps; no test bundles.
const productOnly = production || process.argv.includes('--product');

/** Lists files under `dir` whose names end with `suffix`, recursively. */
function files(dir, suffix) {
  const out = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: production ? false : 'linked',
  minify: production,
  // onnxruntime-node loads a native binary relative to its own package, so it is never bundled.
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'warning',
};

const browser = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  tsconfig: 'webview/tsconfig.json',
};

const builds = [
  { ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { worker: 'src/worker/host/main.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  { ...browser, entryPoints: { editor: 'webview/editor/main.ts', outliers: 'webview/outliers/main.ts', bench: 'webview/bench/main.ts' }, outdir: 'dist/webview' },
];

if (!productOnly) {
  const unit = files('test/unit', '.test.ts');
  if (unit.length) builds.push({ ...node, entryPoints: unit, outbase: 'test', outdir: 'dist/test' });
  const integration = [...files('test/integration', '.test.ts'), 'test/integration/index.ts'];
  builds.push({
    ...node,
    entryPoints: integration,
    outbase: 'test/integration',
    outdir: 'dist/test/suite',
    // mocha resolves its reporters dynamically; it is loaded from node_modules at test time.
    external: [...node.external, 'mocha'],
  });
  const e2e = files('test/e2e', '.test.ts');
  if (e2e.length) builds.push({ ...node, entryPoints: e2e, outbase: 'test', outdir: 'dist/test', external: [...node.external, 'playwright-core'] });
  const bench = files('bench', '.bench.ts');
  if (bench.length) builds.push({ ...node, entryPoints: bench, outbase: 'bench', outdir: 'dist/bench' });
}

// A production build replaces only the shipped bundles, so test bundles from a dev build survive.
if (!watch && !productOnly) rmSync('dist', { recursive: true, force: true });
// The codicon font and its classes, which @vscode-elements/elements takes as a peer dependency:
// the webviews draw their icons with the workbench's own glyphs, coloured by the theme.
mkdirSync(join('dist', 'webview'), { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(join('node_modules', '@vscode', 'codicons', 'dist', f), join('dist', 'webview', f));
if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  if (production) {
    // Source maps left by an earlier dev build no longer match the minified bundles.
    for (const f of [...files('dist', '.map')]) if (!f.includes(`${join('dist', 'test')}`)) rmSync(f);
  }
  console.log(`[esbuild] ${builds.length} bundles built${production ? ' (production)' : ''}`);
}
