#!/usr/bin/env node
// A stand-in for the VS Code executable that @vscode/test-electron's runTests() spawns. It takes
// the same command line, runs the extension tests in code-server's real extension host on
// 127.0.0.1, driven by Chromium, and exits with the tests' exit code.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { format } from 'node:util';
import { launchBrowser, startCodeServer, workbenchUrl } from './lib/codeServer.mjs';

const args = process.argv.slice(2);
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const positional = args.filter((a) => !a.startsWith('--'));
const extensionDevelopmentPath = resolve(opt('extensionDevelopmentPath'));
const extensionTestsPath = resolve(opt('extensionTestsPath'));
const folder = positional[0] ? resolve(positional[0]) : undefined;
// The workbench logs a lot about features that need an account or the network; the test output
// keeps only what concerns the tests.
const NOISE = /^\s+at |^\[(AgentHost|ChatModelSelection|AccountPolicyGate|reconnection-grace-time|Service Worker)|^(Creating a socket|Resolving connection|Resolved connection|Updating additional builtin)|ENOTFOUND|Timed out waiting for authentication provider|^Canceled/;
const timeoutMs = Number(process.env.QUANTSCOPE_TEST_TIMEOUT_MS ?? 15 * 60_000);

const dataDir = mkdtempSync(join(tmpdir(), 'quantscope-cs-'));
let server;
let browser;
let code = 1;
const cleanup = async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { void cleanup().then(() => process.exit(130)); });

try {
  server = await startCodeServer({ dataDir, smokeTestDriver: true, restricted: process.env.QUANTSCOPE_SUITE === 'restricted', logFile: process.env.QUANTSCOPE_CODE_SERVER_LOG });
  console.log(`[shim] code-server ${server.pid} on ${server.baseUrl}`);
  const launched = await launchBrowser();
  browser = launched.browser;
  const { page } = launched;
  let resolveExit;
  const exited = new Promise((res) => { resolveExit = res; });
  await page.exposeFunction('codeAutomationExit', (c) => resolveExit(Number(c)));
  await page.exposeFunction('codeAutomationLog', (type, parts) => {
    const text = Array.isArray(parts) ? format(...parts) : String(parts);
    for (const line of text.split('\n')) if (!NOISE.test(line)) (type === 'error' ? process.stderr : process.stdout).write(line + '\n');
  });
  await page.goto(workbenchUrl(server.baseUrl, server.port, { folder, extensionDevelopmentPath, extensionTestsPath }));
  const timer = new Promise((res) => setTimeout(() => res('timeout'), timeoutMs).unref());
  const r = await Promise.race([exited, timer]);
  if (r === 'timeout') console.error(`[shim] the tests did not finish within ${timeoutMs / 1000} s`);
  else code = r;
} catch (e) {
  console.error(`[shim] ${e instanceof Error ? e.stack : String(e)}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
