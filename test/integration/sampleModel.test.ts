import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { QuantscopeApi } from '../../src/extension/extension';

const EXTENSION_ID = 'quantscope.quantscope';

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

suite('The walkthrough\'s sample model', () => {
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('is copied out of the extension to a writable folder and opens in the checkpoint editor', async () => {
    const ext = vscode.extensions.getExtension<QuantscopeApi>(EXTENSION_ID);
    assert.ok(ext);
    const uri = await vscode.commands.executeCommand<vscode.Uri>('quantscope.openSampleModel');
    assert.ok(uri instanceof vscode.Uri, 'the command resolves with the sample\'s location');
    assert.equal(path.basename(uri.fsPath), 'tiny_mlp.onnx');
    assert.ok(!uri.fsPath.startsWith(ext.extensionPath + path.sep), 'the copy is outside the extension\'s folder');
    assert.deepEqual(readFileSync(uri.fsPath), readFileSync(path.join(ext.extensionPath, 'samples', 'tiny_mlp.onnx')));
    const tab = await waitFor('the sample in the checkpoint editor', () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === uri.fsPath ? t : undefined;
    });
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'quantscope.checkpoint');
  });

  test('"profile" runs Profile Model on the sample', async () => {
    const ext = vscode.extensions.getExtension<QuantscopeApi>(EXTENSION_ID);
    assert.ok(ext);
    const uri = await vscode.commands.executeCommand<vscode.Uri>('quantscope.openSampleModel', 'profile');
    // Profile Model stored its result: asking again is answered from the cache.
    const again = await ext.exports.profile(uri);
    assert.deepEqual(again, { tensors: 4, fromCache: true });
  });
});
