import type { LayerProfile, ModelProfile } from '../../src/protocol/workerProtocol';
import { h } from '../shared/vscodeApi';
import { VirtualTable } from '../shared/VirtualTable';
import { stat } from './tensorDetail';

function err(l: LayerProfile, id: string): number | null | undefined {
  return l.sensitivity?.candidates.find((c) => c.id === id)?.relativeError;
}

function num(v: number | null | undefined): number {
  return v === null || v === undefined ? -Infinity : v;
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
      { title: 'Layer', text: (l) => l.layer, width: 'minmax(12em, 3fr)' },
      { title: 'd', text: (l) => String(l.d), key: (l) => l.d, align: 'right', width: 'minmax(3.5em, 0.6fr)' },
      { title: 'Act. absmax', text: (l) => stat(Math.max(...l.absmax), 2), key: (l) => Math.max(...l.absmax), align: 'right', width: 'minmax(5em, 1fr)' },
      { title: `≥${c.threshold}`, text: (l) => String(l.outliers.int8), key: (l) => l.outliers.int8, align: 'right', width: 'minmax(3.5em, 0.6fr)' },
      { title: `>${c.scaleFreeFactor}×med`, text: (l) => String(l.outliers.scaleFree), key: (l) => l.outliers.scaleFree, align: 'right', width: 'minmax(5em, 0.8fr)' },
      { title: 'Difficulty', text: (l) => stat(l.difficulty, 1), key: (l) => num(l.difficulty), align: 'right', width: 'minmax(5em, 0.8fr)' },
      { title: 'tr(H)/d', text: (l) => stat(l.traceOverD, 2), key: (l) => l.traceOverD, align: 'right', width: 'minmax(5em, 1fr)' },
      { title: 'λmax(H)', text: (l) => stat(l.sensitivity?.topEigenvalue, 2), key: (l) => num(l.sensitivity?.topEigenvalue), align: 'right', width: 'minmax(5em, 1fr)' },
      { title: 'INT8/ch', text: (l) => stat(err(l, 'int8-channel')), key: (l) => num(err(l, 'int8-channel')), align: 'right', width: 'minmax(5em, 1fr)' },
      { title: 'INT4 g128', text: (l) => stat(err(l, 'int4-g128')), key: (l) => num(err(l, 'int4-g128')), align: 'right', width: 'minmax(5em, 1fr)' },
      { title: 'INT4/ch', text: (l) => stat(err(l, 'int4-channel')), key: (l) => num(err(l, 'int4-channel')), align: 'right', width: 'minmax(5em, 1fr)' },
      { title: '2:4', text: (l) => stat(err(l, 'prune-2:4')), key: (l) => num(err(l, 'prune-2:4')), align: 'right', width: 'minmax(5em, 1fr)' },
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
