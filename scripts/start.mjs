// `npm start`: builds the extension and opens it on a sample model in a real VS Code. Uses
// desktop `code` when it is on PATH; otherwise code-server on 127.0.0.1 (installed into .tools/
// on first use), printing the URL to open.
// QUANTSCOPE_START_CHECK=1 makes it non-interactive (for scripts/fresh-machine.sh and CI-like
// checks): always code-server, then it waits until the URL answers and a headless Chromium shows
// the sample model in the checkpoint editor, stops the server by PID and exits 0 (1 on failure).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { codeServerCli, launchBrowser, root, startCodeServer, workbenchUrl } from './lib/codeServer.mjs';
import { provision } from './lib/provision.mjs';

const check = Boolean(process.env.QUANTSCOPE_START_CHECK);

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run(process.execPath, ['esbuild.mjs', '--product']);

// The sample workspace: the real Silero VAD model shipped in an npm package, and a tiny MLP.
const sample = join(tmpdir(), 'quantscope-sample-workspace');
mkdirSync(sample, { recursive: true });
const silero = join(root, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx');
if (existsSync(silero)) copyFileSync(silero, join(sample, 'silero_vad_v5.onnx'));
copyFileSync(join(root, 'test', 'fixtures', 'workspace', 'tiny_mlp.onnx'), join(sample, 'tiny_mlp.onnx'));
const model = join(sample, existsSync(silero) ? 'silero_vad_v5.onnx' : 'tiny_mlp.onnx');

const hasCode = spawnSync('sh', ['-c', 'command -v code'], { stdio: 'ignore' }).status === 0;
if (hasCode && !process.env.QUANTSCOPE_USE_CODE_SERVER && !check) {
  console.log(`Opening ${model} in VS Code with the extension in development mode…`);
  run('code', ['--new-window', `--extensionDevelopmentPath=${root}`, sample, model]);
  process.exit(0);
}

// The check drives a browser itself; otherwise the user brings one.
const tooling = await provision({ browser: check });
if (!tooling.ok) {
  console.error(`npm start: ${tooling.reason}`);
  process.exit(1);
}
// code-server's browser workbench loads development extensions only for test runs, so the
// extension is packaged and installed into a private extensions folder, as a user would.
run(process.execPath, [join(root, 'scripts', 'package.mjs')]);
const dataDir = join(root, '.tools', 'start-data');
const vsix = readFileSync(join(root, 'dist', 'vsix-path.txt'), 'utf8').trim();
await codeServerCli(['--user-data-dir', join(dataDir, 'user-data'), '--extensions-dir', join(dataDir, 'extensions'), '--install-extension', vsix, '--force'], { logFile: join(root, '.tools', 'start-code-server.log') });
const server = await startCodeServer({
  dataDir,
  // The extension opens this file once it activates (code-server cannot be handed a file to open).
  env: { QUANTSCOPE_OPEN_ON_START: model },
  logFile: join(root, '.tools', 'start-code-server.log'),
});
const url = workbenchUrl(server.baseUrl, server.port, { folder: sample });
if (check) process.exit(await checkStart(server, url, model));
console.log(`\ncode-server (pid ${server.pid}) is serving Quantscope on 127.0.0.1.\nOpen this URL in a browser:\n\n  ${url}\n\nPress Ctrl+C to stop.`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
// Keep the process alive while the server runs.
setInterval(() => undefined, 1 << 30);


/**
 * The non-interactive check: the URL answers, and in a browser the sample model opens in the
 * checkpoint editor with its signature. Stops the server by PID; resolves with the exit code.
 */
async function checkStart(srv, workbench, modelPath) {
  const name = modelPath.split('/').pop();
  const t0 = Date.now();
  let browser;
  try {
    const r = await fetch(workbench);
    if (!r.ok) throw new Error(`${workbench} answered ${r.status}`);
    console.log(`[start] ${workbench} answers ${r.status}`);
    const launched = await launchBrowser();
    browser = launched.browser;
    const { page } = launched;
    await page.goto(workbench);
    await page.locator('.tabs-container .tab', { hasText: name }).waitFor({ state: 'visible', timeout: 180_000 });
    // The editor's page is drawn in a webview (an iframe in an iframe); wait for its heading.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const frames = page.locator('iframe.webview.ready');
      const n = await frames.count();
      let shown = false;
      for (let i = 0; i < n && !shown; i++) {
        const inner = frames.nth(i).contentFrame().locator('iframe#active-frame').contentFrame();
        shown = await inner.locator('section.signature h1, h1', { hasText: name }).first().isVisible().catch(() => false);
      }
      if (shown) break;
      if (Date.now() > deadline) throw new Error(`the checkpoint editor did not show ${name}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    mkdirSync(join(root, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(root, 'test-results', 'start.png') });
    console.log(`[start] ${name} is open in the checkpoint editor after ${((Date.now() - t0) / 1000).toFixed(0)} s (test-results/start.png)`);
    return 0;
  } catch (e) {
    console.error(`[start] check failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    await browser?.close().catch(() => undefined);
    await srv.stop();
    console.log(`[start] code-server (pid ${srv.pid}) stopped`);
  }
}
