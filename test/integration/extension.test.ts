import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { QuantscopeApi } from '../../src/extension/extension';

const EXTENSION_ID = 'quantscope.quantscope';

function workspaceFile(...parts: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests run with the fixtures folder open');
  return vscode.Uri.joinPath(folder.uri, ...parts);
}

async function api(): Promise<QuantscopeApi> {
  const ext = vscode.extensions.getExtension<QuantscopeApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  return ext.isActive ? ext.exports : ext.activate();
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

suite('Quantscope extension', () => {
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('activates', async () => {
    const ext = vscode.extensions.getExtension<QuantscopeApi>(EXTENSION_ID);
    assert.ok(ext);
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  test('registers every contributed command', async () => {
    const a = await api();
    const all = new Set(await vscode.commands.getCommands(true));
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { contributes: { commands: { command: string }[] } };
    const contributed = pkg.contributes.commands.map((c) => c.command);
    assert.deepEqual([...contributed].sort(), [...a.commandIds].sort(), 'package.json and the code agree on the command list');
    for (const id of contributed) assert.ok(all.has(id), `${id} is registered`);
  });

  test('opens an .onnx file in the checkpoint custom editor', async () => {
    const uri = workspaceFile('tiny_mlp.onnx');
    await vscode.commands.executeCommand('vscode.open', uri);
    const tab = await waitFor('the custom editor tab', () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputCustom ? t : undefined;
    });
    const input = tab.input as vscode.TabInputCustom;
    assert.equal(input.viewType, 'quantscope.checkpoint');
    assert.equal(path.basename(input.uri.fsPath), 'tiny_mlp.onnx');
  });

  test('opens a .safetensors file in the checkpoint custom editor too', async () => {
    const uri = workspaceFile('tiny.safetensors');
    await vscode.commands.executeCommand('vscode.open', uri);
    const tab = await waitFor('the custom editor tab', () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputCustom && path.basename(t.input.uri.fsPath) === 'tiny.safetensors' ? t : undefined;
    });
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'quantscope.checkpoint');
  });

  test('the worker answers', async () => {
    const a = await api();
    const pong = await a.ping();
    assert.ok(pong.pid > 0);
    assert.notEqual(pong.pid, process.pid, 'the worker is a separate process');
    assert.equal(a.workerPid(), pong.pid);
  });

  test('the text view renders the model from the worker', async () => {
    const uri = workspaceFile('tiny_mlp.onnx');
    await vscode.commands.executeCommand('quantscope.showModelText', uri);
    const doc = await waitFor('the model text document', () => vscode.window.visibleTextEditors.map((e) => e.document).find((d) => d.uri.scheme === 'quantscope-model'));
    assert.equal(doc.languageId, 'quantscope-model');
    const text = doc.getText();
    assert.match(text, /^model tiny_mlp\.onnx/m);
    assert.match(text, /^input x: float32\[batch, 16\]/m);
    assert.match(text, /^output y: float32\[batch, 4\]/m);
  });

  test('profiling runs in the worker and a second profile is served from the cache', async () => {
    const a = await api();
    const uri = workspaceFile('tiny_mlp.onnx');
    await vscode.commands.executeCommand('vscode.openWith', uri, 'quantscope.checkpoint');
    const first = await a.profile(uri);
    assert.ok(first, 'the profile finished');
    assert.equal(first.tensors, 4);
    const second = await a.profile(uri);
    assert.deepEqual(second, { tensors: 4, fromCache: true });
  });

  test('calibration taps every MatMul through ONNX Runtime in the worker, and is cached', async () => {
    const a = await api();
    const uri = workspaceFile('tiny_mlp.onnx');
    const first = await a.calibrate(uri);
    assert.ok(first, 'the calibration finished');
    assert.deepEqual([...first.layers].sort(), ['fc1/MatMul', 'fc2/MatMul']);
    assert.equal(first.synthetic, true, 'generated inputs are reported as synthetic');
    const second = await a.calibrate(uri);
    assert.equal(second?.fromCache, true);
  });

  /**
   * Runs `fn` with the window's questions and messages recorded instead of shown: the smoke-test
   * driver of this workbench hides notifications, so the test reads what the command said.
   */
  async function recordingUi(fn: () => Promise<unknown>): Promise<{ questions: string[]; warnings: string[] }> {
    const window = vscode.window as unknown as Record<string, unknown>;
    const saved = { showQuickPick: window.showQuickPick, showWarningMessage: window.showWarningMessage, showOpenDialog: window.showOpenDialog };
    const questions: string[] = [];
    const warnings: string[] = [];
    window.showQuickPick = (_items: unknown, options?: vscode.QuickPickOptions) => {
      questions.push(options?.title ?? options?.placeHolder ?? 'a QuickPick');
      return Promise.resolve(undefined);
    };
    window.showOpenDialog = (options?: vscode.OpenDialogOptions) => {
      questions.push(options?.title ?? 'an open dialog');
      return Promise.resolve(undefined);
    };
    window.showWarningMessage = (message: string) => {
      warnings.push(message);
      return Promise.resolve(undefined);
    };
    try {
      await fn();
    } finally {
      Object.assign(window, saved);
    }
    return { questions, warnings };
  }

  test('Calibrate on a model without MatMul or Gemm weights says why at once, without asking for data', async () => {
    await api();
    const root = path.resolve(__dirname, '..', '..', '..');
    const silero = vscode.Uri.file(path.join(root, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx'));
    const refused = await recordingUi(() => Promise.resolve(vscode.commands.executeCommand('quantscope.calibrateModel', silero)));
    assert.deepEqual(refused.questions, [], 'nothing was asked');
    assert.equal(refused.warnings.length, 1);
    assert.match(refused.warnings[0], /^Calibrate is not available: silero_vad_v5\.onnx has no MatMul or Gemm with a constant weight in its main graph \(1 If node holds subgraphs, which are not tapped\)\.$/);
    // The same goes for Quantize and Prune.
    for (const command of ['quantscope.quantizeLayer', 'quantscope.pruneModel']) {
      const r = await recordingUi(() => Promise.resolve(vscode.commands.executeCommand(command, silero)));
      assert.deepEqual(r.questions, [], `${command} asked nothing`);
      assert.match(r.warnings[0] ?? '', /is not available: silero_vad_v5\.onnx has no MatMul or Gemm with a constant 2-D float32 weight/);
    }
    // A model with MatMul weights gets its first question: where the calibration data comes from.
    const asked = await recordingUi(() => Promise.resolve(vscode.commands.executeCommand('quantscope.calibrateModel', workspaceFile('tiny_mlp.onnx'))));
    assert.deepEqual(asked.warnings, []);
    assert.deepEqual(asked.questions, ['Calibration data for tiny_mlp.onnx']);
  });

  test('Quantize Layer writes a new model next to the source, then opens the diff and the report', async () => {
    const uri = workspaceFile('tiny_mlp.onnx');
    const before = await vscode.workspace.fs.readFile(uri);
    const report = await vscode.commands.executeCommand<{ output: string; layers: unknown[] } | undefined>('quantscope.quantizeLayer', uri, { method: 'rtn', bits: 4, format: 'nbits', group: 32 });
    assert.ok(report, 'the quantization finished');
    assert.equal(path.dirname(report.output), path.dirname(uri.fsPath));
    assert.equal(path.basename(report.output), 'tiny_mlp.q4.onnx');
    assert.equal(report.layers.length, 2);
    assert.deepEqual(await vscode.workspace.fs.readFile(uri), before, 'the source model is untouched');
    const diff = await waitFor('the diff editor', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === 'quantscope-model'),
    );
    const input = diff.input as vscode.TabInputTextDiff;
    assert.match(input.original.path, /tiny_mlp\.onnx\.qmodel$/);
    assert.match(input.modified.path, /tiny_mlp\.q4\.onnx\.qmodel$/);
    const modified = await vscode.workspace.openTextDocument(input.modified);
    assert.match(modified.getText(), /com\.microsoft::MatMulNBits/);
    assert.doesNotMatch(modified.getText(), /^node fc1\/MatMul MatMul/m);
    // A second run never overwrites: it picks the next free name.
    const again = await vscode.commands.executeCommand<{ output: string } | undefined>('quantscope.quantizeLayer', uri, { method: 'rtn', bits: 4, format: 'nbits', group: 32 });
    assert.ok(again);
    assert.equal(path.basename(again.output), 'tiny_mlp.q4-1.onnx');
  });

  test('SmoothQuant + static W8A8 from Quantize Layer folds or inserts the scales and shows the diff', async () => {
    const uri = workspaceFile('tiny_mlp.onnx');
    const report = await vscode.commands.executeCommand<{ output: string; method: string; smoothing?: { mulNode: string | null }[]; layers: { kind: string }[] } | undefined>('quantscope.quantizeLayer', uri, { method: 'smoothquant', bits: 8, format: 'static', alpha: 0.5 });
    assert.ok(report, 'the quantization finished');
    assert.equal(path.basename(report.output), 'tiny_mlp.sq-w8a8s.onnx');
    assert.ok(report.smoothing?.length, 'the report lists the smoothed activations');
    assert.ok(report.layers.every((l) => l.kind === 'static'));
    const diff = await waitFor('the diff of the smoothed model', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.path.endsWith('tiny_mlp.sq-w8a8s.onnx.qmodel')),
    );
    const modified = await vscode.workspace.openTextDocument((diff.input as vscode.TabInputTextDiff).modified);
    assert.match(modified.getText(), /QuantizeLinear/);
  });

  test('a mixed-precision plan opens as an editable recipe; Apply Recipe quantizes by the edited plan', async () => {
    const uri = workspaceFile('tiny_mlp.onnx');
    const none = await vscode.commands.executeCommand('quantscope.quantizeLayer', uri, { method: 'plan', bits: 8, format: 'qdq', budget: { kind: 'bits', bitsPerWeight: 6 }, weights: 'rtn' });
    assert.equal(none, undefined, 'planning writes no model yet');
    const recipe = workspaceFile('tiny_mlp.plan.qrecipe.yaml');
    const doc = await waitFor('the recipe editor', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === recipe.fsPath)?.document);
    assert.equal(doc.languageId, 'quantscope-recipe');
    const lenses = await waitFor('the Apply lens', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', recipe);
      return l.length ? l : undefined;
    });
    assert.match(lenses[0].command?.title ?? '', /Apply this plan/);
    // The user sets fc2 to float and fc1 to INT8 by hand (unsaved edits count).
    const text = doc.getText();
    const edit = new vscode.WorkspaceEdit();
    for (const [layer, choice] of [['fc1/MatMul', 'int8-channel'], ['fc2/MatMul', 'float']]) {
      const m = new RegExp(`^(\\s*['"]?${layer.replace('/', '\\/')}['"]?:\\s*)([\\w-]+)`, 'm').exec(text);
      assert.ok(m, `the recipe lists ${layer}:\n${text}`);
      const start = doc.positionAt(m.index + m[1].length);
      edit.replace(recipe, new vscode.Range(start, start.translate(0, m[2].length)), choice);
    }
    assert.ok(await vscode.workspace.applyEdit(edit));
    const report = await vscode.commands.executeCommand<{ output: string; plan?: { choices: Record<string, string> }; layers: { layer: string; choice?: string }[] } | undefined>('quantscope.applyRecipe', recipe);
    assert.ok(report, 'the plan was applied');
    assert.equal(path.basename(report.output), 'tiny_mlp.mixed.onnx');
    assert.deepEqual(report.plan?.choices, { 'fc1/MatMul': 'int8-channel', 'fc2/MatMul': 'float' });
    assert.deepEqual(report.layers.map((l) => [l.layer, l.choice]), [['fc1/MatMul', 'int8-channel']]);
    await waitFor('the diff of the mixed model', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.path.endsWith('tiny_mlp.mixed.onnx.qmodel')),
    );
  });

  test('Prune… writes a 2:4 model with its channel permutation, then opens the diff and the report', async () => {
    const uri = workspaceFile('tiny_mlp.onnx');
    const report = await vscode.commands.executeCommand<{ output: string; pattern: string | null; latencyNote: string } | undefined>('quantscope.pruneModel', uri, { method: 'nm', pattern: { n: 2, m: 4 }, permute: true });
    assert.ok(report, 'the pruning finished');
    assert.equal(path.basename(report.output), 'tiny_mlp.2of4.onnx');
    assert.equal(report.pattern, '2:4');
    assert.match(report.latencyNote, /no sparse kernels/);
    await waitFor('the diff editor of the pruned model', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.path.endsWith('tiny_mlp.2of4.onnx.qmodel')),
    );
  });

  test('killing the worker makes the next request start a new one', async () => {
    const a = await api();
    const first = (await a.ping()).pid;
    process.kill(first, 'SIGKILL');
    await waitFor('the worker to be reported dead', () => (a.workerPid() === undefined ? true : undefined), 10_000);
    const second = (await a.ping()).pid;
    assert.notEqual(second, first);
    assert.ok(second > 0);
  });
});
