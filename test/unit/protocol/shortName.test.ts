import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { shortName } from '../../../src/protocol/shortName';

test('shortName keeps short names and the last path segments of long ones', () => {
  assert.equal(shortName('/blocks.0/q/MatMul'), '/blocks.0/q/MatMul');
  assert.equal(shortName('/model/layers.11/self_attn/q_proj/MatMul_quant_scale'), '…/q_proj/MatMul_quant_scale');
  assert.ok(shortName('/model/layers.11/self_attn/q_proj/MatMul_quant_scale').length <= 32);
  assert.equal(shortName('x'.repeat(40)).length, 32);
});
