// Proves that the lint run fails when a module crosses a runtime boundary.
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

async function violations(file, code) {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases = [
  ['src/core/stats/probe.ts', "import * as vscode from 'vscode';", true],
  ['src/core/stats/probe.ts', "import * as ort from 'onnxruntime-node';", true],
  ['src/core/stats/probe.ts', "import { WorkerService } from '../../worker/WorkerService';", true],
  ['src/extension/probe.ts', "import * as ort from 'onnxruntime-node';", true],
  ['src/extension/probe.ts', "import { WorkerService } from '../worker/WorkerService';", true],
  ['src/worker/WorkerService.ts', "import * as ort from 'onnxruntime-node';", true],
  ['src/cli/main.ts', "import * as ort from 'onnxruntime-node';", true],
  ['webview/editor/probe.ts', "import { FormatError } from '../../src/core/FormatError';", true],
  ['webview/editor/probe.ts', "import * as vscode from 'vscode';", true],
  ['src/worker/ort.ts', "import * as ort from 'onnxruntime-node';", false],
  ['src/extension/probe.ts', "import * as vscode from 'vscode';", false],
  ['src/extension/probe.ts', "import { WorkerClient } from './client/WorkerClient';", false],
  ['webview/editor/probe.ts', "import type { ModelSummary } from '../../src/protocol/workerProtocol';", false],
  ['src/core/stats/probe.ts', "import { FormatError } from '../FormatError';", false],
];

for (const [file, code, forbidden] of cases) {
  test(`${forbidden ? 'rejects' : 'allows'} in ${file}: ${code}`, async () => {
    const found = await violations(file, code);
    if (forbidden) assert.ok(found.length > 0, 'expected a no-restricted-imports error');
    else assert.deepEqual(found, []);
  });
}
