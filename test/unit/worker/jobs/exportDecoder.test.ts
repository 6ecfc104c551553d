import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CancelledError, QUIET_JOB, type JobContext } from '../../../../src/worker/jobs/JobContext';
import { exportDecoder, nextFreeExportName } from '../../../../src/worker/jobs/exportDecoder';
import { resolveModelInput } from '../../../../src/worker/jobs/modelInput';
import { fixture } from '../../support/paths';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A context that cancels after `n` progress reports, and records them. */
function cancelAfter(n: number): JobContext & { readonly messages: string[] } {
  const messages: string[] = [];
  return { messages, isCancelled: () => messages.length >= n, progress: (m) => void messages.push(m) };
}

test('a cancelled export or graph build leaves nothing beside the checkpoint or in the cache', async () => {
  const folder = join(dir, 'mistral');
  cpSync(fixture('decoder', 'mistral'), folder, { recursive: true });
  const files = (): string[] => readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(folder, f)).isFile()).sort();
  const before = files();
  for (const n of [3, 12, 22]) {
    await assert.rejects(exportDecoder({ path: folder }, cancelAfter(n)), CancelledError);
    await assert.rejects(resolveModelInput(folder, cancelAfter(n)), CancelledError);
    assert.deepEqual(files(), before, `cancelled after ${n} reports`);
  }
  // Progress comes through the context while the graph is built.
  const ctx = cancelAfter(Infinity);
  const r = await exportDecoder({ path: folder }, ctx);
  assert.equal(r.output, join(folder, 'model.onnx'));
  assert.ok(ctx.messages.some((m) => m.startsWith('building model.layers.0.')), ctx.messages.join(', '));
  const input = await resolveModelInput(join(folder, 'config.json'), QUIET_JOB);
  assert.deepEqual([input.onnx, input.outputBase, input.decoder?.cacheHit], [join(folder, '.quantscope', 'decoder', 'model.onnx'), join(folder, 'model.onnx'), false]);
  const onnx = await resolveModelInput(r.output, QUIET_JOB);
  assert.deepEqual(onnx, { onnx: r.output, outputBase: r.output });
});

test('export names are numbered past a taken model or data file', () => {
  const taken = new Set(['/m/model.onnx', '/m/model-1.onnx.data']);
  assert.equal(nextFreeExportName('/m/model.onnx', (p) => taken.has(p)), '/m/model-2.onnx');
  assert.equal(nextFreeExportName('/m/x.onnx', (p) => taken.has(p)), '/m/x.onnx');
});
