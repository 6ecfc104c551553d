/** A parsed command line: positional arguments, boolean flags and valued options. */
export interface Args {
  readonly positional: string[];
  readonly flags: Set<string>;
  /** Options that take a value; repeated options keep every value in order. */
  readonly options: Map<string, string[]>;
}

/**
 * Parses `argv`. Options listed in `valued` take the next argument (or `--name=value`); every
 * other `--name` is a flag. Throws a usage error for a valued option without its value.
 */
export function parseArgs(argv: readonly string[], valued: ReadonlySet<string>): Args {
  const positional: string[] = [];
  const flags = new Set<string>();
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-o') {
      options.set('output', [...(options.get('output') ?? []), argv[++i] ?? '']);
      continue;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const body = a.replace(/^-+/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (valued.has(name)) {
      const v = eq >= 0 ? body.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      options.set(name, [...(options.get(name) ?? []), v]);
    } else flags.add(name);
  }
  return { positional, flags, options };
}

/** A mistake on the command line; the CLI prints it with the usage and exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A positive integer option, or undefined when absent; anything else is a usage error. */
export function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
  return n;
}
