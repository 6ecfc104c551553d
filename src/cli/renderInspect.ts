import type { ModelSummary } from '../protocol/workerProtocol';
import { bytes } from './renderOutputs';

/** How much of an `inspect` result the text shows. */
export interface InspectTextOptions {
  /** Tensors listed before the rest is counted (0: all). */
  readonly maxTensors: number;
}

/** The tensor lines: name, dtype, shape and size in aligned columns, the rest counted. */
function tensorLines(s: ModelSummary, max: number): string[] {
  const shown = max > 0 ? s.tensors.slice(0, max) : s.tensors;
  const rows = shown.map((t) => [t.name, t.dtype, `[${t.shape.join(', ')}]`, bytes(t.byteLength)]);
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  const lines = rows.map((r) => `    ${r.map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}`);
  const rest = s.tensors.length - shown.length;
  if (rest > 0) lines.push(`    … ${rest} more tensor${rest === 1 ? '' : 's'} (--tensors 0 lists all; --json gives every field)`);
  return lines;
}

/** Renders an `inspect` result as aligned plain text for a terminal. */
export function renderInspect(s: ModelSummary, options: InspectTextOptions = { maxTensors: 40 }): string {
  const lines: string[] = [];
  lines.push(`${s.path}`);
  lines.push(`  format      ${s.format}`);
  lines.push(`  size        ${s.fileSize} bytes`);
  lines.push(`  parameters  ${s.parameterCount} in ${s.tensors.length} tensors`);
  if (s.graph) lines.push(`  graph       ${s.graph.nodes} nodes, opsets ${Object.entries(s.graph.opsets).map(([d, v]) => `${d || 'ai.onnx'}=${v}`).join(' ')}`);
  if (s.runtime) lines.push(`  runtime     ONNX Runtime ${s.runtime}`);
  if (s.runtimeError) lines.push(`  runtime     REFUSED: ${s.runtimeError}`);
  const sig = (kind: string, v: ModelSummary['inputs'][number]): string => `  ${kind.padEnd(7)} ${v.name}: ${v.type || 'non-tensor'}[${v.shape.join(', ')}]`;
  for (const i of s.inputs) lines.push(sig('input', i));
  for (const o of s.outputs) lines.push(sig('output', o));
  for (const d of s.dtypes) lines.push(`  dtype   ${d.dtype.padEnd(8)} ${d.tensors} tensors, ${d.elements} elements, ${d.byteLength} bytes`);
  if (s.tensors.length) lines.push(`  tensors`, ...tensorLines(s, options.maxTensors));
  return lines.join('\n') + '\n';
}
