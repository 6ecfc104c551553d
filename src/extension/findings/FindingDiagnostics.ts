import * as vscode from 'vscode';
import { recipeConflicts } from '../../core/findings/recipeConflicts';
import { modelTextEntries } from '../../core/onnx/modelTextLines';
import type { Finding, FindingSeverity } from '../../protocol/findingTypes';
import type { PlanChoice } from '../../protocol/planTypes';
import { Disposable } from '../Disposable';
import { ModelTextProvider } from '../text/ModelTextProvider';
import type { FindingsService } from './FindingsService';
import { modelOfTextView, recipeOf } from './modelOfDocument';

/** A finding placed on a line of a document, as its diagnostic shows it and its code actions read it. */
export interface LocatedFinding {
  readonly model: vscode.Uri;
  readonly finding: Finding;
  readonly range: vscode.Range;
  /** In a recipe: the precision the finding recommends instead of the one written. */
  readonly recommended?: PlanChoice;
  /** In a recipe: the precision written, whose span is `valueRange`. */
  readonly valueRange?: vscode.Range;
}

const SEVERITY: Readonly<Record<FindingSeverity, vscode.DiagnosticSeverity>> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** The source every finding diagnostic carries. */
export const FINDING_SOURCE = 'Quantscope';

/**
 * Findings as diagnostics: on the layer's line of the model text view (`quantscope-model`), and on
 * the layer's line of a recipe that chooses against the evidence. They show as squiggles and in
 * the Problems panel; the code actions read them back through {@link located}.
 */
export class FindingDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('quantscope-findings'));
  private readonly placed = new Map<string, LocatedFinding[]>();

  /** Registers the diagnostics and their refresh on findings, opened and edited documents. */
  static register(context: vscode.ExtensionContext, findings: FindingsService): FindingDiagnostics {
    const d = new FindingDiagnostics(findings);
    context.subscriptions.push(d);
    return d;
  }

  private constructor(private readonly findings: FindingsService) {
    super();
    this._register(findings.onDidChange((model) => void this.refreshModel(model)));
    this._register(vscode.workspace.onDidOpenTextDocument((doc) => void this.refresh(doc)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => {
      if (recipeOf(e.document) !== undefined || this.placed.has(e.document.uri.toString())) void this.refresh(e.document);
    }));
    this._register(vscode.workspace.onDidCloseTextDocument((doc) => {
      // The text view's diagnostics stay in the Problems panel; a closed recipe's go with it.
      if (doc.uri.scheme === 'file') this.clear(doc.uri);
    }));
    for (const doc of vscode.workspace.textDocuments) void this.refresh(doc);
  }

  /** The findings placed on `uri`'s lines. */
  located(uri: vscode.Uri): readonly LocatedFinding[] {
    return this.placed.get(uri.toString()) ?? [];
  }

  /** Shows `model`'s findings on its text view (opened in the background for the line numbers) and on open recipes naming it. */
  private async refreshModel(model: vscode.Uri): Promise<void> {
    const held = this.findings.peek(model);
    const textUri = ModelTextProvider.uriFor(model);
    if (held?.report.findings.length) {
      const doc = await vscode.workspace.openTextDocument(textUri);
      await this.refresh(doc);
    } else {
      this.clear(textUri);
    }
    for (const doc of vscode.workspace.textDocuments) if (recipeOf(doc)?.model.fsPath === model.fsPath) await this.refresh(doc);
  }

  /** Recomputes the diagnostics of one document. */
  async refresh(doc: vscode.TextDocument): Promise<void> {
    const model = modelOfTextView(doc);
    if (model) return this.publish(doc.uri, await this.placeOnText(model, doc));
    const recipe = recipeOf(doc);
    if (recipe) return this.publish(doc.uri, await this.placeOnRecipe(recipe.model, recipe.recipe.layers, doc));
  }

  private async placeOnText(model: vscode.Uri, doc: vscode.TextDocument): Promise<LocatedFinding[]> {
    const state = await this.findings.fresh(model);
    if (!state.fresh) return [];
    const entries = modelTextEntries(doc.getText());
    const nodes = new Map(entries.filter((e) => e.kind === 'node').map((e) => [e.name, e]));
    const tensors = new Map(entries.filter((e) => e.kind === 'tensor').map((e) => [e.name, e]));
    const out: LocatedFinding[] = [];
    for (const finding of state.findings.report.findings) {
      const e = nodes.get(finding.layer) ?? tensors.get(finding.tensor ?? finding.layer) ?? tensors.get(finding.layer);
      if (e) out.push({ model, finding, range: new vscode.Range(e.line, e.column, e.line, e.column + e.length) });
    }
    return out;
  }

  private async placeOnRecipe(model: vscode.Uri, layers: Parameters<typeof recipeConflicts>[0], doc: vscode.TextDocument): Promise<LocatedFinding[]> {
    const state = await this.findings.fresh(model);
    if (!state.fresh) return [];
    return recipeConflicts(layers, state.findings.report.findings).map((c) => {
      const line = doc.lineAt(c.line - 1);
      const text = line.text.replace(/\s+#.*$/, '');
      const at = text.lastIndexOf(c.chosen);
      const valueRange = at >= 0 ? new vscode.Range(line.lineNumber, at, line.lineNumber, at + c.chosen.length) : line.range;
      return { model, finding: { ...c.finding, message: c.message }, range: new vscode.Range(line.lineNumber, line.firstNonWhitespaceCharacterIndex, line.lineNumber, text.length), recommended: c.recommended, valueRange };
    });
  }

  private publish(uri: vscode.Uri, located: LocatedFinding[]): void {
    if (!located.length) return this.clear(uri);
    this.placed.set(uri.toString(), located);
    this.collection.set(uri, located.map((l) => {
      const d = new vscode.Diagnostic(l.range, l.recommended ? l.finding.message : `${l.finding.message}. ${l.finding.advice}`, SEVERITY[l.finding.severity]);
      d.source = FINDING_SOURCE;
      d.code = l.finding.kind;
      return d;
    }));
  }

  private clear(uri: vscode.Uri): void {
    this.placed.delete(uri.toString());
    this.collection.delete(uri);
  }
}
