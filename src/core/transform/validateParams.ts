import { checkParam, FIELD_NAMES, ParamError, paramValue, type ParamNamer } from './ParamSpec';
import type { AnyTransformMethod, TransformJob } from './TransformMethod';

/**
 * The one check of a method's parameters, run wherever they enter (command line, QuickPick,
 * recipe, JSON-RPC): every field against its spec, then the method's checks across fields.
 * Messages name the field as the edge calls it (`nameOf`). Throws {@link ParamError}.
 */
export function validateParams<P extends object>(method: AnyTransformMethod, params: P, nameOf: ParamNamer = FIELD_NAMES): P {
  const fields = params as Readonly<Record<string, unknown>>;
  for (const spec of method.params) {
    const value = paramValue(spec, fields);
    if (value !== undefined) checkParam(spec, value, nameOf);
  }
  method.check?.(params as Parameters<NonNullable<AnyTransformMethod['check']>>[0], nameOf);
  return params;
}

/** The methods of `job` in table order. */
export function methodsOf<T extends Readonly<Record<string, AnyTransformMethod>>>(table: T, job: TransformJob): T[keyof T][] {
  return Object.values(table).filter((m) => m.job === job) as T[keyof T][];
}

/** The entry of `job` named `name`; anything else is refused with the list of names. */
export function methodNamed<T extends Readonly<Record<string, AnyTransformMethod>>>(table: T, job: TransformJob, name: unknown, nameOf: ParamNamer = FIELD_NAMES): T[keyof T] {
  const found = methodsOf(table, job).find((m) => m.name === name);
  if (!found) throw new ParamError('method', `${nameOf('method')} must be ${methodsOf(table, job).map((m) => m.name).join(', ')}; got ${typeof name === 'string' ? `"${name}"` : String(name)}`);
  return found;
}
