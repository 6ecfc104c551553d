/**
 * Renders a model as text in the `quantscope-model` language: the form the diff view compares
 * before and after a transform, so every line is stable and sorted where order carries no meaning.
 */

/** One input or output in the text view. */
export interface TextValue {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

/** What the printer needs; every field beyond the signature is optional so any format can be shown. */
export interface ModelTextInput {
  readonly fileName: string;
  readonly format: string;
  readonly fileSize: number;
  readonly inputs: readonly TextValue[];
  readonly outputs: readonly TextValue[];
  readonly metadata?: Readonly<Record<string, string>>;
}

function value(v: TextValue): string {
  const dims = v.shape.length ? v.shape.map((d) => String(d)).join(', ') : '';
  return `${v.name}: ${v.type || 'non-tensor'}[${dims}]`;
}

/** Prints the model as `quantscope-model` text. */
export function printModelText(m: ModelTextInput): string {
  const lines = [`model ${m.fileName}`, `  format ${m.format}`, `  size ${m.fileSize} bytes (${(m.fileSize / 2 ** 20).toFixed(1)} MiB)`];
  const meta = Object.entries(m.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b));
  for (const [k, v] of meta) lines.push(`  meta ${k} = ${JSON.stringify(v)}`);
  lines.push('');
  for (const i of m.inputs) lines.push(`input ${value(i)}`);
  for (const o of m.outputs) lines.push(`output ${value(o)}`);
  return lines.join('\n') + '\n';
}
