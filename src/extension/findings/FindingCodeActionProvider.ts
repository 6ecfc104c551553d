import * as vscode from 'vscode';
import { fixLabel } from '../../core/findings/findingText';
import { fixJob, planChoiceOf } from '../../core/findings/fixChoices';
import type { FindingFix } from '../../protocol/findingTypes';
import { FINDING_COMMANDS } from './FindingCommands';
import { FINDING_SOURCE, type FindingDiagnostics, type LocatedFinding } from './FindingDiagnostics';
import { modelOfTextView } from './modelOfDocument';

/** The source action that builds a recipe from every finding. */
const APPLY_ALL_KIND = vscode.CodeActionKind.Source.append('quantscope.applyRecommended');

/**
 * The lightbulb on findings. In the model text view: a Quick Fix per fix that runs the transform
 * on the layer (the finding's first fix preferred), "Add to recipe" for fixes a recipe can state,
 * and the source action "Apply all recommended". In a recipe: the edit to the recommended precision.
 */
export class FindingCodeActionProvider implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix, APPLY_ALL_KIND] };

  /** Registers the provider for model text views and recipes. */
  static register(context: vscode.ExtensionContext, diagnostics: FindingDiagnostics): void {
    const provider = new FindingCodeActionProvider(diagnostics);
    context.subscriptions.push(vscode.languages.registerCodeActionsProvider([{ language: 'quantscope-model' }, { language: 'quantscope-recipe' }], provider, FindingCodeActionProvider.metadata));
  }

  private constructor(private readonly diagnostics: FindingDiagnostics) {}

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const ours = context.diagnostics.filter((d) => d.source === FINDING_SOURCE);
    const placed = this.diagnostics.located(doc.uri).filter((l) => l.range.intersection(range) !== undefined || ours.some((d) => d.range.isEqual(l.range)));
    const actions: vscode.CodeAction[] = [];
    const model = modelOfTextView(doc);
    const wantsFixes = !context.only || context.only.contains(vscode.CodeActionKind.QuickFix) || vscode.CodeActionKind.QuickFix.contains(context.only);
    if (wantsFixes) {
      for (const l of placed) {
        const diagnostic = ours.find((d) => d.range.isEqual(l.range) && d.code === l.finding.kind);
        actions.push(...(l.recommended ? this.recipeFixes(doc, l, diagnostic) : this.textFixes(l, diagnostic)));
      }
    }
    const wantsSource = context.only !== undefined && (context.only.contains(APPLY_ALL_KIND) || APPLY_ALL_KIND.contains(context.only));
    // Offered with the quick fixes too, so the lightbulb shows it on any finding's line.
    if (model && this.diagnostics.located(doc.uri).length && (wantsSource || (wantsFixes && placed.length))) {
      const n = this.diagnostics.located(doc.uri).length;
      const all = new vscode.CodeAction(`Apply all recommended: a recipe from ${n} findings`, APPLY_ALL_KIND);
      all.command = { title: all.title, command: FINDING_COMMANDS.applyRecommended, arguments: [model] };
      actions.push(all);
    }
    return actions;
  }

  private textFixes(l: LocatedFinding, diagnostic: vscode.Diagnostic | undefined): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    const fixes: FindingFix[] = [...(l.finding.fix ? [l.finding.fix] : []), ...l.finding.alternatives];
    for (const [i, fix] of fixes.entries()) {
      if (fixJob(fix, [l.finding.layer]).job !== 'none') {
        const a = new vscode.CodeAction(`${fixLabel(fix)} on ${l.finding.layer}`, vscode.CodeActionKind.QuickFix);
        a.command = { title: a.title, command: FINDING_COMMANDS.apply, arguments: [l.model, l.finding.layer, fix] };
        a.isPreferred = i === 0;
        if (diagnostic) a.diagnostics = [diagnostic];
        out.push(a);
      }
      const choice = planChoiceOf(fix);
      if (choice) {
        const a = new vscode.CodeAction(`Add to recipe: ${l.finding.layer} → ${choice}`, vscode.CodeActionKind.QuickFix);
        a.command = { title: a.title, command: FINDING_COMMANDS.addToRecipe, arguments: [l.model, l.finding.layer, choice] };
        if (diagnostic) a.diagnostics = [diagnostic];
        out.push(a);
      }
    }
    return out;
  }

  private recipeFixes(doc: vscode.TextDocument, l: LocatedFinding, diagnostic: vscode.Diagnostic | undefined): vscode.CodeAction[] {
    if (!l.recommended || !l.valueRange) return [];
    const a = new vscode.CodeAction(`Change ${l.finding.layer} to ${l.recommended} (${l.finding.kind})`, vscode.CodeActionKind.QuickFix);
    a.edit = new vscode.WorkspaceEdit();
    a.edit.replace(doc.uri, l.valueRange, l.recommended);
    a.isPreferred = true;
    if (diagnostic) a.diagnostics = [diagnostic];
    return [a];
  }
}
