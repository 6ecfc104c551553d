// Shared by the extension and the webviews, which import nothing but src/protocol.
/**
 * A long graph name as people read it: exporters name initializers and nodes after their
 * subgraph path (`/model/layers.11/self_attn/q_proj/MatMul`, `onnx::MatMul_1234`), which is too
 * long for an outline or a table cell. Names up to `max` characters stay as they are; a longer
 * path keeps its last segments that fit, after `…/`. The full name goes in the tooltip.
 */
export function shortName(name: string, max = 32): string {
  if (name.length <= max) return name;
  const parts = name.split('/').filter((p) => p !== '');
  if (parts.length < 2) return `…${name.slice(name.length - max + 1)}`;
  let kept = parts[parts.length - 1];
  for (let i = parts.length - 2; i >= 0; i--) {
    const next = `${parts[i]}/${kept}`;
    if (next.length + 2 > max) break;
    kept = next;
  }
  return kept.length + 2 > max && !kept.includes('/') ? `…${kept.slice(kept.length - max + 1)}` : `…/${kept}`;
}
