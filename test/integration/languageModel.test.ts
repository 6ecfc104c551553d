import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { ExportReport } from '../../src/protocol/exportTypes';
import type { QuantizeReport } from '../../src/protocol/quantizeTypes';

const EXTENSION_ID = 'quantscope.quantscope';

function workspaceFile(...parts: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests run with the fixtures folder open');
  return vscode.Uri.joinPath(folder.uri, ...parts);
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs);
}

/** The answers a user gives in the Quantize Layer… flow for GPTQ INT4: every layer, then these labels. */
const ANSWERS = ['GPTQ', 'INT4 MatMulNBits', 'Block 32', 'Generated inputs'];

/**
 * Runs `fn` with each QuickPick answered as a user would (all layers kept, then the item named in
 * {@link ANSWERS}), recording the titles asked: the smoke-test driver hides the real widgets.
 */
async function answering<T>(fn: () => Thenable<T>): Promise<{ result: T; questions: string[] }> {
  const window = vscode.window as unknown as Record<string, unknown>;
  const saved = window.showQuickPick;
  const questions: string[] = [];
  window.showQuickPick = async (given: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>, options?: vscode.QuickPickOptions) => {
    const items = await given;
    questions.push(options?.title ?? '');
    if (options?.canPickMany) return items.filter((i) => i.picked);
    const answer = items.find((i) => ANSWERS.includes(i.label));
    assert.ok(answer, `an answer among ${items.map((i) => i.label).join(', ')} for "${options?.title ?? ''}"`);
    return answer;
  };
  try {
    return { result: await fn(), questions };
  } finally {
    window.showQuickPick = saved;
  }
}

suite('Language models', () => {
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Export to ONNX on model.safetensors writes model.onnx beside it and opens it in the checkpoint editor', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    if (!ext.isActive) await ext.activate();
    const weights = workspaceFile('tiny_qwen2', 'model.safetensors');
    const before = await vscode.workspace.fs.readFile(weights);
    const report = await vscode.commands.executeCommand<ExportReport | undefined>('quantscope.exportOnnx', weights);
    assert.ok(report, 'the export finished');
    assert.equal(report.output, path.join(path.dirname(weights.fsPath), 'model.onnx'));
    assert.deepEqual([report.family, report.layers, report.heads, report.kvHeads], ['qwen2', 2, 4, 2]);
    assert.equal((await vscode.workspace.fs.stat(vscode.Uri.file(report.output))).size, report.fileBytes);
    assert.deepEqual(await vscode.workspace.fs.readFile(weights), before, 'the checkpoint is untouched');
    await waitFor('the exported model in the checkpoint editor', () =>
      tabs().find((t) => t.input instanceof vscode.TabInputCustom && t.input.viewType === 'quantscope.checkpoint' && t.input.uri.fsPath === report.output),
    );
    assert.match(report.runtimeVersion, /^\d+\.\d+/, 'ONNX Runtime loaded it in the worker');
    // It reads back as a decoder with a KV cache: the text view lists the cache outputs.
    const text = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'quantscope-model', path: `${report.output}.qmodel` }));
    assert.match(text.getText(), /present\.1\.value/);
  });

  test('Quantize Layer… (GPTQ INT4) on model.safetensors writes model.q4.onnx beside it, then opens the diff and the report', async () => {
    const weights = workspaceFile('tiny_qwen2', 'model.safetensors');
    const { result: report, questions } = await answering(() => vscode.commands.executeCommand<QuantizeReport | undefined>('quantscope.quantizeLayer', weights));
    assert.ok(report, `the quantization finished after ${questions.join(' / ')}`);
    assert.equal(report.output, path.join(path.dirname(weights.fsPath), 'model.q4.onnx'));
    assert.equal(report.method, 'gptq');
    assert.ok(report.layers.length >= 14 && report.layers.every((l) => l.kind === 'nbits'), `${report.layers.length} layers`);
    assert.ok(report.decoderGraph, 'the report names the graph built from the checkpoint');
    assert.match(report.decoderGraph.graph, /[\\/]\.quantscope[\\/]decoder[\\/]model\.onnx$/);
    assert.ok(questions.some((q) => /layers$/.test(q)) && questions.some((q) => /calibration data$/.test(q)), questions.join(' / '));
    const diff = await waitFor('the diff editor', () => tabs().find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.path.endsWith('model.q4.onnx.qmodel')));
    const input = diff.input as vscode.TabInputTextDiff;
    // The left side is the graph the checkpoint was built into, so the diff shows the rewrite.
    assert.match(input.original.path, /[\\/]\.quantscope[\\/]decoder[\\/]model\.onnx\.qmodel$/);
    const original = await vscode.workspace.openTextDocument(input.original);
    assert.match(original.getText(), /^node model\.layers\.0\.self_attn\.q_proj MatMul/m);
    const modified = await vscode.workspace.openTextDocument(input.modified);
    assert.match(modified.getText(), /com\.microsoft::MatMulNBits/);
    await waitFor('the report beside the diff', () => tabs().find((t) => t.input instanceof vscode.TabInputWebview && /markdown/i.test(t.input.viewType)) ?? tabs().find((t) => t.label.includes('model.q4.onnx.report')));
  });
});
