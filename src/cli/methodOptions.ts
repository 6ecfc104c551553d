/**
 * The quantize and prune commands' method options, read from the method table: which options
 * take a value, the help lines, and the job parameters built from a command line.
 */
import { type AnyTransformMethod, type TransformJob } from '../core/transform/TransformMethod';
import { CLI_NAMES, ParamError, paramFromText, type ParamSpec } from '../core/transform/ParamSpec';
import { methodNamed, methodsOf, validateParams } from '../core/transform/validateParams';
import type { OptionGroup, OptionSpec } from './CommandSpec';
import { UsageError } from './parseArgs';

/** What the options are read from: a parsed command line. */
export interface OptionReader {
  /** An option's value as written (numbers as text), or undefined when absent. */
  string(name: string): string | undefined;
  /** Whether a flag (or a valued option) was given. */
  has(name: string): boolean;
}

/** A method table as the CLI reads it. */
export type CliMethodTable = Readonly<Record<string, AnyTransformMethod>>;

/** The command-line options of `job`'s methods, one per name, with the methods that take each. */
export function methodOptions(table: CliMethodTable, job: TransformJob): { spec: ParamSpec; methods: string[] }[] {
  const byName = new Map<string, { spec: ParamSpec; methods: string[] }>();
  for (const m of methodsOf(table, job)) {
    for (const spec of m.params) {
      if (spec.cliHidden) continue;
      const entry = byName.get(spec.name) ?? { spec, methods: [] };
      entry.methods.push(m.name);
      byName.set(spec.name, entry);
    }
  }
  return [...byName.values()];
}

/**
 * The command's method options, one group per method with the options no earlier method listed
 * (RTN lists bits and format, GPTQ only what it adds). An option several methods share accepts
 * what any of them accepts and says which methods take it; each method checks its own values.
 */
export function methodOptionGroups(table: CliMethodTable, job: TransformJob): OptionGroup[] {
  const all = methodOptions(table, job);
  const every = methodsOf(table, job).length;
  const listed = new Set<string>();
  const groups: OptionGroup[] = [];
  for (const m of methodsOf(table, job)) {
    const options: OptionSpec[] = [];
    for (const spec of m.params) {
      if (spec.cliHidden || listed.has(spec.name)) continue;
      listed.add(spec.name);
      const methods = all.find((o) => o.spec.name === spec.name)?.methods ?? [m.name];
      const values = [...new Set(methodsOf(table, job).flatMap((x) => x.params.filter((p) => p.name === spec.name).flatMap((p) => p.values ?? [])))];
      options.push({ ...spec, values: values.length ? values : undefined, help: methods.length > 1 && methods.length < every ? `${spec.help} (${methods.join(', ')})` : spec.help });
    }
    if (options.length) groups.push({ title: `${m.label.replace(/…$/, '')} options`, options });
  }
  return groups;
}

/**
 * The parameters of the method `--method` names, from the command line: each of its options read
 * and checked against the table, an option of another method refused, fields the job requires
 * filled from the table's defaults, then the one validator. Mistakes are {@link UsageError}s
 * that name the option.
 */
export function methodParamsFromArgs<P>(table: CliMethodTable, job: TransformJob, args: OptionReader, base: Readonly<Record<string, unknown>>, methodName?: string): P {
  try {
    const name = methodName ?? args.string('method');
    if (name === undefined) throw new UsageError(`${job} needs --method ${methodsOf(table, job).map((m) => m.name).join('|')}`, job);
    const method = methodNamed(table, job, name, CLI_NAMES);
    const fields: Record<string, unknown> = { ...base, method: method.name };
    const setBy = new Map<string, string>();
    // Options of other methods are read too, so the method's own checks can say what is wrong
    // (`--permute needs an N:M --pattern`); any left are refused after them.
    const foreign: string[] = [];
    for (const { spec, methods } of methodOptions(table, job)) {
      const text = spec.kind === 'flag' ? undefined : args.string(spec.name);
      const flagged = spec.kind === 'flag' && args.has(spec.name);
      if (text === undefined && !flagged) continue;
      const own = method.params.find((s) => s.name === spec.name) ?? spec;
      if (own === spec && !method.params.includes(spec)) foreign.push(`--${spec.name} applies to --method ${methods.join(', ')} only`);
      const value = paramFromText(own, text, flagged, CLI_NAMES);
      if (value === undefined) continue;
      const other = setBy.get(own.field);
      if (other !== undefined) throw new UsageError(`give --${other} or --${own.name}, not both`, job);
      setBy.set(own.field, own.name);
      fields[own.field] = value;
    }
    const complete = method.complete ? method.complete(fields as never) : fields;
    const params = validateParams(method, complete as Readonly<Record<string, unknown>> & { readonly method: string }, CLI_NAMES);
    if (foreign.length) throw new UsageError(foreign[0], job);
    // Checked field by field against the method's table entry just now.
    return params as unknown as P;
  } catch (e) {
    if (e instanceof ParamError) throw new UsageError(e.message, job);
    throw e;
  }
}
