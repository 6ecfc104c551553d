import * as vscode from 'vscode';
import { num } from '../../core/findings/findingText';
import { histogramSparkline } from '../../core/findings/histogramSparkline';
import { modelTextEntries } from '../../core/onnx/modelTextLines';
import type { LayerProfile, TensorProfile } from '../../protocol/workerProtocol';
import type { FindingsService } from './FindingsService';
import { modelOfTextView } from './modelOfDocument';

function db(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${x.toFixed(1)} dB`;
}

/** The weight's key figures and a one-line histogram. */
function weightLines(t: TensorProfile): string[] {
  const s = t.stats;
  if (!s) return [`weight \`${t.name}\` ${t.dtype}[${t.shape.join(', ')}]${t.error ? `: ${t.error}` : ''}`];
  const q = (scheme: string): number | null | undefined => s.quantization.find((x) => x.scheme === scheme)?.sqnrDb;
  const lines = [
    `weight \`${t.name}\` ${t.dtype}[${t.shape.join(', ')}]: absmax ${num(s.absmax)}, std ${num(s.std)}, kurtosis ${num(s.kurtosis)}, beyond 6σ ${num((s.outlierFraction6Sigma ?? 0) * 100)}%`,
    `SQNR: INT8 per-tensor ${db(q('int8-per-tensor'))} · per-channel ${db(q('int8-per-channel'))} · INT4 g128 ${db(q('int4-group-sym'))}`,
  ];
  if (s.channels) lines.push(`channel absmax max/median: input ${num(s.channels.input.maxOverMedian)}, output ${num(s.channels.output.maxOverMedian)}`);
  if (s.histogram) lines.push(`histogram (log count) \`${num(s.histogram.edges[0])}\` \`${histogramSparkline(s.histogram)}\` \`${num(s.histogram.edges[s.histogram.edges.length - 1])}\``);
  return lines;
}

/** The layer's activation and sensitivity figures from calibration. */
function layerLines(l: LayerProfile): string[] {
  const err = (id: string): string => num(l.sensitivity?.candidates.find((c) => c.id === id)?.relativeError);
  return [
    `activation: d ${l.d}, absmax ${num(Math.max(...l.absmax))}, difficulty ${num(l.difficulty)}, outliers ${l.outliers.int8} (LLM.int8()) / ${l.outliers.scaleFree} (scale-free), ${l.rows} rows`,
    `tr(ΔW H ΔWᵀ)/tr(W H Wᵀ): INT8/ch ${err('int8-channel')} · INT4 g128 ${err('int4-g128')} · INT4/ch ${err('int4-channel')} · 2:4 ${err('prune-2:4')}${l.rank ? ` · rank ${l.rank}` : ''}`,
  ];
}

/** Hovers on a layer's or tensor's line of the model text view: its key figures, a mini histogram and its findings. */
export class FindingHoverProvider implements vscode.HoverProvider {
  /** Registers the provider for the `quantscope-model` language. */
  static register(context: vscode.ExtensionContext, findings: FindingsService): void {
    context.subscriptions.push(vscode.languages.registerHoverProvider({ language: 'quantscope-model' }, new FindingHoverProvider(findings)));
  }

  private constructor(private readonly findings: FindingsService) {}

  async provideHover(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const model = modelOfTextView(doc);
    if (!model) return undefined;
    const entry = modelTextEntries(doc.lineAt(position.line).text).find((e) => e.kind === 'node' || e.kind === 'tensor');
    if (!entry) return undefined;
    const state = await this.findings.fresh(model);
    if (!state.fresh) return undefined;
    const f = state.findings;
    const layer = entry.kind === 'node' ? f.model?.layers.find((l) => l.layer === entry.name) : f.model?.layers.find((l) => l.weight === entry.name);
    const tensor = f.weights.tensors.find((t) => (entry.kind === 'node' ? t.layer === entry.name || t.name === layer?.weight : t.name === entry.name));
    const own = f.report.findings.filter((x) => x.layer === entry.name || x.tensor === entry.name);
    if (!layer && !tensor && !own.length) return undefined;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${entry.name.replace(/[\\`*_{}[\]()#+\-.!|]/g, '\\$&')}** ${entry.detail.split('[')[0]}\n\n`);
    const lines = [...(tensor ? weightLines(tensor) : []), ...(layer ? layerLines(layer) : [])];
    md.appendMarkdown(lines.map((l) => `- ${l}`).join('\n'));
    if (own.length) md.appendMarkdown(`\n\n${own.map((x) => `- **${x.severity}** ${x.message}. _${x.advice}_`).join('\n')}`);
    const range = new vscode.Range(position.line, entry.column, position.line, entry.column + entry.length);
    return new vscode.Hover(md, range);
  }
}
