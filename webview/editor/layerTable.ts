import { shortName } from '../../src/protocol/shortName';
import type { LayerProfile, ModelProfile } from '../../src/protocol/workerProtocol';
import { h } from '../shared/vscodeApi';
import { numberColumn, VirtualTable } from '../shared/VirtualTable';

function err(l: LayerProfile, id: string): number | null | undefined {
  return l.sensitivity?.candidates.find((c) => c.id === id)?.relativeError;
}

/**
 * The calibration section: per layer, the activation outliers (LLM.int8()'s and the scale-free
 * criterion), SmoothQuant's difficulty, tr(H)/d, the top eigenvalue of H, and the relative output
 * error tr(ΔW H ΔWᵀ)/tr(W H Wᵀ) of each candidate precision, most sensitive first.
 */
export function layerSection(profile: ModelProfile, fromCache: boolean, onSelect: (layer: LayerProfile) => void): HTMLElement {
  const c = profile.calibration;
  const table = new VirtualTable<LayerProfile>(
    [
      { title: 'Rank', text: (l) => (l.rank ? String(l.rank) : '–'), key: (l) => l.rank ?? Infinity, align: 'right', width: 'minmax(3.5em, 0.5fr)' },
      { title: 'Layer', text: (l) => l.layer, display: (l) => shortName(l.layer, 40), width: 'minmax(12em, 3fr)' },
      { title: 'd', text: (l) => String(l.d), key: (l) => l.d, align: 'right', width: 'minmax(3.5em, 0.6fr)' },
      numberColumn('Act. absmax', (l) => Math.max(...l.absmax)),
      { title: `≥${c.threshold}`, text: (l) => String(l.outliers.int8), key: (l) => l.outliers.int8, align: 'right', width: 'minmax(3.5em, 0.6fr)' },
      { title: `>${c.scaleFreeFactor}×med`, text: (l) => String(l.outliers.scaleFree), key: (l) => l.outliers.scaleFree, align: 'right', width: 'minmax(5em, 0.8fr)' },
      numberColumn('Difficulty', (l) => l.difficulty, 'minmax(5em, 0.8fr)'),
      numberColumn('tr(H)/d', (l) => l.traceOverD),
      numberColumn('λmax(H)', (l) => l.sensitivity?.topEigenvalue),
      numberColumn('INT8/ch', (l) => err(l, 'int8-channel')),
      numberColumn('INT4 g128', (l) => err(l, 'int4-g128')),
      numberColumn('INT4/ch', (l) => err(l, 'int4-channel')),
      numberColumn('2:4', (l) => err(l, 'prune-2:4')),
    ],
    'layers',
    onSelect,
  );
  table.setRows(profile.layers);
  const note = c.synthetic
    ? h('p', { class: 'warning', role: 'status' }, `Synthetic calibration: the inputs were generated from the declared shapes (${c.batches} batches), so these activation statistics describe random inputs, not your data. Calibrate with your own .npy/.npz/.pb files for real figures.`)
    : h('p', { class: 'hint' }, `Calibrated on ${c.batches} batches of your data.`);
  const skipped = c.skipped.length ? h('p', { class: 'hint' }, `${c.skipped.length} MatMul/Gemm nodes not tapped (for example ${c.skipped[0].layer}: ${c.skipped[0].reason}).`) : undefined;
  return h(
    'section',
    { class: 'layers', 'aria-label': 'Layers' },
    h('div', { class: 'detail-head' }, h('h2', {}, `Layers: activations and sensitivity (${profile.layers.length})`), h('span', { class: 'hint' }, fromCache ? 'from the cache' : `calibrated in ${c.seconds.toFixed(1)} s`)),
    note,
    ...(skipped ? [skipped] : []),
    h('p', { class: 'hint' }, 'Errors are tr(ΔW H ΔWᵀ) / tr(W H Wᵀ) with H = XᵀX from calibration: the relative output error of each layer at that precision. Double-click or press Enter on a layer to show its weight.'),
    table.element,
  );
}
