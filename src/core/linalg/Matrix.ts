/**
 * A dense row-major Float64 matrix: element (i, j) lives at `data[i * cols + j]`.
 * Kept as a plain object so it crosses worker boundaries as structured-clone data.
 */
export interface Matrix {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** Row-major storage of length `rows * cols`. */
  readonly data: Float64Array;
}

/** A row-major matrix view over Float32 or Float64 storage, used for inputs that are not copied. */
export interface MatrixLike {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** Row-major storage of length `rows * cols`. */
  readonly data: Float32Array | Float64Array;
}

/** A zero-filled `rows × cols` matrix. */
export function zeros(rows: number, cols: number): Matrix {
  checkDims(rows, cols);
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** The `n × n` identity. */
export function identity(n: number): Matrix {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

/**
 * Wraps (or, for Float32 input, widens to Float64) row-major data as a matrix.
 * Float64 input is shared, not copied, so writes through the matrix reach the caller's array.
 */
export function fromData(rows: number, cols: number, data: ArrayLike<number> | Float64Array): Matrix {
  checkDims(rows, cols);
  if (data.length !== rows * cols) throw new RangeError(`matrix data has ${data.length} elements, expected ${rows}×${cols} = ${rows * cols}`);
  return { rows, cols, data: data instanceof Float64Array ? data : Float64Array.from(data) };
}

/** A deep copy. */
export function clone(a: MatrixLike): Matrix {
  return { rows: a.rows, cols: a.cols, data: Float64Array.from(a.data) };
}

/** Aᵀ as a new matrix, copied in tiles so that both reads and writes stay within cache lines. */
export function transpose(a: MatrixLike): Matrix {
  const { rows, cols } = a;
  const out = new Float64Array(rows * cols);
  const T = 32;
  for (let i0 = 0; i0 < rows; i0 += T) {
    const i1 = Math.min(i0 + T, rows);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(j0 + T, cols);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = a.data[i * cols + j];
    }
  }
  return { rows: cols, cols: rows, data: out };
}

/** Throws unless `a` is square; returns its order. */
export function assertSquare(a: MatrixLike, what = 'matrix'): number {
  if (a.rows !== a.cols) throw new RangeError(`${what} must be square, got ${a.rows}×${a.cols}`);
  return a.rows;
}

function checkDims(rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`invalid matrix dimensions ${rows}×${cols}`);
  }
}
