/**
 * Renders a model as text in the `quantscope-model` language: the form the diff view compares
 * before and after a transform. Every line is stable, so a diff shows only real changes.
 */

import type { ModelListing, NodeSummary, TensorSummary, ValueSummary } from '../../protocol/modelTypes';

/** One input or output in the text view. */
export type TextValue = Pick<ValueSummary, 'name' | 'type' | 'shape'>;

/** One graph node in the text view. */
export type TextNode = NodeSummary;

/** One tensor in the text view; summary statistics are appended when known. */
export type TextTensor = Pick<TensorSummary, 'name' | 'dtype' | 'shape'> & { readonly summary?: string };

/** What the printer needs: a listing's header, and optionally the graph and tensors so any format can be shown. */
export interface ModelTextInput extends Omit<ModelListing<TextValue>, 'metadata'> {
  readonly fileName: string;
  readonly metadata?: ModelListing['metadata'];
  readonly opsets?: Readonly<Record<string, number>>;
  readonly nodes?: readonly TextNode[];
  readonly tensors?: readonly TextTensor[];
}

function value(v: TextValue): string {
  return `${v.name}: ${v.type || 'non-tensor'}[${v.shape.map((d) => String(d)).join(', ')}]`;
}

function opName(n: TextNode): string {
  return n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType;
}

/** Prints the model as `quantscope-model` text. */
export function printModelText(m: ModelTextInput): string {
  const lines = [`model ${m.fileName}`, `  format ${m.format}`, `  size ${m.fileSize} bytes (${(m.fileSize / 2 ** 20).toFixed(1)} MiB)`];
  for (const [domain, version] of Object.entries(m.opsets ?? {}).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  opset ${domain || 'ai.onnx'} ${version}`);
  for (const [k, v] of Object.entries(m.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  meta ${k} = ${JSON.stringify(v)}`);
  lines.push('');
  for (const i of m.inputs) lines.push(`input ${value(i)}`);
  for (const o of m.outputs) lines.push(`output ${value(o)}`);
  if (m.nodes?.length) {
    lines.push('');
    // Node order is the graph's topological order, which carries meaning: keep it.
    m.nodes.forEach((n, i) => lines.push(`node ${n.name || `#${i}`} ${opName(n)}(${n.inputs.join(', ')}) -> ${n.outputs.join(', ')}`));
  }
  if (m.tensors?.length) {
    lines.push('');
    for (const t of [...m.tensors].sort((a, b) => a.name.localeCompare(b.name))) {
      lines.push(`tensor ${t.name}: ${t.dtype}[${t.shape.join(', ')}]${t.summary ? `  # ${t.summary}` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}
