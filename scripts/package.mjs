// Builds the production bundles and packages a platform-specific .vsix with @vscode/vsce.
// Only this platform's onnxruntime binaries go in (see .vscodeignore), which keeps it near 20 MB.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib/codeServer.mjs';

const platform = `${process.platform}-${process.arch}`;
if (platform !== 'linux-x64') console.warn(`[package] note: .vscodeignore ships linux-x64 binaries; adjust it for ${platform}`);
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(process.execPath, ['esbuild.mjs', '--production']);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = join(root, `${pkg.name}-${pkg.version}-${platform}.vsix`);
run(process.execPath, [join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--target', platform, '--out', out, '--allow-missing-repository', '--no-rewrite-relative-links', '--allow-star-activation', '--no-update-package-json']);
const mb = statSync(out).size / 2 ** 20;
writeFileSync(join(root, 'dist', 'vsix-path.txt'), out);
console.log(`[package] ${out} (${mb.toFixed(1)} MiB)`);
