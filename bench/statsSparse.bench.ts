/**
 * `quantscope stats` over a sparse safetensors file declaring 6 GiB of float32 (three
 * 16384 × 32768 tensors, the data left as holes: zeros, no disk), run by the CLI in a child
 * process. Prints the time and the CLI's peak RSS against the goal of 1 GiB: the statistics
 * stream, so memory stays flat whatever the file's size. A benchmark because it takes about a
 * minute; `test/unit/cli/statsSparse.test.ts` runs the same at 1.5 GiB. It prints, it does not assert.
 *   npm run bench -- statsSparse [--gib=6]
 */
import { join } from 'node:path';
import type { WeightProfile } from '../src/protocol/workerProtocol';
import { runCliWithPeak, writeSparseSafetensors } from '../test/unit/support/sparseSafetensors';
import { withTempDirAsync } from './support/benchSupport';

const GiB = 1024 ** 3;
/** The goal: the CLI's peak resident memory. */
const GOAL = GiB;
const SHAPE = [16384, 32768] as const;

async function main(): Promise<void> {
  const arg = process.argv.find((a) => a.startsWith('--gib='));
  const gib = arg ? Number(arg.slice('--gib='.length)) : 6;
  if (!Number.isInteger(gib) || gib < 2 || gib % 2 !== 0) throw new Error('--gib must be an even number of GiB, at least 2 (tensors are 2 GiB each)');
  await withTempDirAsync('quantscope-bench-sparse-', async (dir) => {
    const path = join(dir, 'sparse.safetensors');
    const declared = writeSparseSafetensors(path, gib / 2, SHAPE);
    const t0 = performance.now();
    const { stdout, code, maxRss } = await runCliWithPeak(['stats', path, '--json'], path);
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`stats exited with ${code}: ${stdout}`);
    const profile = JSON.parse(stdout) as WeightProfile;
    const failed = profile.tensors.filter((t) => !t.stats).length;
    console.log(`stats over ${(declared / GiB).toFixed(2)} GiB declared (${profile.tensors.length} tensors of ${SHAPE.join(' × ')} F32, ${failed} failed) in ${seconds.toFixed(1)} s (${(declared / GiB / seconds).toFixed(2)} GiB/s)`);
    console.log(`peak RSS ${(maxRss / 1024 ** 2).toFixed(0)} MiB; goal under ${GOAL / 1024 ** 2} MiB: ${maxRss < GOAL ? 'met' : 'MISSED'}`);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
