/**
 * Layers × channels heatmaps of absmax, downsampled by max-pooling so that a single outlier
 * channel (or layer) stays visible however wide (or long) the model is.
 */

/** One row of the heatmap before pooling: a layer and its per-channel absmax. */
export interface HeatmapRow {
  readonly layer: string;
  readonly absmax: ArrayLike<number>;
}

/** A pooled heatmap, ready for a chart. */
export interface ChannelHeatmap {
  /** Row labels; a pooled row is labelled `first … last`. */
  readonly layers: string[];
  /** Names of the layers behind each row, so a click can reveal one. */
  readonly members: string[][];
  readonly columns: number;
  /** Row-major rows × columns of log10(absmax); NaN where a layer has no channel in that bin. */
  readonly values: number[];
  /** Widest layer's channel count, before pooling. */
  readonly maxChannels: number;
}

/** Max-pools `values` into `bins` bins; bin b covers channels [⌊b·n/bins⌋, ⌊(b+1)·n/bins⌋). */
export function maxPool(values: ArrayLike<number>, bins: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(bins).fill(NaN);
  if (n === 0) return out;
  const used = Math.min(bins, n);
  for (let b = 0; b < used; b++) {
    const lo = Math.floor((b * n) / used);
    const hi = Math.floor(((b + 1) * n) / used);
    let m = -Infinity;
    for (let i = lo; i < hi; i++) if (values[i] > m) m = values[i];
    out[b] = m;
  }
  return out;
}

/**
 * Builds the heatmap. Each layer's channels are pooled to at most `maxColumns` bins spread over
 * its own width (so narrow and wide layers both fill the row), then consecutive layers are pooled
 * to at most `maxRows` rows. Values are log10 of the absmax, with zeros shown as NaN.
 */
export function channelHeatmap(rows: readonly HeatmapRow[], maxColumns = 128, maxRows = 256): ChannelHeatmap {
  const maxChannels = rows.reduce((m, r) => Math.max(m, r.absmax.length), 0);
  const columns = Math.max(1, Math.min(maxColumns, maxChannels));
  const pooled = rows.map((r) => maxPool(r.absmax, columns));
  const groups = Math.min(rows.length, maxRows);
  const layers: string[] = [];
  const members: string[][] = [];
  const values: number[] = [];
  for (let g = 0; g < groups; g++) {
    const lo = Math.floor((g * rows.length) / groups);
    const hi = Math.floor(((g + 1) * rows.length) / groups);
    const names = rows.slice(lo, hi).map((r) => r.layer);
    members.push(names);
    layers.push(names.length === 1 ? names[0] : `${names[0]} … ${names[names.length - 1]}`);
    for (let c = 0; c < columns; c++) {
      let m = NaN;
      for (let i = lo; i < hi; i++) {
        const v = pooled[i][c];
        if (!(v <= m)) m = Number.isNaN(v) ? m : v;
      }
      values.push(m > 0 ? Math.log10(m) : NaN);
    }
  }
  return { layers, members, columns, values, maxChannels };
}
