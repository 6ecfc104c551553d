import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { test } from 'node:test';
import { methodParamsFromArgs } from '../../../../src/cli/methodOptions';
import { parseArgs, UsageError } from '../../../../src/cli/parseArgs';
import { QUANTIZE_SPEC, quantizeSpec } from '../../../../src/cli/quantizeCommand';
import { renderCommandHelp } from '../../../../src/cli/renderHelp';
import { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { canonicalWeight, findWeightTargets } from '../../../../src/core/onnx/rewrite';
import { METHODS } from '../../../../src/core/transform/methods';
import { CLI_NAMES, ParamError } from '../../../../src/core/transform/ParamSpec';
import { currentWeight, writeWeight } from '../../../../src/core/transform/prune/pruneLayer';
import type { TransformMethod } from '../../../../src/core/transform/TransformMethod';
import { validateParams } from '../../../../src/core/transform/validateParams';
import type { TransformReportBase, TransformSource } from '../../../../src/protocol/transformTypes';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { runTransform } from '../../../../src/worker/jobs/runTransform';
import { transformModels } from '../../support/transformModels';

const { tiny: TINY } = transformModels('quantscope-pipeline-');

// A method added the way every method is: its parameters, one table entry, and its kernel.
interface ScaleParams extends TransformSource {
  readonly method: 'scale';
  readonly factor?: number;
}
interface ScaledLayer {
  readonly layer: string;
  readonly weights: number;
}
interface ScaleReport extends TransformReportBase<ScaledLayer> {
  readonly method: 'scale';
  readonly factor: number;
}

const FACTOR = { name: 'factor', field: 'factor', kind: 'number', min: 0, max: 1, default: 1, placeholder: 'F', help: 'What every weight is multiplied by (0 rounds to zero bits)' } as const;

const SCALE: TransformMethod<ScaleParams, ScaledLayer, ScaleReport> = {
  name: 'scale', job: 'quantize', label: 'Scale',
  description: 'multiply every weight by a factor: 1 keeps the model, 0 rounds every weight to zero bits',
  params: [FACTOR],
  needs: () => ({ calibration: false, hessian: false, activations: false }),
  suffix: (p) => `x${p.factor ?? FACTOR.default}`,
  start({ model, params }) {
    const factor = params.factor ?? FACTOR.default;
    return {
      layer(target) {
        const w = currentWeight(model, target);
        writeWeight(model, target, w.data.map((x) => x * factor));
        return { layer: { layer: target.layer, weights: w.data.length } };
      },
      metadata: (layers) => ({ method: 'scale', factor, layers: layers.length }),
      report: ({ base }) => ({ ...base, method: 'scale', factor }),
    };
  },
  describe: (r) => `scale by ${r.factor}`,
};

const TABLE = { ...METHODS, scale: SCALE };

test('a method added to the table runs end to end through the pipeline', async () => {
  const same = await runTransform(TABLE.scale, { path: TINY, method: 'scale' }, QUIET_JOB);
  assert.equal(basename(same.output), 'tiny_mlp.x1.onnx');
  assert.equal(same.layers.length, 2);
  // Factor 1 keeps the function: the held-out outputs are bit-identical.
  assert.ok(same.validation.outputs.every((o) => o.relativeL2 === 0 && o.maxAbsError === 0), JSON.stringify(same.validation.outputs));
  assert.equal(TABLE.scale.describe(same), 'scale by 1');

  const zero = await runTransform(TABLE.scale, { path: TINY, method: 'scale', factor: 0 }, QUIET_JOB);
  const written = await OnnxModel.load(zero.output);
  assert.deepEqual(JSON.parse(written.getMetadata('quantscope.quantize') ?? '{}'), { method: 'scale', factor: 0, layers: 2 });
  for (const t of findWeightTargets(written).targets) assert.ok(canonicalWeight(written, t).every((x) => x === 0), `${t.layer} is zero`);
  assert.ok(zero.validation.outputs[0].relativeL2 > 0);
});

test('the one validator checks the new method at every edge, naming the field as the edge calls it', async () => {
  assert.throws(() => validateParams(TABLE.scale, { path: TINY, method: 'scale', factor: 2 }), (e: unknown) => e instanceof ParamError && e.field === 'factor' && /^factor must be a number in \[0, 1\]/.test(e.message));
  await assert.rejects(runTransform(TABLE.scale, { path: TINY, method: 'scale', factor: -1 }, QUIET_JOB), /factor must be a number in \[0, 1\]/);
  assert.throws(() => validateParams(TABLE.scale, { path: TINY, method: 'scale', factor: 2 }, CLI_NAMES), { name: 'ParamError', message: /^--factor must be/ });
  // The CLI's quantize command is generated from the table: the new method and its option appear.
  const spec = quantizeSpec(TABLE);
  const args = parseArgs(spec, [TINY, '--method', 'scale', '--factor', '0.5']);
  assert.deepEqual(methodParamsFromArgs(TABLE, 'quantize', args, { path: TINY }), { path: TINY, method: 'scale', factor: 0.5 });
  assert.throws(() => parseArgs(spec, [TINY, '--method', 'scale', '--factor', '3']), (e: unknown) => e instanceof UsageError && e.message === '--factor must be a number from 0 to 1; got "3"');
  assert.throws(() => parseArgs(QUANTIZE_SPEC, [TINY, '--method', 'scale']), /--method must be rtn, gptq, smoothquant, llmint8 or plan; got "scale"/);
  assert.throws(() => methodParamsFromArgs(METHODS, 'quantize', args, { path: TINY }), /--method must be rtn, gptq, smoothquant, llmint8, plan; got "scale"/);
  const help = renderCommandHelp(spec).replace(/\s+/g, ' ');
  assert.match(help, /--method rtn\|gptq\|smoothquant\|llmint8\|plan\|scale/);
  assert.match(help, /Scale options: --factor F What every weight is multiplied by \(0 rounds to zero bits; 0 to 1; default 1\)/);
});
