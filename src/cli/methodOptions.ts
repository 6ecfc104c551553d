/**
 * The quantize and prune commands' method options, read from the method table: which options
 * take a value, the help lines, and the job parameters built from a command line.
 */
import { type AnyTransformMethod, type TransformJob } from '../core/transform/TransformMethod';
import { CLI_NAMES, ParamError, paramFromText, type ParamSpec } from '../core/transform/ParamSpec';
import { methodNamed, methodsOf, validateParams } from '../core/transform/validateParams';
import { UsageError, type Args } from './parseArgs';

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

/** The names of `job`'s options that take a value. */
export function valuedOptions(table: CliMethodTable, job: TransformJob): string[] {
  return methodOptions(table, job).filter((o) => o.spec.kind !== 'flag').map((o) => o.spec.name);
}

/** Help lines for `job`'s methods and their options, indented to the usage's columns. */
export function methodHelp(table: CliMethodTable, job: TransformJob): string {
  const lines: string[] = [];
  for (const m of methodsOf(table, job)) lines.push(`    --method ${m.name.padEnd(12)} ${m.label}: ${m.description}`);
  for (const { spec, methods } of methodOptions(table, job)) {
    const flag = spec.kind === 'flag' ? `--${spec.name}` : `--${spec.name} ${spec.placeholder ?? 'X'}`;
    const dflt = spec.default !== undefined && spec.kind !== 'flag' ? ` (default ${String(spec.default)})` : '';
    const only = methods.length < methodsOf(table, job).length ? ` [${methods.join(', ')}]` : '';
    lines.push(`    ${flag.padEnd(21)} ${spec.help}${dflt}${only}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The parameters of the method `--method` names, from the command line: each of its options read
 * and checked against the table, an option of another method refused, fields the job requires
 * filled from the table's defaults, then the one validator. Mistakes are {@link UsageError}s
 * that name the option.
 */
export function methodParamsFromArgs<P>(table: CliMethodTable, job: TransformJob, args: Args, base: Readonly<Record<string, unknown>>, methodName?: string): P {
  try {
    const name = methodName ?? args.options.get('method')?.[0];
    if (name === undefined) throw new UsageError(`quantscope ${job} needs --method ${methodsOf(table, job).map((m) => m.name).join('|')}`);
    const method = methodNamed(table, job, name, CLI_NAMES);
    const fields: Record<string, unknown> = { ...base, method: method.name };
    const setBy = new Map<string, string>();
    // Options of other methods are read too, so the method's own checks can say what is wrong
    // (`--permute needs an N:M --pattern`); any left are refused after them.
    const foreign: string[] = [];
    for (const { spec, methods } of methodOptions(table, job)) {
      const text = args.options.get(spec.name)?.[0];
      const flagged = args.flags.has(spec.name);
      if (text === undefined && !flagged) continue;
      const own = method.params.find((s) => s.name === spec.name) ?? spec;
      if (own === spec && !method.params.includes(spec)) foreign.push(`--${spec.name} applies to --method ${methods.join(', ')} only`);
      const value = paramFromText(own, text, flagged, CLI_NAMES);
      if (value === undefined) continue;
      const other = setBy.get(own.field);
      if (other !== undefined) throw new UsageError(`give --${other} or --${own.name}, not both`);
      setBy.set(own.field, own.name);
      fields[own.field] = value;
    }
    const complete = method.complete ? method.complete(fields as never) : fields;
    const params = validateParams(method, complete as Readonly<Record<string, unknown>> & { readonly method: string }, CLI_NAMES);
    if (foreign.length) throw new UsageError(foreign[0]);
    // Checked field by field against the method's table entry just now.
    return params as unknown as P;
  } catch (e) {
    if (e instanceof ParamError) throw new UsageError(e.message);
    throw e;
  }
}
