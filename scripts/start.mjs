// `npm start`: builds the extension and opens it on a sample model in a real VS Code. Uses
// desktop `code` when it is on PATH; otherwise code-server on 127.0.0.1 (installed into .tools/
// on first use), printing the URL to open.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { codeServerCli, haveCodeServer, root, startCodeServer, workbenchUrl } from './lib/codeServer.mjs';

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
if (hasCode && !process.env.QUANTSCOPE_USE_CODE_SERVER) {
  console.log(`Opening ${model} in VS Code with the extension in development mode…`);
  run('code', ['--new-window', `--extensionDevelopmentPath=${root}`, sample, model]);
  process.exit(0);
}

if (!haveCodeServer()) run('bash', [join(root, 'scripts', 'install-tools.sh')]);
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
console.log(`\ncode-server (pid ${server.pid}) is serving Quantscope on 127.0.0.1.\nOpen this URL in a browser:\n\n  ${url}\n\nPress Ctrl+C to stop.`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
// Keep the process alive while the server runs.
setInterval(() => undefined, 1 << 30);
