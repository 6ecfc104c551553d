import * as vscode from 'vscode';
import { parsePlanRecipe, RecipeError } from '../../core/transform/quantize/planRecipe';

/**
 * A lens above a recipe's first line: "Apply this plan" while it parses, or the problem with its
 * line while it does not, so a hand edit is checked as it is typed.
 */
export class RecipeCodeLensProvider implements vscode.CodeLensProvider {
  /** Registers the provider for the `quantscope-recipe` language. */
  static register(context: vscode.ExtensionContext): RecipeCodeLensProvider {
    const provider = new RecipeCodeLensProvider();
    context.subscriptions.push(vscode.languages.registerCodeLensProvider({ language: 'quantscope-recipe' }, provider));
    return provider;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    try {
      const recipe = parsePlanRecipe(document.getText());
      const counts = new Map<string, number>();
      for (const l of recipe.layers) counts.set(l.choice, (counts.get(l.choice) ?? 0) + 1);
      const mix = [...counts].map(([c, n]) => `${n} ${c}`).join(', ');
      return [new vscode.CodeLens(top, { title: `$(play) Apply this plan (${mix || 'no layers'})`, command: 'quantscope.applyRecipe', arguments: [document.uri] })];
    } catch (e) {
      if (!(e instanceof RecipeError)) throw e;
      return [new vscode.CodeLens(top, { title: `$(error) ${e.message}`, command: '' })];
    }
  }
}
