// Provisions what the integration and end-to-end layers need, before they run, so that
// `npm ci && npm test` works on a bare Debian machine with only Node 20:
//   1. the system packages that code-server's native build needs (checked in seconds, first);
//   2. Node 24 and code-server 4.139.1 in .tools/ (scripts/install-tools.sh, a few minutes once);
//   3. a Chromium: the system's when there is one, else the one inside the @sparticuz/chromium
//      npm package, unpacked into .tools/chromium (no root needed, nothing but the npm registry).
// Each step prints one progress line, and each result is cached in .tools/, so a second run
// spends a few milliseconds here. `node scripts/lib/provision.mjs` runs every step by hand.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliDecompressSync } from 'node:zlib';
import { haveCodeServer, npmChromium, root, systemChromium, tools } from './codeServer.mjs';

/** The code-server the tests run; scripts/install-tools.sh installs the same version. */
export const CODE_SERVER_VERSION = '4.139.1';
/**
 * The npm package whose tarball carries a headless Chromium (brotli-compressed) with the few
 * libraries it links beyond glibc (NSS, NSPR, expat) and a font. 143 is its last release that
 * supports Node 20; playwright-core drives it over CDP like any Chromium.
 */
export const NPM_CHROMIUM = '@sparticuz/chromium@143.0.4';

const log = (msg) => console.log(`[provision] ${msg}`);

function onPath(cmd, env = process.env) {
  return (env.PATH ?? '').split(delimiter).filter(Boolean).some((d) => existsSync(join(d, cmd)));
}

/**
 * The Debian packages that building code-server's native addons (kerberos, node-pty, …) needs,
 * each with why and how to tell it is there.
 */
export const BUILD_PACKAGES = [
  { pkg: 'g++', why: 'compiles code-server\'s native addons', present: () => onPath('g++') },
  { pkg: 'make', why: 'drives node-gyp\'s builds', present: () => onPath('make') },
  { pkg: 'python3', why: 'node-gyp runs on Python', present: () => onPath('python3') },
  { pkg: 'pkg-config', why: 'finds the Kerberos library for code-server\'s kerberos addon', present: () => onPath('pkg-config') },
  { pkg: 'libkrb5-dev', why: 'the Kerberos (GSSAPI) headers that code-server\'s kerberos addon compiles against', present: () => existsSync('/usr/include/gssapi/gssapi.h') },
];

/** The packages of `needs` that are not present; QUANTSCOPE_ASSUME_MISSING="a,b" pretends some are absent. */
export function missingPackages(needs = BUILD_PACKAGES, assumeMissing = process.env.QUANTSCOPE_ASSUME_MISSING ?? '') {
  const pretend = new Set(assumeMissing.split(',').map((s) => s.trim()).filter(Boolean));
  return needs.filter((n) => pretend.has(n.pkg) || !n.present());
}

/** How packages can be installed here: 'root', 'sudo' (passwordless) or undefined (they cannot). */
export function privilege() {
  if (process.env.QUANTSCOPE_NO_APT) return undefined;
  if (!onPath('apt-get')) return undefined;
  if (process.getuid?.() === 0) return 'root';
  if (onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return 'sudo';
  return undefined;
}

/** The one command a user runs to install `pkgs`. */
export function aptCommand(pkgs) {
  return `sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

/**
 * Names the cause of a failed code-server install from its log, so the user sees one line and
 * the command that fixes it instead of node-gyp's wall of errors. Undefined when unknown.
 */
export function diagnoseBuildLog(text) {
  const causes = [
    [/gssapi[/\\]gssapi\.h|gssapi\.h: No such file|krb5-gssapi|Package krb5.*not found|krb5-config/i, 'libkrb5-dev', 'the Kerberos headers are missing'],
    [/pkg-config: (command )?not found|pkg-config: No such file/i, 'pkg-config', 'pkg-config is missing'],
    [/find Python|python3?: (command )?not found|Could not find any Python/i, 'python3', 'node-gyp found no Python'],
    [/make: (command )?not found|not found: make|spawn make ENOENT/i, 'make', 'make is missing'],
    [/g\+\+: (command )?not found|c\+\+: (command )?not found|cc: (command )?not found|No such file or directory.*\b(g\+\+|c\+\+)\b/i, 'g++', 'no C++ compiler'],
  ];
  for (const [re, pkg, what] of causes) if (re.test(text)) return { pkg, what, command: aptCommand([pkg]) };
  return undefined;
}

/** Runs a command, its output going to `logFile`; resolves with the exit code. */
function runLogged(cmd, args, { logFile, env = process.env, cwd = root } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.on('error', (e) => { chunks.push(Buffer.from(String(e))); });
    child.on('close', (code) => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (logFile) writeFileSync(logFile, text);
      resolve({ code: code ?? 1, text });
    });
  });
}

/**
 * Step 1: the system packages of the code-server build. Skipped when code-server is already
 * installed (nothing is built then) unless `always`. Installs what is missing with apt-get when root or
 * passwordless sudo allows it; otherwise says which package and the command, and fails.
 */
export async function ensureSystemPackages({ always = false } = {}) {
  if (codeServerReady() && !always) return { ok: true };
  const missing = missingPackages();
  if (!missing.length) {
    log(`system packages: ${BUILD_PACKAGES.map((n) => n.pkg).join(', ')} present`);
    return { ok: true };
  }
  const names = missing.map((n) => n.pkg);
  const how = privilege();
  if (!how) {
    for (const n of missing) log(`missing system package ${n.pkg}: ${n.why}`);
    log(`install ${names.length === 1 ? 'it' : 'them'} with:\n\n  ${aptCommand(names)}\n`);
    return { ok: false, reason: `missing system package${names.length === 1 ? '' : 's'} ${names.join(', ')} (${aptCommand(names)})` };
  }
  for (const n of missing) log(`installing ${n.pkg} with apt-get (${how}): ${n.why}`);
  mkdirSync(tools, { recursive: true });
  // sudo resets the environment, so the non-interactive frontend goes on its command line.
  const [cmd, pre] = how === 'sudo' ? ['sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get']] : ['apt-get', []];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => runLogged(cmd, [...pre, ...args], { env, logFile: join(tools, 'apt.log') });
  const t0 = Date.now();
  let r = await apt(['install', '-y', '-qq', '--no-install-recommends', ...names]);
  if (r.code !== 0) {
    // A fresh machine often has no package lists yet.
    await apt(['update', '-qq']);
    r = await apt(['install', '-y', '-qq', '--no-install-recommends', ...names]);
  }
  if (r.code !== 0) {
    log(`apt-get could not install ${names.join(' ')} (log: .tools/apt.log):\n${r.text.trim().split('\n').slice(-5).join('\n')}`);
    return { ok: false, reason: `apt-get install ${names.join(' ')} failed` };
  }
  const still = missingPackages(missing, '');
  if (still.length) return { ok: false, reason: `${still.map((n) => n.pkg).join(', ')} still missing after apt-get install` };
  log(`system packages installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { ok: true };
}

/** Whether .tools/ holds Node 24 and this version of code-server (install-tools.sh writes the stamp last). */
function codeServerReady() {
  const versionFile = join(tools, 'code-server', '.version');
  return haveCodeServer() && existsSync(versionFile) && readFileSync(versionFile, 'utf8').trim() === CODE_SERVER_VERSION;
}

/** Step 2: Node 24 and code-server in .tools/ through scripts/install-tools.sh, explained when it fails. */
export async function ensureCodeServer() {
  if (codeServerReady()) {
    log(`Node 24 and code-server ${CODE_SERVER_VERSION}: ready in .tools/ (cached)`);
    return { ok: true };
  }
  log(`installing Node 24 and code-server ${CODE_SERVER_VERSION} into .tools/ from the npm registry (once, about 4 minutes)…`);
  const t0 = Date.now();
  const r = await runLogged('bash', [join(root, 'scripts', 'install-tools.sh')]);
  if (r.code === 0 && haveCodeServer()) {
    log(`code-server ${CODE_SERVER_VERSION} installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    return { ok: true };
  }
  const buildLog = join(tools, 'code-server', 'install.log');
  const text = r.text + (existsSync(buildLog) ? readFileSync(buildLog, 'utf8') : '');
  const cause = diagnoseBuildLog(text);
  if (cause) {
    log(`installing code-server failed: ${cause.what}. Install ${cause.pkg} with:\n\n  ${cause.command}\n\nthen run the tests again (full log: .tools/code-server/install.log)`);
    return { ok: false, reason: `code-server's build failed: ${cause.what} (${cause.command})` };
  }
  const lines = text.trim().split('\n').filter((l) => !/^gyp (ERR|info)|^npm (ERR|error) (gyp|code|path|command|errno)/.test(l));
  log(`installing code-server failed (full log: .tools/code-server/install.log):\n${lines.slice(-8).join('\n')}`);
  return { ok: false, reason: 'installing code-server failed' };
}

/** The shell wrapper that runs the unpacked Chromium with its own libraries and fonts. */
function chromiumWrapper() {
  return `#!/bin/sh
# Runs the Chromium unpacked from ${NPM_CHROMIUM} with the libraries and font it ships.
here=$(dirname "$0")
export LD_LIBRARY_PATH="$here/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export FONTCONFIG_FILE="$here/fonts.conf"
exec "$here/chromium-bin" "$@"
`;
}

/** Unpacks the brotli-compressed Chromium and its archives from the npm package into `dest`. */
function unpackChromium(pkgDir, dest) {
  const bin = join(pkgDir, 'bin');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  writeFileSync(join(dest, 'chromium-bin'), brotliDecompressSync(readFileSync(join(bin, 'chromium.br'))));
  chmodSync(join(dest, 'chromium-bin'), 0o755);
  // NSS, NSPR and expat (built for Amazon Linux 2023, whose glibc is older than Debian 12's),
  // the font and SwiftShader: tar archives, unpacked with the system's tar.
  for (const [archive, into] of [['al2023.tar.br', dest], ['fonts.tar.br', join(dest, 'fonts')], ['swiftshader.tar.br', dest]]) {
    mkdirSync(into, { recursive: true });
    const tar = join(dest, 'unpack.tar');
    writeFileSync(tar, brotliDecompressSync(readFileSync(join(bin, archive))));
    const r = spawnSync('tar', ['--no-same-owner', '-xf', tar, '-C', into], { encoding: 'utf8' });
    rmSync(tar, { force: true });
    if (r.status !== 0) throw new Error(`tar could not unpack ${archive}: ${r.stderr}`);
  }
  const fontDirs = [join(dest, 'fonts', 'fonts'), '/usr/share/fonts'].map((d) => `  <dir>${d}</dir>`).join('\n');
  writeFileSync(join(dest, 'fonts.conf'), `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n${fontDirs}\n  <cachedir>${join(dest, 'fonts-cache')}</cachedir>\n</fontconfig>\n`);
  writeFileSync(npmChromium, chromiumWrapper());
  chmodSync(npmChromium, 0o755);
}

/**
 * Step 3: a browser for playwright-core. The system's Chromium when there is one; otherwise the
 * Chromium of {@link NPM_CHROMIUM}, installed with npm into .tools/ and unpacked once.
 */
export async function ensureBrowser() {
  if (process.env.CHROMIUM_PATH && existsSync(process.env.CHROMIUM_PATH)) {
    log(`browser: ${process.env.CHROMIUM_PATH} (CHROMIUM_PATH)`);
    return { ok: true };
  }
  const system = systemChromium();
  if (system) {
    log(`browser: ${system} (the system's Chromium)`);
    return { ok: true };
  }
  const stamp = join(tools, 'chromium', '.version');
  if (existsSync(npmChromium) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === NPM_CHROMIUM) {
    log(`browser: Chromium from ${NPM_CHROMIUM} in .tools/chromium (cached)`);
    return { ok: true };
  }
  log(`browser: no system Chromium; installing ${NPM_CHROMIUM} from the npm registry into .tools/chromium…`);
  const t0 = Date.now();
  const pkgRoot = join(tools, 'chromium-npm');
  mkdirSync(pkgRoot, { recursive: true });
  writeFileSync(join(pkgRoot, 'package.json'), JSON.stringify({ name: 'quantscope-test-browser', private: true }, null, 2));
  const env = { ...process.env };
  delete env.npm_config_ignore_scripts;
  // No install script: the package only needs its files, which we unpack ourselves.
  const r = await runLogged('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', NPM_CHROMIUM], { cwd: pkgRoot, env, logFile: join(tools, 'chromium-npm', 'install.log') });
  if (r.code !== 0) {
    log(`npm could not install ${NPM_CHROMIUM} (log: .tools/chromium-npm/install.log):\n${r.text.trim().split('\n').slice(-5).join('\n')}`);
    return { ok: false, reason: `npm install ${NPM_CHROMIUM} failed` };
  }
  try {
    unpackChromium(join(pkgRoot, 'node_modules', '@sparticuz', 'chromium'), join(tools, 'chromium'));
  } catch (e) {
    return { ok: false, reason: `unpacking Chromium failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  const v = spawnSync(npmChromium, ['--version'], { encoding: 'utf8' });
  if (v.status !== 0) {
    log(`the unpacked Chromium does not start:\n${(v.stderr || v.stdout).trim().split('\n').slice(-5).join('\n')}`);
    log(`Debian's Chromium works instead: ${aptCommand(['chromium'])}`);
    return { ok: false, reason: `the Chromium of ${NPM_CHROMIUM} does not start here (${aptCommand(['chromium'])})` };
  }
  writeFileSync(stamp, NPM_CHROMIUM + '\n');
  rmSync(pkgRoot, { recursive: true, force: true });
  log(`browser: ${v.stdout.trim()} unpacked in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { ok: true };
}

/**
 * Everything the code-server layers need, in order, stopping at the first failure.
 * `browser: false` skips the browser (for `npm start`, where the user brings one).
 * Resolves with { ok, reason? }.
 */
export async function provision({ browser = true } = {}) {
  const t0 = Date.now();
  for (const step of [ensureSystemPackages, ensureCodeServer, ...(browser ? [ensureBrowser] : [])]) {
    const r = await step();
    if (!r.ok) return r;
  }
  const s = (Date.now() - t0) / 1000;
  if (s > 2) log(`ready in ${s.toFixed(0)} s`);
  return { ok: true };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await provision();
  if (!r.ok) console.error(`[provision] ${r.reason}`);
  process.exit(r.ok ? 0 : 1);
}
