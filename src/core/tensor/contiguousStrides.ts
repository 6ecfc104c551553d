/** Row-major (C order) element strides of `shape`: the last axis varies fastest. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Column-major (Fortran order) element strides of `shape`, as a Fortran-ordered npy stores it. */
export function fortranStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = 0; i < shape.length; i++) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * True when strides `a` and `b` address the same elements of a tensor of `shape`: axes of size 0
 * or 1 are never stepped along, so their strides do not matter.
 */
export function sameStrides(a: readonly number[], b: readonly number[], shape: readonly number[]): boolean {
  return a.every((s, i) => shape[i] <= 1 || s === b[i]);
}
