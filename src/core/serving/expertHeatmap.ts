import type { HeatmapData } from '../../protocol/workerProtocol';
import { NAMED_EXPERT } from './findExperts';

/** A profiled tensor as the heatmap needs it. */
export interface ProfiledTensor {
  readonly name: string;
  readonly stats?: { readonly absmax: number | null };
}

/**
 * The Outliers panel's layers × experts map from a weight profile: each cell the log10 of the
 * largest absmax among one routed expert's matrices, so an expert whose weights carry outliers
 * stands out in its layer. Experts found by name (`experts.N.`); undefined when there are none.
 */
export function expertHeatmap(tensors: readonly ProfiledTensor[]): HeatmapData | undefined {
  const cells = new Map<number, Map<number, { absmax: number; names: string[] }>>();
  let columns = 0;
  for (const t of tensors) {
    const m = NAMED_EXPERT.exec(t.name);
    const absmax = t.stats?.absmax;
    if (!m || absmax === undefined || absmax === null) continue;
    const layer = Number(m[1]);
    const expert = Number(m[2]);
    const row = cells.get(layer) ?? new Map<number, { absmax: number; names: string[] }>();
    cells.set(layer, row);
    const cell = row.get(expert) ?? { absmax: 0, names: [] };
    row.set(expert, cell);
    cell.absmax = Math.max(cell.absmax, absmax);
    cell.names.push(t.name);
    columns = Math.max(columns, expert + 1);
  }
  if (cells.size === 0) return undefined;
  const layers = [...cells.keys()].sort((a, b) => a - b);
  const values: number[] = [];
  for (const l of layers) {
    const row = cells.get(l);
    for (let e = 0; e < columns; e++) {
      const absmax = row?.get(e)?.absmax;
      values.push(absmax !== undefined && absmax > 0 ? Math.log10(absmax) : NaN);
    }
  }
  return {
    layers: layers.map((l) => `layer ${l} experts`),
    members: layers.map((l) => [...(cells.get(l)?.values() ?? [])].flatMap((c) => c.names)),
    columns,
    values,
    maxChannels: columns,
  };
}
