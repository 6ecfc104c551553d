import { allOptions, type CommandSpec, type OptionSpec } from './CommandSpec';
import { nearestName } from './nearestName';

/** A mistake on the command line: the CLI prints it with a pointer to the help and exits with code 2. */
export class UsageError extends Error {
  /** The command whose help explains the mistake, when known. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** How an option is written on the command line. */
function optionName(o: OptionSpec): string {
  return o.short ? `-${o.short}` : `--${o.name}`;
}

/** What an option accepts, for its error messages: `8, 4 or 3`, `an integer ≥ 1`. */
export function acceptedValues(o: OptionSpec): string {
  if (o.kind === 'enum') {
    const v = o.values ?? [];
    return v.length > 1 ? `${v.slice(0, -1).join(', ')} or ${v[v.length - 1]}` : (v[0] ?? '');
  }
  const what = o.kind === 'int' ? 'an integer' : o.kind === 'number' ? 'a number' : o.placeholder ?? 'a value';
  if (o.min !== undefined && o.max !== undefined) return `${what} from ${o.min} to ${o.max}`;
  if (o.min !== undefined) return `${what} ≥ ${o.min}`;
  if (o.max !== undefined) return `${what} ≤ ${o.max}`;
  return what;
}

/** Checks one value against its option and converts it; a bad value names the option and what it accepts. */
function checkValue(o: OptionSpec, v: string, command: string): string | number {
  const bad = (): UsageError => {
    const near = o.kind === 'enum' ? nearestName(v, o.values ?? []) : undefined;
    return new UsageError(`${optionName(o)} must be ${acceptedValues(o)}; got "${v}"${near ? ` (did you mean ${near}?)` : ''}`, command);
  };
  switch (o.kind) {
    case 'enum':
      if (!(o.values ?? []).includes(v)) throw bad();
      return v;
    case 'int':
    case 'number': {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || (o.kind === 'int' && !Number.isInteger(n))) throw bad();
      if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) throw bad();
      return n;
    }
    default:
      if (v === '') throw new UsageError(`${optionName(o)} needs ${o.placeholder ?? 'a value'}, not an empty one`, command);
      return v;
  }
}

/** A command line checked against its command's spec. */
export class ParsedArgs {
  constructor(
    readonly spec: CommandSpec,
    readonly positional: readonly string[],
    private readonly values: ReadonlyMap<string, readonly (string | number)[]>,
    private readonly flags: ReadonlySet<string>,
  ) {}

  /** True when the flag (or a valued option) was given. */
  has(name: string): boolean {
    return this.flags.has(name) || this.values.has(name);
  }

  /** `--json` was given. */
  get json(): boolean {
    return this.flags.has('json');
  }

  /** The value of a `string` or `enum` option, or undefined when absent. */
  string(name: string): string | undefined {
    const v = this.values.get(name)?.[0];
    return v === undefined ? undefined : String(v);
  }

  /** Every value of a repeatable option, in order. */
  strings(name: string): string[] {
    return (this.values.get(name) ?? []).map(String);
  }

  /** The value of an `int` or `number` option (already range-checked), or undefined when absent. */
  number(name: string): number | undefined {
    const v = this.values.get(name)?.[0];
    return typeof v === 'number' ? v : undefined;
  }

  /** The value of an `enum` option as one of `allowed` (the spec's values), or undefined. */
  choice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const v = this.string(name);
    return allowed.find((a) => a === v);
  }
}

/**
 * Parses `argv` (the words after the command name) against `spec`: options are `--name value`,
 * `--name=value` or a declared short form; `--` ends the options. Unknown options, bad values,
 * missing values, repeated single options and a wrong number of positional arguments are
 * {@link UsageError}s that name the option and what it accepts.
 */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options = allOptions(spec);
  const byName = new Map(options.map((o) => [o.name, o]));
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short ?? '', o]));
  const positional: string[] = [];
  const values = new Map<string, (string | number)[]>();
  const flags = new Set<string>();
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (onlyPositional || !a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositional = true;
      continue;
    }
    const long = a.startsWith('--');
    const body = a.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const o = long ? byName.get(name) : byShort.get(name);
    if (!o) {
      const near = nearestName(name, [...byName.keys()]);
      const hint = near ? `; did you mean --${near}?` : `; see "quantscope help ${spec.name}"`;
      throw new UsageError(`unknown option ${long ? '--' : '-'}${name} for ${spec.name}${hint}`, spec.name);
    }
    if (o.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`${optionName(o)} takes no value`, spec.name);
      flags.add(o.name);
      continue;
    }
    let v: string | undefined;
    if (eq >= 0) v = body.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // `--method --bits 4`: the next word is an option, so this one's value is missing.
      const isOption = next !== undefined && next.startsWith('--') && next.length > 2;
      if (next !== undefined && !isOption) {
        v = next;
        i++;
      }
    }
    if (v === undefined) throw new UsageError(`${optionName(o)} needs a value: ${acceptedValues(o)}`, spec.name);
    const checked = checkValue(o, v, spec.name);
    const earlier = values.get(o.name);
    if (earlier && !o.repeatable) throw new UsageError(`${optionName(o)} is given twice ("${String(earlier[0])}" and "${v}")`, spec.name);
    values.set(o.name, [...(earlier ?? []), checked]);
  }
  checkPositional(spec, positional);
  return new ParsedArgs(spec, positional, values, flags);
}

/** The positional arguments against the spec's: too few or too many name what was expected. */
function checkPositional(spec: CommandSpec, positional: readonly string[]): void {
  const required = spec.arguments.filter((a) => a.count !== 'optional').length;
  const unbounded = spec.arguments.some((a) => a.count === 'one-or-more');
  const names = spec.arguments.map((a) => a.name).join(' ');
  if (positional.length < required) throw new UsageError(`${spec.name} needs ${names}`, spec.name);
  if (!unbounded && positional.length > spec.arguments.length) {
    const extra = positional.slice(spec.arguments.length);
    throw new UsageError(`${spec.name} takes ${spec.arguments.length ? `one ${names}` : 'no file'}; ${extra.map((e) => `"${e}"`).join(', ')} ${extra.length === 1 ? 'is' : 'are'} left over`, spec.name);
  }
}
