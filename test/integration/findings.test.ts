import * as assert from 'node:assert/strict';
import { readdirSync, utimesSync } from 'node:fs';
import * as path from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { QuantscopeApi } from '../../src/extension/extension';

const EXTENSION_ID = 'quantscope.quantscope';
const Q = '/blocks.0/q/MatMul';

async function api(): Promise<QuantscopeApi> {
  const ext = vscode.extensions.getExtension<QuantscopeApi>(EXTENSION_ID);
  assert.ok(ext);
  return ext.isActive ? ext.exports : ext.activate();
}

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Quantscope');
}

suite('Findings: diagnostics, hovers and code actions', () => {
  let model: vscode.Uri;
  let text: vscode.Uri;
  let folder: string;

  suiteSetup(async function () {
    this.timeout(240_000);
    const a = await api();
    const ws = vscode.workspace.workspaceFolders?.[0];
    assert.ok(ws);
    // The fixture with outlier channels 3, 11, 19, 27 injected, copied so that transforms write beside it.
    const root = path.resolve(__dirname, '..', '..', '..');
    model = vscode.Uri.joinPath(ws.uri, 'outliers.onnx');
    folder = path.dirname(model.fsPath);
    await vscode.workspace.fs.copy(vscode.Uri.file(path.join(root, 'test', 'fixtures', 'smooth', 'prenorm_outliers.onnx')), model, { overwrite: true });
    text = vscode.Uri.from({ scheme: 'quantscope-model', path: `${model.fsPath}.qmodel` });
    const cal = await a.calibrate(model);
    assert.ok(cal, 'calibrated');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the findings appear in the Problems panel on the layer lines of the model text view', async () => {
    const diags = await waitFor('the findings on the text view', () => ours(text).length > 0 && ours(text));
    const doc = await vscode.workspace.openTextDocument(text);
    const onQ = diags.filter((d) => doc.lineAt(d.range.start.line).text.startsWith(`node ${Q} MatMul(`));
    const act = onQ.find((d) => d.code === 'activation-outliers');
    assert.ok(act, `an activation-outlier finding on ${Q}; got ${diags.map((d) => `${typeof d.code === 'object' ? String(d.code.value) : String(d.code)}@${d.range.start.line}`).join(', ')}`);
    assert.equal(act.severity, vscode.DiagnosticSeverity.Warning);
    for (const c of ['3', '11', '19', '27']) assert.match(act.message, new RegExp(`\\b${c}\\b`));
    assert.match(act.message, /SmoothQuant \(α = 0\.5\)/);
    assert.equal(doc.getText(act.range), Q, 'the squiggle spans the layer name');
  });

  test('hovering a layer line shows its key figures and a mini histogram', async () => {
    const doc = await vscode.workspace.openTextDocument(text);
    const line = [...Array(doc.lineCount).keys()].find((i) => doc.lineAt(i).text.startsWith(`node ${Q} `));
    assert.ok(line !== undefined);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', text, new vscode.Position(line, 8));
    const md = hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : c.value)).join('\n');
    assert.match(md, /difficulty/);
    assert.match(md, /INT4 g128/);
    assert.match(md, /[▁▂▃▄▅▆▇█]{3,}/, 'a sparkline histogram');
  });

  test('the lightbulb offers the fixes; the preferred one runs SmoothQuant with the suggested α through the Quantize flow', async () => {
    const act = ours(text).find((d) => d.code === 'activation-outliers' && d.message.includes(Q));
    assert.ok(act);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', text, act.range);
    const titles = actions.map((a) => a.title);
    const smooth = actions.find((a) => a.title === `SmoothQuant (α = 0.5) + INT8 W8A8 on ${Q}`);
    assert.ok(smooth?.command, `titles: ${titles.join(' | ')}`);
    assert.equal(smooth.isPreferred, true);
    assert.ok(titles.some((t) => t.startsWith(`LLM.int8() decomposition`)), 'the alternative too');
    assert.ok(titles.some((t) => t === `Add to recipe: ${Q} → int8-channel`), 'Add to recipe for the INT4-error finding');
    assert.ok(titles.some((t) => t.startsWith('Apply all recommended')), 'the source action');
    const report = await vscode.commands.executeCommand<{ output: string; method: string; smoothing?: { alpha: number }[]; layers: { layer: string }[] }>(smooth.command.command, ...((smooth.command.arguments ?? []) as unknown[]));
    assert.equal(report.method, 'smoothquant');
    assert.equal(path.basename(report.output), 'outliers.sq-w8a8s.onnx');
    assert.deepEqual(report.layers.map((l) => l.layer), [Q]);
    assert.equal(report.smoothing?.[0]?.alpha, 0.5);
    // "Add to recipe" writes a new recipe beside the model, then edits the layer's line of that one.
    const add = actions.find((a) => a.title === `Add to recipe: ${Q} → int8-channel`);
    assert.ok(add?.command);
    const added = await vscode.commands.executeCommand<{ recipe: vscode.Uri }>(add.command.command, ...((add.command.arguments ?? []) as unknown[]));
    assert.equal(path.basename(added.recipe.fsPath), 'outliers.plan.qrecipe.yaml');
    const recipe = await vscode.workspace.openTextDocument(added.recipe);
    assert.match(recipe.getText(), /^model: outliers\.onnx/m);
    assert.match(recipe.getText(), new RegExp(`^  ${Q.replace(/[./]/g, '\\$&')}: int8-channel`, 'm'));
    const again = await vscode.commands.executeCommand<{ recipe: vscode.Uri }>('quantscope.addToRecipe', model, '/blocks.0/k/MatMul', 'float');
    assert.equal(again.recipe.fsPath, added.recipe.fsPath, 'the same recipe');
    assert.match(recipe.getText(), /^ {2}\/blocks\.0\/k\/MatMul: float$/m);
    assert.match(recipe.getText(), new RegExp(`^  ${Q.replace(/[./]/g, '\\$&')}: int8-channel`, 'm'));
  });

  test('Apply all recommended writes a recipe; choosing against the evidence in it is a diagnostic whose fix restores the precision', async () => {
    const all = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', text, new vscode.Range(0, 0, 0, 0), vscode.CodeActionKind.Source.value)).find((a) => a.title.startsWith('Apply all recommended'));
    assert.ok(all?.command);
    const r = await vscode.commands.executeCommand<{ recipe: vscode.Uri }>(all.command.command, ...((all.command.arguments ?? []) as unknown[]));
    assert.equal(path.basename(r.recipe.fsPath), 'outliers.advice.qrecipe.yaml');
    const doc = await vscode.workspace.openTextDocument(r.recipe);
    const line = [...Array(doc.lineCount).keys()].find((i) => doc.lineAt(i).text.trimStart().startsWith(`${Q}: int8-channel`));
    assert.ok(line !== undefined, doc.getText());
    assert.deepEqual(ours(r.recipe), [], 'the recommended recipe agrees with the evidence');
    const edit = new vscode.WorkspaceEdit();
    const at = doc.lineAt(line).text.indexOf('int8-channel');
    edit.replace(r.recipe, new vscode.Range(line, at, line, at + 'int8-channel'.length), 'int4-g128');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const conflict = await waitFor('the conflict on the edited line', () => ours(r.recipe).find((d) => d.range.start.line === line));
    assert.match(conflict.message, /int4-g128 goes against the evidence/);
    const fixes = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', r.recipe, conflict.range);
    const change = fixes.find((a) => a.title.startsWith(`Change ${Q} to int8-channel`));
    assert.ok(change?.edit);
    assert.ok(await vscode.workspace.applyEdit(change.edit));
    assert.match(doc.lineAt(line).text, new RegExp(`${Q.replace(/[./]/g, '\\$&')}: int8-channel`));
    await waitFor('the conflict to go', () => !ours(r.recipe).some((d) => d.range.start.line === line));
  });

  test('the outline lists inputs, outputs, layers and initializers, each symbol on its line', async () => {
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', text);
    assert.deepEqual(symbols.map((s) => s.name), ['inputs', 'outputs', 'layers', 'initializers']);
    const doc = await vscode.workspace.openTextDocument(text);
    const layers = symbols[2].children;
    const q = layers.find((s) => s.name === Q);
    assert.ok(q, `layers: ${layers.slice(0, 5).map((s) => s.name).join(', ')}`);
    assert.equal(doc.getText(q.selectionRange), Q);
    assert.equal(q.detail, 'MatMul');
    for (const s of symbols[3].children) assert.ok(s.name.length <= 32, `${s.name} is shown short`);
  });

  test('an action on a layer that no longer exists, or on a model changed since profiling, says why and writes nothing', async () => {
    const before = readdirSync(folder).sort();
    const gone = await vscode.commands.executeCommand<{ refused?: string }>('quantscope.applyFinding', model, '/blocks.9/q/MatMul', { kind: 'int8-channel' });
    assert.match(gone.refused ?? '', /\/blocks\.9\/q\/MatMul is no longer a MatMul\/Gemm layer of outliers\.onnx; nothing was written/);
    // The model changes on disk: its findings are stale and must not drive the action.
    const later = new Date(Date.now() + 5_000);
    utimesSync(model.fsPath, later, later);
    const stale = await vscode.commands.executeCommand<{ refused?: string }>('quantscope.applyFinding', model, Q, { kind: 'int8-channel' });
    assert.match(stale.refused ?? '', /changed since it was profiled, so its findings are stale and were cleared/);
    await waitFor('the stale diagnostics to be cleared', () => ours(text).length === 0);
    const recipe = await vscode.commands.executeCommand<{ refused?: string }>('quantscope.addToRecipe', model, Q, 'float');
    assert.match(recipe.refused ?? '', /no findings yet|stale/);
    assert.deepEqual(readdirSync(folder).sort(), before, 'no file was written');
  });
});
