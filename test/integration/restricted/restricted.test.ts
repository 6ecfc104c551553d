/**
 * Runs in its own extension host, started with workspace trust on and the fixtures folder never
 * trusted (scripts/test-integration.mjs), so the extension sees VS Code's Restricted Mode.
 */
import * as assert from 'node:assert/strict';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { QuantscopeApi } from '../../../src/extension/extension';

const EXTENSION_ID = 'quantscope.quantscope';

function workspaceFile(...parts: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests run with the fixtures folder open');
  return vscode.Uri.joinPath(folder.uri, ...parts);
}

async function listing(): Promise<string[]> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder);
  const names: string[] = [];
  const walk = async (uri: vscode.Uri, prefix: string): Promise<void> => {
    for (const [name, type] of await vscode.workspace.fs.readDirectory(uri)) {
      names.push(prefix + name);
      if (type === vscode.FileType.Directory) await walk(vscode.Uri.joinPath(uri, name), `${prefix}${name}/`);
    }
  };
  await walk(folder.uri, '');
  return names.sort();
}

suite('Restricted Mode', () => {
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the workspace is untrusted, and the extension activates in it', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this host opened the fixtures folder in Restricted Mode');
    const ext = vscode.extensions.getExtension<QuantscopeApi>(EXTENSION_ID);
    assert.ok(ext);
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  test('opening, listing and weight statistics still work', async () => {
    const ext = vscode.extensions.getExtension<QuantscopeApi>(EXTENSION_ID);
    assert.ok(ext);
    const api = ext.isActive ? ext.exports : await ext.activate();
    const uri = workspaceFile('tiny_mlp.onnx');
    await vscode.commands.executeCommand('vscode.openWith', uri, 'quantscope.checkpoint');
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputCustom && tab.input.viewType === 'quantscope.checkpoint', 'the checkpoint editor opened');
    const profiled = await api.profile(workspaceFile('tiny.safetensors'));
    assert.ok(profiled && profiled.tensors > 0, 'the weights were profiled');
  });

  test('commands that run a model or write files refuse, and nothing is written', async () => {
    const before = await listing();
    const model = workspaceFile('tiny_mlp.onnx');
    const calls: [string, ...unknown[]][] = [
      ['quantscope.quantizeLayer', model, { method: 'rtn', bits: 4, format: 'nbits', group: 32 }],
      ['quantscope.pruneModel', model, { method: 'nm', pattern: { n: 2, m: 4 } }],
      ['quantscope.calibrateModel', model],
      ['quantscope.benchmarkModel', [model]],
      ['quantscope.exportOnnx', workspaceFile('tiny_qwen2')],
      ['quantscope.quantizeGguf', workspaceFile('tiny_qwen2')],
      ['quantscope.applyRecommended', model],
      ['quantscope.applyFinding', model, 'fc1', { kind: 'int8-channel' }],
    ];
    for (const [command, ...args] of calls) {
      const result = await vscode.commands.executeCommand(command, ...args);
      assert.equal(result, undefined, `${command} did not run`);
    }
    assert.deepEqual(await listing(), before, 'no file was written or removed');
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { contributes: { commands: { command: string; enablement?: string }[] } };
    for (const c of pkg.contributes.commands.filter((c) => calls.some(([id]) => id === c.command))) {
      assert.equal(c.enablement, 'isWorkspaceTrusted', `${c.command} is disabled in the palette and menus`);
    }
  });
});
