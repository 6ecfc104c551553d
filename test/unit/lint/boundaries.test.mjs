// Proves that the lint run fails when a module crosses a runtime or layer boundary, one case per rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { boundaries } from '../../../eslint.boundaries.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...boundaries],
});

const RULES = new Set(['no-restricted-imports', 'quantscope/core-layers']);

async function violations(file, code) {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return result.messages.filter((m) => RULES.has(m.ruleId ?? '') || m.fatal).map((m) => m.message);
}

const cases = [
  ['src/core/stats/probe.ts', "import * as vscode from 'vscode';", true],
  ['src/core/stats/probe.ts', "import * as ort from 'onnxruntime-node';", true],
  ['src/core/stats/probe.ts', "import { WorkerService } from '../../worker/host/WorkerService';", true],
  ['src/core/stats/probe.ts', "import { runCli } from '../../cli/main';", true],
  ['src/extension/probe.ts', "import * as ort from 'onnxruntime-node';", true],
  ['src/extension/probe.ts', "import { WorkerService } from '../worker/host/WorkerService';", true],
  ['src/extension/probe.ts', "import { quantizeModel } from '../worker/jobs/quantize';", true],
  ['src/extension/probe.ts', "import { runQuantize } from '../cli/quantizeCommand';", true],
  ['src/worker/host/WorkerService.ts', "import * as ort from 'onnxruntime-node';", true],
  ['src/worker/host/probe.ts', "import { QuantizeFlow } from '../../extension/quantize/QuantizeFlow';", true],
  ['src/worker/jobs/probe.ts', "import { QuantizeFlow } from '../../extension/quantize/QuantizeFlow';", true],
  ['src/worker/jobs/probe.ts', "import { WorkerService } from '../host/WorkerService';", true],
  ['src/worker/jobs/probe.ts', "import { createMessageConnection } from 'vscode-jsonrpc/node';", true],
  ['src/cli/main.ts', "import * as ort from 'onnxruntime-node';", true],
  ['src/cli/probe.ts', "import { QuantizeFlow } from '../extension/quantize/QuantizeFlow';", true],
  ['src/cli/probe.ts', "import { WorkerService } from '../worker/host/WorkerService';", true],
  ['src/cli/probe.ts', "import * as vscode from 'vscode';", true],
  ['src/protocol/probe.ts', "import type { RewriteRecord } from '../core/onnx/rewrite/RewriteRecord';", true],
  ['src/protocol/probe.ts', "import type { JobContext } from '../worker/jobs/JobContext';", true],
  ['src/protocol/probe.ts', "import * as vscode from 'vscode';", true],
  ['src/core/tensor/probe.ts', "import type { Checkpoint } from '../formats/Checkpoint';", true],
  ['src/core/io/probe.ts', "export { DEFAULT_LIMITS } from '../formats/FormatReader';", true],
  ['src/core/formats/onnx/probe.ts', "import { OnnxModel } from '../../onnx/OnnxModel';", true],
  ['src/core/quant/probe.ts', "import { selectTargets } from '../transform/selectTargets';", true],
  ['src/core/onnx/probe.ts', "import { inputBatches } from '../calibration/inputBatches';", true],
  ['webview/editor/probe.ts', "import { FormatError } from '../../src/core/FormatError';", true],
  ['webview/editor/probe.ts', "import * as vscode from 'vscode';", true],
  ['src/worker/ort.ts', "import * as ort from 'onnxruntime-node';", false],
  ['src/worker/jobs/probe.ts', "import { openSession } from '../ort';", false],
  ['src/worker/host/probe.ts', "import { quantizeModel } from '../jobs/quantize';", false],
  ['src/cli/probe.ts', "import { quantizeModel } from '../worker/jobs/quantize';", false],
  ['src/extension/probe.ts', "import * as vscode from 'vscode';", false],
  ['src/extension/probe.ts', "import { WorkerClient } from './client/WorkerClient';", false],
  ['src/extension/probe.ts', "import { METHODS } from '../core/transform/methods';", false],
  ['webview/editor/probe.ts', "import type { ModelSummary } from '../../src/protocol/workerProtocol';", false],
  ['src/core/stats/probe.ts', "import { FormatError } from '../FormatError';", false],
  ['src/core/stats/probe.ts', "import type { TensorStats } from '../../protocol/statsTypes';", false],
  ['src/core/formats/onnx/probe.ts', "import { onnxRoot } from './onnxSchema';", false],
  ['src/core/formats/probe.ts', "import { onnxReader } from './onnx/onnxReader';", false],
  ['src/core/tensor/probe.ts', "import { FileAccessor } from '../io/FileAccessor';", false],
  ['src/core/transform/probe.ts', "import { calibrationGroups } from '../calibration/layerGroups';", false],
];

for (const [file, code, forbidden] of cases) {
  test(`${forbidden ? 'rejects' : 'allows'} in ${file}: ${code}`, async () => {
    const found = await violations(file, code);
    if (forbidden) assert.ok(found.length > 0, 'expected a boundary error');
    else assert.deepEqual(found, []);
  });
}
