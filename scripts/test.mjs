// The whole test suite: build, static checks, unit tests, integration tests in a real VS Code
// extension host, packaging, and end-to-end tests of the installed .vsix. Ends with one line
// "N passed, N failed" over every layer. `node scripts/test.mjs unit` runs only some layers.
// The integration and e2e layers need code-server and a browser: they are provisioned first
// (scripts/lib/provision.mjs), so that a missing system package is reported in seconds.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib/codeServer.mjs';
import { provision } from './lib/provision.mjs';

const all = ['static', 'unit', 'integration', 'e2e'];
const wanted = process.argv.slice(2).filter((a) => all.includes(a));
const layers = wanted.length ? wanted : all;
mkdirSync(join(root, 'test-results'), { recursive: true });
const totals = { passed: 0, failed: 0 };
const summary = [];

function files(dir, suffixes) {
  const out = [];
  let names = [];
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, suffixes));
    else if (suffixes.some((s) => name.endsWith(s))) out.push(p);
  }
  return out.sort();
}

/** Runs a command with inherited output; resolves with its exit code and what it printed. */
function run(cmd, args, { capture = false, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { process.stdout.write(d); if (capture) out += d; });
    child.stderr.on('data', (d) => { process.stderr.write(d); if (capture) out += d; });
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

function record(layer, passed, failed, seconds) {
  totals.passed += passed;
  totals.failed += failed;
  summary.push(`${layer.padEnd(12)} ${passed} passed, ${failed} failed (${seconds.toFixed(0)} s)`);
}

/** Runs node --test over `testFiles`, counting from a TAP copy of the report. */
async function nodeTest(layer, testFiles, extra = []) {
  const t0 = Date.now();
  if (!testFiles.length) { record(layer, 0, 0, 0); return; }
  const tap = join(root, 'test-results', `${layer}.tap`);
  const { code } = await run(process.execPath, [
    '--enable-source-maps', '--test', '--test-concurrency=1', ...extra,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...testFiles,
  ]);
  const text = readFileSync(tap, 'utf8');
  const count = (k) => Number([...text.matchAll(new RegExp(`^# ${k} (\\d+)$`, 'gm'))].pop()?.[1] ?? 0);
  const passed = count('pass');
  let failed = count('fail') + count('cancelled');
  if (code !== 0 && failed === 0) failed = 1; // the runner itself failed
  record(layer, passed, failed, (Date.now() - t0) / 1000);
}

async function step(layer, name, cmd, args) {
  const t0 = Date.now();
  console.log(`\n=== ${layer}: ${name}`);
  const { code } = await run(cmd, args);
  record(`${layer}:${name}`, code === 0 ? 1 : 0, code === 0 ? 0 : 1, (Date.now() - t0) / 1000);
  return code === 0;
}

// What the code-server layers need, before anything slow runs; a failure is reported again at the end.
let tooling = { ok: true };
if (layers.includes('integration') || layers.includes('e2e')) {
  console.log('=== provision (code-server and a browser for the integration and e2e layers)');
  tooling = await provision();
  if (!tooling.ok) console.log(`[provision] ${tooling.reason}: the integration and e2e layers will fail`);
}

console.log('\n=== build');
const built = (await run(process.execPath, ['esbuild.mjs'])).code === 0;
if (!built) record('build', 0, 1, 0);

if (built && layers.includes('static')) {
  await step('static', 'typecheck', process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', '.']);
  await step('static', 'typecheck-webview', process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'webview']);
  await step('static', 'lint', process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
}

if (built && layers.includes('unit')) {
  console.log('\n=== unit');
  await nodeTest('unit', [...files(join(root, 'dist', 'test', 'unit'), ['.test.js']), ...files(join(root, 'test', 'unit'), ['.test.mjs'])]);
}

/** A layer that cannot run because provisioning failed counts as one failure, with the reason. */
function unprovisioned(layer) {
  console.log(`\n=== ${layer}: not run: ${tooling.reason}`);
  record(`${layer}`, 0, 1, 0);
  summary[summary.length - 1] += ` not run: ${tooling.reason}`;
}

if (built && layers.includes('integration') && !tooling.ok) unprovisioned('integration');
else if (built && layers.includes('integration')) {
  console.log('\n=== integration (mocha in a VS Code extension host)');
  const t0 = Date.now();
  const { code, out } = await run(process.execPath, [join(root, 'scripts', 'test-integration.mjs')], { capture: true });
  const m = [...out.matchAll(/^\[integration\] (\d+) passed, (\d+) failed$/gm)].pop();
  const passed = m ? Number(m[1]) : 0;
  let failed = m ? Number(m[2]) : 1;
  if (code !== 0 && failed === 0) failed = 1;
  record('integration', passed, failed, (Date.now() - t0) / 1000);
}

if (built && layers.includes('e2e') && !tooling.ok) unprovisioned('e2e');
else if (built && layers.includes('e2e')) {
  console.log('\n=== e2e (packaged .vsix in code-server, through Chromium)');
  if (await step('e2e', 'package', process.execPath, [join(root, 'scripts', 'package.mjs')])) {
    await nodeTest('e2e', files(join(root, 'test', 'e2e'), ['.test.mjs']));
  }
}

console.log('\n=== summary');
for (const line of summary) console.log(line);
console.log(`screenshots and reports: test-results/`);
const line = `${totals.passed} passed, ${totals.failed} failed`;
writeFileSync(join(root, 'test-results', 'summary.txt'), [...summary, line].join('\n') + '\n');
console.log(line);
process.exit(totals.failed ? 1 : 0);
