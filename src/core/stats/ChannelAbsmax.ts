import type { MatrixLayout } from './MatrixLayout';

/**
 * Absolute maximum of every row and every column of a row-major matrix, fed in blocks that may
 * start and end anywhere (mid-row included). Values must already be finite: the caller replaces
 * NaN and ±Inf with 0, so they never raise a channel's absmax.
 */
export class ChannelAbsmax {
  // `declare`d fields set in the constructor keep V8's field types exact (see LinearHistogram).
  declare readonly layout: MatrixLayout;
  declare readonly rowAbsmax: Float64Array;
  declare readonly colAbsmax: Float64Array;

  constructor(layout: MatrixLayout) {
    this.layout = layout;
    this.rowAbsmax = new Float64Array(layout.rows);
    this.colAbsmax = new Float64Array(layout.cols);
  }

  /** Adds `data[0..len)`, whose first value is element `pos` of the flattened matrix. */
  push(data: Float64Array, len: number, pos: number): void {
    const cols = this.layout.cols;
    const rowAbs = this.rowAbsmax;
    const colAbs = this.colAbsmax;
    let r = Math.floor(pos / cols);
    let c = pos - r * cols;
    let i = 0;
    while (i < len) {
      const seg = Math.min(len - i, cols - c);
      let rm = rowAbs[r];
      for (let j = 0; j < seg; j++) {
        const a = Math.abs(data[i + j]);
        rm = Math.max(rm, a);
        colAbs[c + j] = Math.max(colAbs[c + j], a);
      }
      rowAbs[r] = rm;
      i += seg;
      c += seg;
      if (c === cols) {
        c = 0;
        r++;
      }
    }
  }

  /** Absmax per output channel (rows when `outAxis` is 0, columns when it is 1). */
  get outputAbsmax(): Float64Array {
    return this.layout.outAxis === 0 ? this.rowAbsmax : this.colAbsmax;
  }

  /** Absmax per input channel. */
  get inputAbsmax(): Float64Array {
    return this.layout.outAxis === 0 ? this.colAbsmax : this.rowAbsmax;
  }
}
