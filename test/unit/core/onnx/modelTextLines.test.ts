import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelTextEntries } from '../../../../src/core/onnx/modelTextLines';
import { printModelText } from '../../../../src/core/onnx/ModelTextPrinter';

test('modelTextEntries finds every input, output, node and tensor the printer writes, with the span of its name', () => {
  const text = printModelText({
    fileName: 'm.onnx', format: 'onnx', fileSize: 10,
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', 4] }], outputs: [{ name: 'y: odd', type: 'float32', shape: [2] }],
    nodes: [{ name: '/blocks.0/q/MatMul', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['h'] }, { name: '', opType: 'MatMulNBits', domain: 'com.microsoft', inputs: ['h'], outputs: ['y: odd'] }],
    tensors: [{ name: 'w', dtype: 'F32', shape: [4, 2], summary: 'absmax 1: 2' }],
  });
  const entries = modelTextEntries(text);
  assert.deepEqual(entries.map((e) => [e.kind, e.name, e.detail]), [
    ['input', 'x', 'float32[batch, 4]'], ['output', 'y: odd', 'float32[2]'], ['node', '/blocks.0/q/MatMul', 'MatMul'], ['node', '#1', 'com.microsoft::MatMulNBits'], ['tensor', 'w', 'F32[4, 2]'],
  ]);
  const lines = text.split('\n');
  for (const e of entries) assert.equal(lines[e.line].slice(e.column, e.column + e.length), e.name);
});
