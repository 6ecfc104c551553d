/**
 * The plain data a restricted unpickler builds. Nothing here can run code: a "class" is only a name
 * with an optional data-building function chosen by our own allow-list.
 */

/** Base of values that an allow-listed global builds (tensors, storages, dtypes). */
export abstract class PyExtension {
  abstract readonly kind: string;
}

/** A module-level name that the allow-list accepted, such as `collections.OrderedDict`. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    /** Builds a value from call arguments (REDUCE, NEWOBJ, OBJ, INST); absent for names that are only data. */
    readonly call?: (args: PyValue[]) => PyValue,
  ) {}

  /** `module.name`, as messages show it. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of an accepted class that has no special meaning to us (a TorchScript module, a numpy dtype). */
export class PyObject {
  /** Whatever BUILD set: usually a dict of attributes. */
  state: PyValue = null;
  /** Items appended (list subclasses) or set (dict subclasses). */
  readonly items: PyValue[] = [];
  readonly dict = new PyDict();
  constructor(readonly cls: PyGlobal, readonly args: readonly PyValue[]) {}
}

/** A Python tuple. Kept apart from lists so that persistent ids and call arguments read naturally. */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** A Python dict with insertion order. Primitive keys are compared by value, others by identity. */
export class PyDict {
  private readonly map = new Map<unknown, [PyValue, PyValue]>();
  /** Attributes set by BUILD (an OrderedDict's `_metadata`); not part of the items. */
  state: PyValue = null;

  /** Sets `key` (Python's `d[key] = value`), keeping the first insertion's position. */
  set(key: PyValue, value: PyValue): void {
    this.map.set(keyOf(key), [key, value]);
  }

  /** The value under `key`, if any. */
  get(key: PyValue): PyValue | undefined {
    return this.map.get(keyOf(key))?.[1];
  }

  /** Number of items. */
  get size(): number {
    return this.map.size;
  }

  /** Items as `[key, value]` in insertion order. */
  entries(): IterableIterator<[PyValue, PyValue]> {
    return this.map.values();
  }
}

function keyOf(key: PyValue): unknown {
  switch (typeof key) {
    case 'string': return `s:${key}`;
    case 'number': return `n:${key}`;
    case 'bigint': return `n:${key}`;
    case 'boolean': return `n:${key ? 1 : 0}`; // Python: True == 1
    default: return key === null ? 'None' : key;
  }
}

/** Any value an unpickled stream can hold. Lists are JS arrays; bytes are Uint8Array. */
export type PyValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PyValue[] | PyTuple | PyDict | PyGlobal | PyObject | PyExtension;
