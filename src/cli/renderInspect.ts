import type { ModelSummary } from '../protocol/workerProtocol';

/** Renders an `inspect` result as aligned plain text for a terminal. */
export function renderInspect(s: ModelSummary): string {
  const lines: string[] = [];
  lines.push(`${s.path}`);
  lines.push(`  format      ${s.format}`);
  lines.push(`  size        ${s.fileSize} bytes`);
  lines.push(`  parameters  ${s.parameterCount} in ${s.tensors.length} tensors`);
  if (s.graph) lines.push(`  graph       ${s.graph.nodes} nodes, opsets ${Object.entries(s.graph.opsets).map(([d, v]) => `${d || 'ai.onnx'}=${v}`).join(' ')}`);
  if (s.runtime) lines.push(`  runtime     ONNX Runtime ${s.runtime}`);
  const sig = (kind: string, v: ModelSummary['inputs'][number]): string => `  ${kind.padEnd(7)} ${v.name}: ${v.type || 'non-tensor'}[${v.shape.join(', ')}]`;
  for (const i of s.inputs) lines.push(sig('input', i));
  for (const o of s.outputs) lines.push(sig('output', o));
  for (const d of s.dtypes) lines.push(`  dtype   ${d.dtype.padEnd(8)} ${d.tensors} tensors, ${d.elements} elements, ${d.byteLength} bytes`);
  return lines.join('\n') + '\n';
}
