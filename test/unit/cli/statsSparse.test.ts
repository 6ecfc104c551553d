/**
 * `quantscope stats` streams: over a safetensors file that declares 1.5 GiB of float32 weights
 * (three 512 MiB tensors whose data are holes in a sparse file), the CLI's peak resident memory
 * stays under 1 GiB, less than the file, so no whole file nor the three tensors together were
 * ever in memory. The 6 GiB run is `npm run bench -- statsSparse` (about a minute here).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { WeightProfile } from '../../../src/protocol/workerProtocol';
import { runCliWithPeak, sparseTensorNames, writeSparseSafetensors } from '../support/sparseSafetensors';

const GiB = 1024 ** 3;
const SHAPE = [8192, 16384] as const;
const COUNT = 3;
const dir = mkdtempSync(join(tmpdir(), 'quantscope-sparse-stats-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('stats over a sparse 1.5 GiB safetensors file: every tensor profiled (all zeros), peak RSS under 1 GiB', { skip: process.platform !== 'linux' && 'relies on sparse files and getrusage in KiB' }, async () => {
  const path = join(dir, 'sparse.safetensors');
  const declared = writeSparseSafetensors(path, COUNT, SHAPE);
  assert.ok(declared > 1.5 * GiB);
  // Holes: the file takes almost no disk, so this runs wherever the temporary folder has a little room.
  assert.ok(statSync(path).blocks * 512 < 1024 * 1024, 'the file is sparse');
  const { stdout, code, maxRss } = await runCliWithPeak(['stats', path, '--json'], path);
  console.log(`stats over ${(declared / GiB).toFixed(2)} GiB declared: peak RSS ${(maxRss / 1024 ** 2).toFixed(0)} MiB`);
  assert.equal(code, 0, stdout);
  const profile = JSON.parse(stdout) as WeightProfile;
  assert.deepEqual(profile.tensors.map((t) => t.name).sort(), sparseTensorNames(COUNT).sort());
  for (const t of profile.tensors) {
    assert.equal(t.error, undefined, t.error);
    assert.equal(t.stats?.count, SHAPE[0] * SHAPE[1]);
    assert.equal(t.stats?.absmax, 0);
  }
  assert.ok(maxRss < GiB, `peak RSS ${maxRss} bytes`);
});
