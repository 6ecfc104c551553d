import * as path from 'node:path';
import * as vscode from 'vscode';
import { parsePlanRecipe, RecipeError, type PlanRecipe } from '../../core/transform/quantize/planRecipe';
import { ModelTextProvider } from '../text/ModelTextProvider';

/** The model a `quantscope-model` text document shows, or undefined for any other document. */
export function modelOfTextView(doc: vscode.TextDocument): vscode.Uri | undefined {
  if (doc.uri.scheme !== ModelTextProvider.scheme) return undefined;
  return vscode.Uri.file(doc.uri.path.replace(/\.qmodel$/, ''));
}

/** Whether a document is a recipe: by language, or by name when the language is not set yet. */
export function isRecipeDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'quantscope-recipe' || /\.qrecipe\.ya?ml$/i.test(doc.fileName);
}

/** A recipe document's parse and the model it names (relative to the recipe), or undefined when it does not parse. */
export function recipeOf(doc: vscode.TextDocument): { readonly recipe: PlanRecipe; readonly model: vscode.Uri } | undefined {
  if (!isRecipeDocument(doc) || doc.uri.scheme !== 'file') return undefined;
  try {
    const recipe = parsePlanRecipe(doc.getText());
    return { recipe, model: vscode.Uri.file(path.resolve(path.dirname(doc.uri.fsPath), recipe.model)) };
  } catch (e) {
    // The recipe's own lens reports a malformed recipe.
    if (e instanceof RecipeError) return undefined;
    throw e;
  }
}
