import { existsSync } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { stringify } from 'yaml';
import { nextFreeName } from '../../core/io/nextFreeName';
import { parsePlanRecipe, type PlanRecipe } from '../../core/transform/quantize/planRecipe';
import type { PlanChoice } from '../../protocol/planTypes';
import { recipeOf } from './modelOfDocument';

/** A recipe naming `model`: an open one first (its unsaved edits count), else a file beside the model. */
export async function findRecipe(model: vscode.Uri): Promise<vscode.Uri | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => recipeOf(d)?.model.fsPath === model.fsPath);
  if (open) return open.uri;
  const dir = path.dirname(model.fsPath);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.qrecipe\.ya?ml$/i.test(n)).sort();
  } catch {
    return undefined;
  }
  for (const n of names) {
    try {
      const r = parsePlanRecipe(await readFile(path.join(dir, n), 'utf8'));
      if (path.resolve(dir, r.model) === model.fsPath) return vscode.Uri.file(path.join(dir, n));
    } catch {
      // A recipe that does not parse is not one to add to.
    }
  }
  return undefined;
}

/** `model.<tag>.qrecipe.yaml` beside the model, or `-1`, `-2`, … when taken. */
export function freeRecipePath(model: string, tag: string): string {
  const stem = path.join(path.dirname(model), path.basename(model, path.extname(model)));
  return `${nextFreeName(`${stem}.qrecipe`, tag, (p) => existsSync(`${p}.yaml`))}.yaml`;
}

/** Why nothing can be written at `target` (a file, or a folder for a new file), or undefined when it can. */
export async function whyNotWritable(target: string): Promise<string | undefined> {
  try {
    await access(target, constants.W_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${target} does not exist` : `${target} is read-only (${code ?? 'no write access'})`;
  }
}

/** The edit that writes `layer: choice` into a recipe: its line's precision replaced, or a new line after the last layer. */
export function recipeLayerEdit(doc: vscode.TextDocument, recipe: PlanRecipe, layer: string, choice: PlanChoice): vscode.WorkspaceEdit {
  const edit = new vscode.WorkspaceEdit();
  const existing = recipe.layers.find((l) => l.layer === layer);
  if (existing) {
    const line = doc.lineAt(existing.line - 1);
    const code = line.text.replace(/\s+#.*$/, '');
    const at = code.lastIndexOf(existing.choice);
    edit.replace(doc.uri, new vscode.Range(line.lineNumber, at, line.lineNumber, at + existing.choice.length), choice);
    return edit;
  }
  // YAML quotes a name where it must (a layer named `1.0` or with a `: ` in it).
  const entry = stringify({ [layer]: choice }).trim();
  const last = recipe.layers[recipe.layers.length - 1];
  if (last) {
    const line = doc.lineAt(last.line - 1);
    edit.insert(doc.uri, line.range.end, `\n${line.text.slice(0, line.firstNonWhitespaceCharacterIndex)}${entry}`);
  } else {
    // `layers:` exists but is empty in a recipe that parses only with a mapping: append one.
    edit.insert(doc.uri, doc.lineAt(doc.lineCount - 1).range.end, `\n  ${entry}`);
  }
  return edit;
}
