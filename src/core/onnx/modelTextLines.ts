/**
 * Where things are in `quantscope-model` text (see ModelTextPrinter): the line of every input,
 * output, node and tensor, and the span of its name, for diagnostics, hovers and the outline.
 */

/** What a line of the text view declares. */
export type ModelTextEntryKind = 'input' | 'output' | 'node' | 'tensor';

/** One declaration: its kind, its name and where the name is. */
export interface ModelTextEntry {
  readonly kind: ModelTextEntryKind;
  readonly name: string;
  /** 0-based line. */
  readonly line: number;
  /** 0-based column where the name starts, and its length. */
  readonly column: number;
  readonly length: number;
  /** The operator of a node, the type of a value or tensor. */
  readonly detail: string;
}

const PREFIXES: readonly ModelTextEntryKind[] = ['input', 'output', 'node', 'tensor'];

/**
 * Every declaration of the text, in order. A node line is `node NAME Op(…) -> …` (NAME has no
 * spaces in practice; an op is the last word before the parenthesis); a value or tensor line is
 * `input NAME: type[…]`, whose name ends at the last `: ` before the type.
 */
export function modelTextEntries(text: string): ModelTextEntry[] {
  const out: ModelTextEntry[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    const kind = PREFIXES.find((p) => line.startsWith(`${p} `));
    if (!kind) continue;
    const column = kind.length + 1;
    const rest = line.slice(column);
    if (kind === 'node') {
      const paren = rest.indexOf('(');
      const head = paren < 0 ? rest : rest.slice(0, paren);
      const space = head.lastIndexOf(' ');
      if (space <= 0) continue;
      out.push({ kind, name: head.slice(0, space), line: i, column, length: space, detail: head.slice(space + 1) });
    } else {
      const body = kind === 'tensor' ? rest.replace(/ {2}# .*$/, '') : rest;
      const colon = body.lastIndexOf(': ');
      if (colon <= 0) continue;
      out.push({ kind, name: body.slice(0, colon), line: i, column, length: colon, detail: body.slice(colon + 2) });
    }
  }
  return out;
}
