import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ResultCache } from '../../../../src/extension/profile/ResultCache';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-result-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  readonly tensors: readonly string[];
}

const isResult = (v: unknown): v is Result => typeof v === 'object' && v !== null && Array.isArray((v as { tensors?: unknown }).tensors);

function cacheIn(name: string): { cache: ResultCache; lines: string[]; folder: string } {
  const lines: string[] = [];
  const folder = join(dir, name);
  return { cache: new ResultCache(folder, () => 1 << 20, (m) => lines.push(m)), lines, folder };
}

function model(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, 'model bytes');
  return path;
}

function onlyEntry(folder: string): string {
  const entries = readdirSync(folder).filter((n) => n.endsWith('.json'));
  assert.equal(entries.length, 1);
  return join(folder, entries[0]);
}

for (const damage of [
  { what: 'cut short', apply: (f: string) => truncateSync(f, Math.floor(readFileSync(f).length / 2)), why: /it is not valid JSON/ },
  { what: 'overwritten with other JSON', apply: (f: string) => writeFileSync(f, '{"tensors": 7}'), why: /it does not hold the expected result/ },
  { what: 'full of garbage bytes', apply: (f: string) => appendFileSync(f, Buffer.from([0, 0xff, 0x13])), why: /it is not valid JSON/ },
]) {
  test(`a cache entry ${damage.what} is ignored, removed, reported once in the log, and rebuilt`, async () => {
    const { cache, lines, folder } = cacheIn(damage.what.replace(/ /g, '-'));
    const path = model(`${damage.what.replace(/ /g, '-')}.onnx`);
    const key = await ResultCache.keyFor('weights', path, { version: 2 });
    await cache.set(key, { tensors: ['a', 'b'] });
    assert.deepEqual(await cache.get(key, isResult), { tensors: ['a', 'b'] });
    const entry = onlyEntry(folder);
    damage.apply(entry);
    assert.equal(await cache.get(key, isResult), undefined);
    assert.equal(lines.length, 1);
    assert.match(lines[0], new RegExp(`^ignored the cached weights result of ${path.replace(/[.\\/]/g, '\\$&')} \\(.+\\.json\\): `));
    assert.match(lines[0], damage.why);
    assert.match(lines[0], /so it was removed and is computed again$/);
    assert.deepEqual(readdirSync(folder), []);
    // A second look is a plain miss: nothing more in the log.
    assert.equal(await cache.get(key, isResult), undefined);
    assert.equal(lines.length, 1);
    // The recomputed result is stored and served again.
    assert.equal(await cache.setIfUnchanged(key, { tensors: ['a', 'b', 'c'] }), true);
    assert.deepEqual(await cache.get(key, isResult), { tensors: ['a', 'b', 'c'] });
    assert.equal(lines.length, 1);
  });
}

test('a result computed while its file changed or vanished is not cached under either version', async () => {
  const { cache, lines, folder } = cacheIn('changed');
  const path = model('changed.onnx');
  const before = await ResultCache.keyFor('weights', path, { version: 2 });
  appendFileSync(path, ' and more');
  assert.equal(await cache.setIfUnchanged(before, { tensors: ['stale'] }), false);
  assert.deepEqual(lines, [`did not cache the weights result of ${path}: the file changed while it was computed`]);
  assert.equal(await cache.get(before, isResult), undefined);
  assert.equal(await cache.get(await ResultCache.keyFor('weights', path, { version: 2 }), isResult), undefined);
  const key = await ResultCache.keyFor('weights', path, { version: 2 });
  rmSync(path);
  assert.equal(await cache.setIfUnchanged(key, { tensors: ['stale'] }), false);
  assert.match(lines[1], /the file was deleted while it was computed$/);
  assert.deepEqual(readdirSync(dir).includes('changed') ? readdirSync(folder) : [], []);
});
