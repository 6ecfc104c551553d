import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { openSession } from '../../../src/worker/ort';
import { fixture } from '../support/paths';

const CHILD = 'QUANTSCOPE_ORT_LOG_CHILD';

/** In the child: a run that ONNX Runtime fails (a token id past the embedding), its message printed. */
async function failingRun(): Promise<void> {
  const s = await openSession(fixture('lm', 'tiny_lm.onnx'), { threads: 1 });
  try {
    await s.run({ input_ids: { type: 'int64', dims: [1, 2], data: BigInt64Array.from([1n, 999n]) } });
  } catch (e) {
    process.stdout.write(`caught: ${e instanceof Error ? e.message : String(e)}\n`);
  } finally {
    await s.release();
  }
}

if (process.env[CHILD] === '1') {
  void failingRun();
} else {
  test("a failing run reaches the caller as its message, without ONNX Runtime's own log line on stderr", () => {
    const child = spawnSync(process.execPath, [__filename], { env: { ...process.env, [CHILD]: '1' }, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /caught: .*Gather.*idx=999/);
    assert.doesNotMatch(child.stderr, /onnxruntime|sequential_executor/);
  });
}
