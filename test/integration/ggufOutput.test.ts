import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { openCheckpoint } from '../../src/core/formats/registry';
import { readTensor } from '../../src/core/tensor/TensorReader';
import type { GgufExportReport } from '../../src/protocol/ggufExportTypes';

const EXTENSION_ID = 'quantscope.quantscope';

function workspaceFile(...parts: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests run with the fixtures folder open');
  return vscode.Uri.joinPath(folder.uri, ...parts);
}

/**
 * Runs `fn` with each QuickPick answered by the first item whose label is in `answers`,
 * recording what was asked and offered: the smoke-test driver hides the real widgets.
 */
async function answering<T>(answers: readonly string[], fn: () => Thenable<T>): Promise<{ result: T; asked: { title: string; labels: string[] }[] }> {
  const window = vscode.window as unknown as Record<string, unknown>;
  const saved = window.showQuickPick;
  const asked: { title: string; labels: string[] }[] = [];
  window.showQuickPick = async (given: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>, options?: vscode.QuickPickOptions) => {
    const items = await given;
    asked.push({ title: options?.title ?? '', labels: items.map((i) => i.label) });
    const answer = items.find((i) => answers.includes(i.label));
    assert.ok(answer, `an answer among ${items.map((i) => i.label).join(', ')} for "${options?.title ?? ''}"`);
    return answer;
  };
  try {
    return { result: await fn(), asked };
  } finally {
    window.showQuickPick = saved;
  }
}

suite('GGUF output', () => {
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Quantize to GGUF… on the tiny_qwen2 folder writes a Q4_K_M GGUF with an importance matrix beside it, which our reader re-reads', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    if (!ext.isActive) await ext.activate();
    const folder = workspaceFile('tiny_qwen2');
    const weights = vscode.Uri.joinPath(folder, 'model.safetensors');
    const before = await vscode.workspace.fs.readFile(weights);
    const { result: report, asked } = await answering(['Q4_K_M', 'Importance matrix from calibration…', 'Generated inputs'], () =>
      vscode.commands.executeCommand<GgufExportReport | undefined>('quantscope.quantizeGguf', folder),
    );
    assert.ok(report, `the GGUF was written after ${asked.map((a) => a.title).join(' / ')}`);
    assert.deepEqual(asked[0].labels, ['Q4_K_M', 'Q5_K_M', 'Q3_K_M', 'Q8_0'], 'the presets are offered');
    assert.equal(report.output, path.join(folder.fsPath, 'tiny_qwen2.q4_k_m.gguf'));
    assert.equal(report.target, 'Q4_K_M');
    assert.equal(report.architecture, 'qwen2');
    assert.ok(report.calibration && report.calibration.layers > 0 && report.calibration.synthetic, 'an importance matrix from generated token ids');
    assert.deepEqual(await vscode.workspace.fs.readFile(weights), before, 'the checkpoint is untouched');

    const ckpt = await openCheckpoint(report.output);
    assert.deepEqual(ckpt.tensors.map((t) => t.name), report.tensors.map((t) => t.name));
    for (const [i, t] of ckpt.tensors.entries()) {
      assert.equal(t.dtype.replace(/^GGML_/, ''), report.tensors[i].type, `${t.name} is stored as reported`);
      const values = await readTensor(t);
      assert.ok(values.every(Number.isFinite), `${t.name} decodes`);
    }
    assert.equal(ckpt.metadata['general.architecture'], 'qwen2');
    // Rows of 32 do not split into 256-value k-quant blocks: the report names the fallbacks.
    assert.ok(report.tensors.some((t) => t.wanted === 'Q4_K'));
    await new Promise((r) => setTimeout(r, 500));
    const open = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === report.output);
    assert.ok(open, 'the GGUF opens in the checkpoint editor');
  });

  test('from the checkpoint editor, it quantizes the checkpoint shown there', async () => {
    const weights = workspaceFile('tiny_qwen2', 'model.safetensors');
    await vscode.commands.executeCommand('vscode.openWith', weights, 'quantscope.checkpoint');
    const t0 = Date.now();
    for (;;) {
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      if (tab?.input instanceof vscode.TabInputCustom && tab.input.uri.fsPath === weights.fsPath) break;
      if (Date.now() - t0 > 20_000) throw new Error('timed out waiting for the checkpoint editor');
      await new Promise((r) => setTimeout(r, 100));
    }
    const { result: report } = await answering(['Q5_K_M', 'Round to nearest'], () => vscode.commands.executeCommand<GgufExportReport | undefined>('quantscope.quantizeGguf'));
    assert.ok(report);
    assert.equal(report.output, path.join(path.dirname(weights.fsPath), 'tiny_qwen2.q5_k_m.gguf'));
    assert.equal(report.target, 'Q5_K_M');
  });

  test('a second run never overwrites the first GGUF', async () => {
    const folder = workspaceFile('tiny_qwen2');
    const { result: report } = await answering(['Q8_0', 'Round to nearest'], () => vscode.commands.executeCommand<GgufExportReport | undefined>('quantscope.quantizeGguf', vscode.Uri.joinPath(folder, 'config.json')));
    assert.ok(report);
    assert.equal(report.output, path.join(folder.fsPath, 'tiny_qwen2.q8_0.gguf'));
    assert.equal(report.calibration, undefined);
    const again = await answering(['Q8_0', 'Round to nearest'], () => vscode.commands.executeCommand<GgufExportReport | undefined>('quantscope.quantizeGguf', folder));
    assert.ok(again.result);
    assert.notEqual(again.result.output, report.output);
  });
});
