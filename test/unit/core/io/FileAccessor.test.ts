/** The shared handle pool: handles stay open between reads and are let go once no read uses them. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { closeIdleFiles, FileAccessor } from '../../../../src/core/io/FileAccessor';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-accessor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** How many of this process's descriptors are open on `path`. */
function openOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(join('/proc/self/fd', fd)) === path;
    } catch {
      return false;
    }
  }).length;
}

test('a file read through an accessor stays open for the next read, and closeIdleFiles closes it', { skip: process.platform !== 'linux' && 'counts descriptors in /proc' }, async () => {
  const paths = [0, 1, 2].map((i) => join(dir, `f${i}.bin`));
  for (const p of paths) writeFileSync(p, Buffer.alloc(64, 7));
  for (const p of paths) {
    const a = await FileAccessor.open(p);
    assert.deepEqual([...(await a.read(8, 4))], [7, 7, 7, 7]);
  }
  assert.deepEqual(paths.map(openOn), [1, 1, 1], 'kept open between reads');
  assert.ok((await closeIdleFiles()) >= 3);
  assert.deepEqual(paths.map(openOn), [0, 0, 0]);
  // A later read opens the file again.
  const again = await FileAccessor.open(paths[0]);
  assert.equal((await again.read(0, 2)).length, 2);
  assert.equal(openOn(paths[0]), 1);
  await closeIdleFiles();
});
