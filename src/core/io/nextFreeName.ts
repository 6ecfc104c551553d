import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/**
 * A name next to `source` that no file uses yet: `model.onnx` with suffix `q4` gives `model.q4.onnx`,
 * then `model.q4-1.onnx`, `model.q4-2.onnx`, … The check is advisory (another process may take the
 * name before we write); {@link atomicWrite} refuses an existing target anyway.
 */
export function nextFreeName(source: string, suffix: string, taken: (path: string) => boolean = existsSync): string {
  const ext = extname(source);
  const stem = basename(source, ext);
  const dir = dirname(source);
  const tag = suffix.replace(/^\.+/, '');
  for (let i = 0; ; i++) {
    const candidate = join(dir, `${stem}.${tag}${i === 0 ? '' : `-${i}`}${ext}`);
    if (!taken(candidate)) return candidate;
  }
}
