import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parsePlanRecipe, printPlanRecipe, RecipeError } from '../../core/transform/quantize/planRecipe';
import type { PlanResult, QuantizeReport } from '../../protocol/quantizeTypes';
import type { WorkerClient } from '../client/WorkerClient';
import type { PlanStep, QuantizeFlow } from './QuantizeFlow';
import { calibrationSettings, type TransformRunner } from './TransformRunner';

/** The recipe file next to `model` that no file uses yet: `model.plan.qrecipe.yaml`, then `model.plan-1.qrecipe.yaml`, … */
function freeRecipeName(model: string): string {
  const stem = path.basename(model, path.extname(model));
  for (let i = 0; ; i++) {
    const candidate = path.join(path.dirname(model), `${stem}.plan${i ? `-${i}` : ''}.qrecipe.yaml`);
    if (!existsSync(candidate)) return candidate;
  }
}

/** Whether a document is a recipe: by language, or by name when the language is not set yet. */
function isRecipe(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'quantscope-recipe' || /\.qrecipe\.ya?ml$/i.test(doc.fileName);
}

/**
 * Mixed-precision plans: the worker calibrates and plans, the plan is written as a recipe next to
 * the model and opened for editing, and "Apply Recipe" quantizes by it (with the unsaved edits).
 */
export class PlanFlow {
  constructor(private readonly worker: WorkerClient, private readonly runner: TransformRunner, private readonly quantize: QuantizeFlow) {
    const step: PlanStep = (model, choices) => this.plan(model, choices);
    quantize.planStep = step;
  }

  /** Plans for `model`, writes the recipe beside it, opens it, and offers to apply it. */
  async plan(model: vscode.Uri, choices: Parameters<PlanStep>[1]): Promise<{ readonly recipe: vscode.Uri; readonly result: PlanResult } | undefined> {
    const name = path.basename(model.fsPath);
    const result = await this.runner.run(`Planning ${name}`, (token, onProgress) => this.worker.request('planQuantization', {
      path: model.fsPath,
      budget: choices.budget,
      layers: choices.layers?.length ? choices.layers : undefined,
      ...calibrationSettings(choices.calibrationFile, choices.calibrationTokenizer),
    }, { token, onProgress }));
    if (!result) return undefined;
    let text = printPlanRecipe(result.plan, { model: name, weights: choices.weights, layers: result.layers, budget: choices.budget });
    if (result.synthetic) text = `# The errors come from calibration on generated inputs (synthetic).\n${text}`;
    const recipe = vscode.Uri.file(freeRecipeName(model.fsPath));
    await vscode.workspace.fs.writeFile(recipe, new TextEncoder().encode(text));
    const doc = await vscode.workspace.openTextDocument(recipe);
    await vscode.window.showTextDocument(doc, { preview: false });
    const summary = `Plan for ${name}: ${result.plan.bitsPerWeight.toFixed(2)} bits per weight, summed layer error ${result.plan.totalError.toExponential(2)}${result.plan.feasible ? '' : ' (the budget cannot be met; this is the smallest plan)'}. Edit the precisions, then apply.`;
    void vscode.window.showInformationMessage(summary, 'Apply Plan').then((pick) => {
      if (pick) void this.apply(recipe);
    });
    return { recipe, result };
  }

  /**
   * Quantizes by a recipe: `arg` (a file), else the active recipe editor, else one the user picks.
   * Unsaved edits count. A malformed recipe is reported with its line, and the cursor goes there.
   */
  async apply(arg?: unknown): Promise<QuantizeReport | undefined> {
    let uri = arg instanceof vscode.Uri ? arg : undefined;
    const active = vscode.window.activeTextEditor?.document;
    if (!uri && active && isRecipe(active)) uri = active.uri;
    if (!uri) {
      const picked = await vscode.window.showOpenDialog({ title: 'Apply Recipe', filters: { 'Quantscope recipe': ['yaml', 'yml'] } });
      uri = picked?.[0];
    }
    if (!uri) return undefined;
    const doc = await vscode.workspace.openTextDocument(uri);
    let recipe;
    try {
      recipe = parsePlanRecipe(doc.getText());
    } catch (e) {
      if (!(e instanceof RecipeError)) throw e;
      const editor = await vscode.window.showTextDocument(doc);
      if (e.line !== undefined) {
        const at = new vscode.Position(Math.max(0, e.line - 1), 0);
        editor.selection = new vscode.Selection(at, at);
        editor.revealRange(new vscode.Range(at, at));
      }
      void vscode.window.showErrorMessage(`${path.basename(uri.fsPath)}: ${e.message}`);
      return undefined;
    }
    const model = path.resolve(path.dirname(uri.fsPath), recipe.model);
    if (!existsSync(model)) {
      void vscode.window.showErrorMessage(`${path.basename(uri.fsPath)}: the model ${recipe.model} does not exist next to the recipe (${model}).`);
      return undefined;
    }
    return this.quantize.run(vscode.Uri.file(model), [], {
      method: 'plan', bits: 8, format: 'qdq', weights: recipe.weights,
      plan: Object.fromEntries(recipe.layers.map((l) => [l.layer, l.choice])),
      budget: recipe.budget,
    });
  }
}
