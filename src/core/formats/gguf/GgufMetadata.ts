/**
 * Typed GGUF metadata, as a writer needs it: llama.cpp checks each key's value type (u32 for
 * counts, f32 for epsilons, i32 arrays for token types), so copying a key keeps its type.
 */

/** GGUF metadata value types, by id. */
export const GGUF_VALUE_TYPE = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 } as const;
/** One of the {@link GGUF_VALUE_TYPE} ids. */
export type GgufValueType = (typeof GGUF_VALUE_TYPE)[keyof typeof GGUF_VALUE_TYPE];
/** The fewest bytes one value of each type occupies (a string its u64 length, an array its type and count), to check lengths before reading. */
export const GGUF_MIN_BYTES: readonly number[] = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];

/** An array value: the element type and the elements (nested arrays are arrays of arrays). */
export interface GgufArray {
  readonly itemType: GgufValueType;
  readonly items: readonly GgufScalar[] | readonly GgufArray[];
}
/** A scalar metadata value. 64-bit integers may be bigints. */
export type GgufScalar = number | bigint | boolean | string;

/** One metadata entry with its type. */
export interface GgufEntry {
  readonly key: string;
  readonly type: GgufValueType;
  readonly value: GgufScalar | GgufArray;
}

/** Shorthands for the entries converters write most. */
export const gguf = {
  str: (key: string, value: string): GgufEntry => ({ key, type: GGUF_VALUE_TYPE.STRING, value }),
  u32: (key: string, value: number): GgufEntry => ({ key, type: GGUF_VALUE_TYPE.U32, value }),
  i32: (key: string, value: number): GgufEntry => ({ key, type: GGUF_VALUE_TYPE.I32, value }),
  f32: (key: string, value: number): GgufEntry => ({ key, type: GGUF_VALUE_TYPE.F32, value }),
  bool: (key: string, value: boolean): GgufEntry => ({ key, type: GGUF_VALUE_TYPE.BOOL, value }),
  array: (key: string, itemType: GgufValueType, items: readonly GgufScalar[]): GgufEntry => ({ key, type: GGUF_VALUE_TYPE.ARRAY, value: { itemType, items } }),
};
