/**
 * The declarative description of a CLI command: what it takes, what each option accepts and its
 * default. One parser validates a command line against it and one renderer prints its help, so
 * the help, the checks and the error messages cannot drift apart.
 */
import type { OptionFields } from '../core/transform/ParamSpec';

/** One `--name` option: the fields every option declares (shared with method parameters), and two of the CLI's own. */
export interface OptionSpec extends OptionFields {
  /** The option may be given more than once; every value is kept in order. */
  readonly repeatable?: boolean;
  /** A one-letter alias (`o` for `-o`). */
  readonly short?: string;
}

/** One positional argument. */
export interface ArgumentSpec {
  /** Its name in the usage (`MODEL.onnx`). */
  readonly name: string;
  readonly help: string;
  /** How many values it takes. */
  readonly count: 'one' | 'optional' | 'one-or-more';
}

/** A titled group of options in the help, such as the options of one method. */
export interface OptionGroup {
  readonly title: string;
  readonly options: readonly OptionSpec[];
}

/** A subcommand. */
export interface CommandSpec {
  readonly name: string;
  /** One line for the global list. */
  readonly summary: string;
  /** Usage lines without the leading `quantscope`. */
  readonly usage: readonly string[];
  /** Longer explanation shown in the command's own help. */
  readonly description?: string;
  readonly arguments: readonly ArgumentSpec[];
  /** The general options. */
  readonly options: readonly OptionSpec[];
  /** Further options shown under their own headings (method-specific options). */
  readonly groups?: readonly OptionGroup[];
  /** Whole command lines, without the leading `quantscope`. */
  readonly examples: readonly string[];
}

/** Every option of a command, general ones first. */
export function allOptions(spec: CommandSpec): readonly OptionSpec[] {
  return [...spec.options, ...(spec.groups ?? []).flatMap((g) => g.options)];
}

/** `--json`: every command has it. */
export const JSON_OPTION: OptionSpec = { name: 'json', kind: 'flag', help: 'Print machine-readable JSON on stdout (errors too, as {"error": {...}})' };
