/** What a command-line option declares: the fields the CLI's option spec and a method parameter share. */
export interface OptionFields {
  /** The long name without dashes (`bits` for `--bits`, `budget-bits`, `act-order`). */
  readonly name: string;
  /** `flag` takes no value; the others take one, checked as an integer, a number or one of `values`. */
  readonly kind: 'flag' | 'string' | 'int' | 'number' | 'enum';
  /** The accepted values of an `enum`, as written on the command line. */
  readonly values?: readonly string[];
  /** The value used when the option is absent; for a method parameter, the only place defaults are written. */
  readonly default?: string | number | boolean;
  /** Smallest accepted value of an `int` or `number`. */
  readonly min?: number;
  /** Largest accepted value of an `int` or `number`. */
  readonly max?: number;
  /** What stands for the value in the help (`N`, `FILE`, `N:M`); derived from the kind when absent. */
  readonly placeholder?: string;
  /** One sentence for the help. */
  readonly help: string;
}

/**
 * The description of one method parameter: enough for the CLI to parse and document it, for a
 * QuickPick to offer it, and for {@link validateParams} to check it wherever parameters enter
 * (command line, QuickPick, recipe, JSON-RPC). Its {@link OptionFields} are what the CLI's option spec declares too.
 */
export interface ParamSpec extends OptionFields {
  /** The field of the job's parameters that the option sets. */
  readonly field: string;
  /** Enum values that are numbers (`--bits 8` sets 8, not "8"). */
  readonly numeric?: boolean;
  /** The value a flag sets (default true; `--asym` sets `symmetric` to false). */
  readonly sets?: boolean;
  /** Options that share a field (`--budget-bits`, `--budget-error`): how the value becomes the field, and back (undefined when another option set it). */
  readonly wrap?: { readonly to: (value: number) => unknown; readonly from: (field: unknown) => number | undefined };
  /** A string option with structure (`2:4`): its parse (throwing a message that follows "must") and its text form. */
  readonly codec?: { readonly parse: (text: string) => unknown; readonly print: (value: unknown) => string };
  /** Parameters that only files and QuickPicks give (a plan's per-layer precisions), not the command line. */
  readonly cliHidden?: boolean;
  /** What a QuickPick offers for this parameter, first the usual choice; absent: the QuickPick does not ask. */
  readonly picks?: readonly ParamPick[];
  /** Where the QuickPick asks for it when not in table order (a plan asks its budget before the rounding). */
  readonly pickOrder?: number;
  /** The QuickPick's title for this parameter. */
  readonly pickTitle?: string;
  /** Whether the QuickPick asks, given what was picked so far (the block size only for 4 bits). */
  readonly pickWhen?: (picked: Readonly<Record<string, unknown>>) => boolean;
  /** What a QuickPick's input box for this parameter starts with. */
  readonly pickInput?: string;
  /** A VS Code setting (under `quantscope.`) whose value the QuickPick uses instead of asking. */
  readonly setting?: string;
}

/** One QuickPick item of a parameter. */
export interface ParamPick {
  /** The value the parameter takes (as the command line writes it for structured strings); absent when the pick sets only `with`. */
  readonly value?: string | number | boolean;
  readonly label: string;
  readonly description?: string;
  /** Other fields the pick sets ("INT8 weight-only" sets 8 bits; SparseGPT's "2:4" sets a pattern). */
  readonly with?: Readonly<Record<string, unknown>>;
}

/** A parameter the validator refused: `field` is the field it names, the message names it as the edge calls it. */
export class ParamError extends RangeError {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'ParamError';
  }
}

/** How an edge calls a parameter in messages: `--alpha` on the command line, `alpha` elsewhere. */
export type ParamNamer = (name: string) => string;

/** The field's own name (JSON-RPC, QuickPick choices, recipes). */
export const FIELD_NAMES: ParamNamer = (name) => name;
/** The command line's option names. */
export const CLI_NAMES: ParamNamer = (name) => `--${name}`;

function range(spec: ParamSpec): string {
  if (spec.min === undefined && spec.max === undefined) return '';
  if (spec.max === undefined) return ` ≥ ${spec.min ?? 0}`;
  return ` in [${spec.min ?? '−∞'}, ${spec.max}]`;
}

function shown(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** Throws a {@link ParamError} unless `value` fits `spec` (its kind, range and allowed values). */
export function checkParam(spec: ParamSpec, value: unknown, nameOf: ParamNamer): void {
  const name = nameOf(spec.name);
  const fail = (what: string): never => {
    throw new ParamError(spec.field, `${name} must be ${what}; got ${shown(value)}`);
  };
  switch (spec.kind) {
    case 'flag':
      if (typeof value !== 'boolean') fail('true or false');
      return;
    case 'enum': {
      const text = spec.numeric && typeof value === 'number' ? String(value) : value;
      if (typeof text !== 'string' || (spec.numeric && typeof value !== 'number') || !(spec.values ?? []).includes(text)) fail((spec.values ?? []).join(', '));
      return;
    }
    case 'string':
      if (spec.codec) {
        try {
          spec.codec.parse(typeof value === 'string' ? value : spec.codec.print(value));
        } catch (e) {
          throw new ParamError(spec.field, `${name} must ${e instanceof Error ? e.message : String(e)}; got ${shown(value)}`);
        }
      } else if (typeof value !== 'string') fail('text');
      return;
    case 'int':
    case 'number': {
      const n = spec.wrap && typeof value !== 'number' ? spec.wrap.from(value) : value;
      const integer = spec.kind === 'int';
      const bad = typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max);
      if (bad) fail(`${integer ? (spec.min !== undefined && spec.min >= 1 && spec.max === undefined ? 'a positive integer' : 'an integer') : 'a number'}${integer && spec.min !== undefined && spec.min >= 1 && spec.max === undefined ? '' : range(spec)}`);
      return;
    }
  }
}

/** The spec's value in `params`, as {@link checkParam} reads it; undefined when absent (or set by another option of a shared field). */
export function paramValue(spec: ParamSpec, params: Readonly<Record<string, unknown>>): unknown {
  const v = params[spec.field];
  if (v === undefined || !spec.wrap) return v;
  return spec.wrap.from(v);
}

/**
 * Reads one option from the command line's text into the value of its field: numbers parsed, enum
 * values checked, flags set, structured strings decoded. Undefined when the option is absent.
 */
export function paramFromText(spec: ParamSpec, text: string | undefined, flagged: boolean, nameOf: ParamNamer): unknown {
  if (spec.kind === 'flag') return flagged ? spec.sets ?? true : undefined;
  if (text === undefined) return undefined;
  let value: unknown = text;
  if (spec.kind === 'int' || spec.kind === 'number') value = text.trim() === '' ? NaN : Number(text);
  else if (spec.kind === 'enum' && spec.numeric && (spec.values ?? []).includes(text)) value = Number(text);
  else if (spec.kind === 'string' && spec.codec) {
    try {
      value = spec.codec.parse(text);
    } catch (e) {
      throw new ParamError(spec.field, `${nameOf(spec.name)} must ${e instanceof Error ? e.message : String(e)}; got "${text}"`);
    }
  }
  checkParam({ ...spec, wrap: undefined }, spec.kind === 'string' && spec.codec ? text : value, nameOf);
  return spec.wrap && typeof value === 'number' ? spec.wrap.to(value) : value;
}
