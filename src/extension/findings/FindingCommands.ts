import * as path from 'node:path';
import * as vscode from 'vscode';
import { adviseLayers, printAdviceRecipe } from '../../core/findings/adviceRecipe';
import { fixLabel } from '../../core/findings/findingText';
import { fixJob, planChoiceOf } from '../../core/findings/fixChoices';
import { atomicWrite } from '../../core/io/atomicWrite';
import { parsePlanRecipe, RecipeError } from '../../core/transform/quantize/planRecipe';
import type { FindingFix } from '../../protocol/findingTypes';
import type { PlanChoice } from '../../protocol/planTypes';
import type { PruneReport } from '../../protocol/pruneTypes';
import type { QuantizeReport } from '../../protocol/quantizeTypes';
import type { WorkerClient } from '../client/WorkerClient';
import type { PruneFlow } from '../quantize/PruneFlow';
import type { QuantizeFlow } from '../quantize/QuantizeFlow';
import { requireTrust } from '../workspaceTrust';
import type { FindingsService } from './FindingsService';
import { findRecipe, freeRecipePath, recipeLayerEdit, whyNotWritable } from './recipeFiles';

/** The command ids of the findings' actions. */
export const FINDING_COMMANDS = {
  /** Runs a finding's fix on its layer (internal: the lightbulb passes the arguments). */
  apply: 'quantscope.applyFinding',
  /** Writes a layer's precision into a recipe (internal). */
  addToRecipe: 'quantscope.addToRecipe',
  /** Builds a recipe from every finding of a model (palette, source action). */
  applyRecommended: 'quantscope.applyRecommended',
  /** The fixes at the cursor in a QuickPick: Ctrl+. on the read-only text view (see FindingFixesCommand). */
  showFixes: 'quantscope.showFindingFixes',
} as const;

/** What an action that did not run says, for callers and tests. */
export interface Refusal {
  readonly refused: string;
}

/** A recipe that an action wrote or edited. */
export interface RecipeResult {
  readonly recipe: vscode.Uri;
}

function refuse(reason: string): Refusal {
  void vscode.window.showErrorMessage(`Quantscope: ${reason}`);
  return { refused: reason };
}

function asUri(arg: unknown): vscode.Uri | undefined {
  return arg instanceof vscode.Uri ? arg : typeof arg === 'string' ? vscode.Uri.file(arg) : undefined;
}

/**
 * The code actions' commands. They check what the findings rest on before anything is written:
 * the model must be the file that was profiled (otherwise the findings are stale and cleared),
 * the layer must still exist, and the folder must be writable. Fixes then run through the same
 * Quantize and Prune flows (and worker jobs, reports and diffs) as the QuickPicks.
 */
export class FindingCommands {
  /** Registers the three commands. */
  static register(context: vscode.ExtensionContext, findings: FindingsService, worker: WorkerClient, quantize: QuantizeFlow, prune: PruneFlow): FindingCommands {
    const c = new FindingCommands(findings, worker, quantize, prune);
    context.subscriptions.push(
      vscode.commands.registerCommand(FINDING_COMMANDS.apply, requireTrust(FINDING_COMMANDS.apply, (model: unknown, layer: unknown, fix: unknown) => c.apply(asUri(model), layer, fix as FindingFix | undefined))),
      vscode.commands.registerCommand(FINDING_COMMANDS.addToRecipe, requireTrust(FINDING_COMMANDS.addToRecipe, (model: unknown, layer: unknown, choice: unknown) => c.addToRecipe(asUri(model), layer, choice as PlanChoice | undefined))),
      vscode.commands.registerCommand(FINDING_COMMANDS.applyRecommended, requireTrust(FINDING_COMMANDS.applyRecommended, (model: unknown) => c.applyRecommended(asUri(model)))),
    );
    return c;
  }

  private constructor(private readonly findings: FindingsService, private readonly worker: WorkerClient, private readonly quantize: QuantizeFlow, private readonly prune: PruneFlow) {}

  /** The model's layers that quantization can rewrite, as the worker lists them now. */
  private async layersNow(model: vscode.Uri): Promise<{ readonly layer: string; readonly weight: string }[] | Refusal> {
    try {
      return [...(await this.worker.request('quantizableLayers', { path: model.fsPath }))];
    } catch (e) {
      return refuse(`cannot read ${path.basename(model.fsPath)}: ${e instanceof Error ? e.message : String(e)}; nothing was written`);
    }
  }

  /** Runs `fix` on `layer` of `model` with the finding's settings. */
  async apply(model: vscode.Uri | undefined, layer: unknown, fix: FindingFix | undefined): Promise<QuantizeReport | PruneReport | Refusal | undefined> {
    if (!model || typeof layer !== 'string' || !fix) return refuse('Apply Finding needs a model, a layer and a fix');
    const state = await this.findings.fresh(model);
    if (!state.fresh) return refuse(`${state.reason}; nothing was written`);
    const job = fixJob(fix, [layer]);
    if (job.job === 'none') return refuse(`${fixLabel(fix)} runs no transform: add it to a recipe instead`);
    if (!model.fsPath.toLowerCase().endsWith('.onnx')) return refuse(`${path.basename(model.fsPath)} is not an ONNX model: transforms write ONNX; export the checkpoint to ONNX first`);
    const layers = await this.layersNow(model);
    if ('refused' in layers) return layers;
    if (!layers.some((l) => l.layer === layer || l.weight === layer)) return refuse(`${layer} is no longer a MatMul/Gemm layer of ${path.basename(model.fsPath)}; nothing was written`);
    const blocked = await whyNotWritable(path.dirname(model.fsPath));
    if (blocked) return refuse(`cannot write the result beside ${path.basename(model.fsPath)}: ${blocked}; nothing was written`);
    return job.job === 'quantize' ? this.quantize.run(model, [], job.params) : this.prune.run(model, [], job.params);
  }

  /** Writes `layer: choice` into the model's recipe (an open or existing one, else a new file beside the model). */
  async addToRecipe(model: vscode.Uri | undefined, layer: unknown, choice: PlanChoice | undefined): Promise<RecipeResult | Refusal> {
    if (!model || typeof layer !== 'string' || !choice) return refuse('Add to Recipe needs a model, a layer and a precision');
    const state = await this.findings.fresh(model);
    if (!state.fresh) return refuse(`${state.reason}; nothing was written`);
    const layers = await this.layersNow(model);
    if ('refused' in layers) return layers;
    if (!layers.some((l) => l.layer === layer)) return refuse(`${layer} is no longer a MatMul/Gemm layer of ${path.basename(model.fsPath)}; nothing was written`);
    const existing = await findRecipe(model);
    if (existing) {
      const blocked = await whyNotWritable(existing.fsPath);
      if (blocked) return refuse(`cannot add ${layer} to ${path.basename(existing.fsPath)}: ${blocked}; nothing was written`);
      const doc = await vscode.workspace.openTextDocument(existing);
      let recipe;
      try {
        recipe = parsePlanRecipe(doc.getText());
      } catch (e) {
        if (e instanceof RecipeError) return refuse(`${path.basename(existing.fsPath)}: ${e.message}; fix the recipe first, nothing was written`);
        throw e;
      }
      if (!(await vscode.workspace.applyEdit(recipeLayerEdit(doc, recipe, layer, choice)))) return refuse(`VS Code refused the edit of ${path.basename(existing.fsPath)}; nothing was written`);
      await vscode.window.showTextDocument(doc, { preview: false });
      return { recipe: existing };
    }
    const blocked = await whyNotWritable(path.dirname(model.fsPath));
    if (blocked) return refuse(`cannot write a recipe beside ${path.basename(model.fsPath)}: ${blocked}; nothing was written`);
    const target = freeRecipePath(model.fsPath, 'plan');
    const finding = state.findings.report.findings.find((f) => f.layer === layer && f.fix && planChoiceOf(f.fix) === choice);
    const text = printAdviceRecipe(path.basename(model.fsPath), [{ layer, choice, reason: finding ? `${finding.kind}: ${finding.advice}` : 'added by hand' }]);
    return this.writeAndOpen(target, text);
  }

  /** A recipe with every layer's recommended precision, written beside the model and opened to review and apply. */
  async applyRecommended(model: vscode.Uri | undefined): Promise<RecipeResult | Refusal> {
    const target = model ?? this.activeModel();
    if (!target) return refuse('Apply All Recommended needs a model: open its text view or pass it');
    const state = await this.findings.fresh(target);
    if (!state.fresh) return refuse(`${state.reason}; nothing was written`);
    if (!target.fsPath.toLowerCase().endsWith('.onnx')) return refuse(`${path.basename(target.fsPath)} is not an ONNX model: recipes quantize ONNX models`);
    const layers = await this.layersNow(target);
    if ('refused' in layers) return layers;
    const blocked = await whyNotWritable(path.dirname(target.fsPath));
    if (blocked) return refuse(`cannot write a recipe beside ${path.basename(target.fsPath)}: ${blocked}; nothing was written`);
    const advised = adviseLayers(layers.map((l) => l.layer), state.findings.report.findings);
    let text = printAdviceRecipe(path.basename(target.fsPath), advised);
    if (state.findings.report.synthetic) text = `# The findings come from calibration on generated inputs (synthetic).\n${text}`;
    return this.writeAndOpen(freeRecipePath(target.fsPath, 'advice'), text);
  }

  private activeModel(): vscode.Uri | undefined {
    const doc = vscode.window.activeTextEditor?.document;
    return doc?.uri.scheme === 'quantscope-model' ? vscode.Uri.file(doc.uri.path.replace(/\.qmodel$/, '')) : undefined;
  }

  private async writeAndOpen(target: string, text: string): Promise<RecipeResult | Refusal> {
    try {
      await atomicWrite(target, [new TextEncoder().encode(text)]);
    } catch (e) {
      return refuse(`cannot write ${path.basename(target)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const uri = vscode.Uri.file(target);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
    return { recipe: uri };
  }
}
