import { type CommandSpec, type OptionSpec } from './CommandSpec';

/** Width the help is wrapped to. */
const WIDTH = 100;

/** The exit codes, as every help page states them. */
export const EXIT_CODES_TEXT = 'Exit codes: 0 success, 1 failure (the message names the file or the problem), 2 usage error, 130 interrupted.';

/** Splits `text` into lines of at most `width` characters at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** `--bits 8|4|3`, `--group N`, `-o OUT.onnx`, `--asym`. */
function optionLabel(o: OptionSpec): string {
  const name = o.short ? `-${o.short}` : `--${o.name}`;
  if (o.kind === 'flag') return name;
  const value = o.placeholder ?? (o.kind === 'enum' ? (o.values ?? []).join('|') : o.kind === 'int' ? 'N' : o.kind === 'number' ? 'X' : 'VALUE');
  return `${name} ${value}`;
}

/** The help sentence with its default and range. */
function optionText(o: OptionSpec): string {
  const extras: string[] = [];
  if ((o.kind === 'int' || o.kind === 'number') && (o.min !== undefined || o.max !== undefined)) {
    extras.push(o.min !== undefined && o.max !== undefined ? `${o.min} to ${o.max}` : o.min !== undefined ? `≥ ${o.min}` : `≤ ${String(o.max)}`);
  }
  if (o.default !== undefined && o.kind !== 'flag') extras.push(`default ${String(o.default)}`);
  if (o.repeatable) extras.push('repeatable');
  if (!extras.length) return o.help;
  // A help sentence that already ends in a parenthesis takes the extras inside it.
  return o.help.endsWith(')') ? `${o.help.slice(0, -1)}; ${extras.join('; ')})` : `${o.help} (${extras.join('; ')})`;
}

/** Two columns: labels, then help wrapped beside them (on the next line when a label is long). */
function columns(rows: readonly (readonly [string, string])[]): string[] {
  const labelWidth = Math.min(28, Math.max(...rows.map(([l]) => l.length)));
  const out: string[] = [];
  for (const [label, text] of rows) {
    const body = wrap(text, WIDTH - labelWidth - 4);
    if (label.length > labelWidth) {
      out.push(`  ${label}`);
      for (const b of body) out.push(`  ${' '.repeat(labelWidth)}  ${b}`);
    } else {
      body.forEach((b, i) => out.push(`  ${(i === 0 ? label : '').padEnd(labelWidth)}  ${b}`));
    }
  }
  return out;
}

/** The help of one command: usage, what it does, its arguments and options with defaults, examples. */
export function renderCommandHelp(spec: CommandSpec): string {
  const out: string[] = [];
  spec.usage.forEach((u, i) => out.push(`${i === 0 ? 'Usage: ' : '       '}quantscope ${u}`));
  out.push('', ...wrap(spec.description ?? spec.summary, WIDTH));
  if (spec.arguments.length) out.push('', 'Arguments:', ...columns(spec.arguments.map((a) => [a.name, a.help])));
  out.push('', 'Options:', ...columns([...spec.options.map((o): [string, string] => [optionLabel(o), optionText(o)]), ['-h, --help', 'Show this help']]));
  for (const g of spec.groups ?? []) out.push('', `${g.title}:`, ...columns(g.options.map((o) => [optionLabel(o), optionText(o)])));
  if (spec.examples.length) out.push('', spec.examples.length === 1 ? 'Example:' : 'Examples:', ...spec.examples.map((e) => `  quantscope ${e}`));
  out.push('', ...wrap(EXIT_CODES_TEXT, WIDTH));
  return out.join('\n') + '\n';
}

/** The global help: every command with its summary, the global options and the exit codes. */
export function renderGlobalHelp(specs: readonly CommandSpec[]): string {
  const out = ['Usage: quantscope <command> [options]', '', 'Inspect, profile, quantize, prune and benchmark model checkpoints, without VS Code.', '', 'Commands:'];
  out.push(...columns([...specs.map((s): [string, string] => [s.name, s.summary]), ['help COMMAND', 'The options of COMMAND, with their defaults and an example']]));
  out.push('', 'Options:', ...columns([['-h, --help', 'Show this help (after a command: that command\'s help)'], ['--version', 'Print the version']]));
  out.push('', 'Run "quantscope help COMMAND" (or "quantscope COMMAND --help") for a command\'s options.', ...wrap(EXIT_CODES_TEXT, WIDTH));
  return out.join('\n') + '\n';
}
