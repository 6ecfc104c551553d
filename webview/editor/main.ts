/**
 * The checkpoint editor's page: overview, signature, dtype breakdown and the tensor table. It
 * renders what the host sends and asks the host for everything else.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import type { EditorHostMessage, EditorWebviewMessage, ModelAction, ModelActions, Recommendation } from '../../src/protocol/webviewProtocol';
import type { ModelProfile, ModelSummary, TensorProfile, TensorSummary, ValueSummary, WeightProfile } from '../../src/protocol/workerProtocol';
import { formatBytes, formatCount, h, vscodeApi } from '../shared/vscodeApi';
import { shortName } from '../../src/protocol/shortName';
import { recommendationsSection } from '../shared/recommendations';
import { numberColumn, VirtualTable } from '../shared/VirtualTable';
import { renderDtypeChart } from './dtypeChart';
import { layerSection } from './layerTable';
import { ServingSection } from './servingSection';
import { percent, TensorDetail } from './tensorDetail';

/** Statistics by tensor name, once a profile arrived. */
const profiles = new Map<string, TensorProfile>();
let profileInfo: { profile: WeightProfile; fromCache: boolean } | undefined;
let table: VirtualTable<TensorSummary> | undefined;
let filterField: (HTMLElement & { value: string }) | undefined;
let profileStatus: HTMLElement | undefined;
const detail = new TensorDetail((command, layer) => api.postMessage({ type: 'command', command, layer }));
let selected: string | undefined;

const api = vscodeApi<EditorWebviewMessage>();
const app = document.getElementById('app') as HTMLElement;

function button(label: string, onClick: () => void, secondary = false): HTMLElement {
  const b = h('vscode-button', secondary ? { secondary: '' } : {}, label);
  b.addEventListener('click', onClick);
  return b;
}

function renderLoading(fileName: string): void {
  app.replaceChildren(h('div', { class: 'centered', role: 'status' }, h('vscode-progress-ring', { 'aria-label': 'Loading' }), h('p', {}, `Opening ${fileName}…`)));
}

function renderError(m: Extract<EditorHostMessage, { type: 'error' }>): void {
  app.replaceChildren(
    h(
      'section',
      { class: 'error-page', role: 'alert' },
      h('h1', {}, `Quantscope could not open ${m.fileName}`),
      h('p', { class: 'error-message' }, m.message),
      h('p', { class: 'hint' }, m.kind === 'format' ? 'The file does not look like a valid model in a supported format. Nothing was changed.' : 'An internal error occurred. The log has details (Quantscope: Show Worker Log).'),
      h('div', { class: 'toolbar' }, button('Try Again', () => api.postMessage({ type: 'reload' }))),
    ),
  );
}

function shape(v: readonly (number | string)[]): string {
  return `[${v.join(', ')}]`;
}

function signatureTable(title: string, values: readonly ValueSummary[]): HTMLElement {
  const rows = values.map((v) =>
    h('vscode-table-row', {}, h('vscode-table-cell', {}, v.name), h('vscode-table-cell', {}, v.type || 'non-tensor'), h('vscode-table-cell', {}, shape(v.shape))),
  );
  return h(
    'section',
    { class: 'signature', 'aria-label': title },
    h('h2', {}, `${title} (${values.length})`),
    h(
      'vscode-table',
      { 'zebra': '', 'bordered-columns': '', 'resizable': '', 'columns': JSON.stringify(['40%', '20%', '40%']) },
      h('vscode-table-header', { slot: 'header' }, h('vscode-table-header-cell', {}, 'Name'), h('vscode-table-header-cell', {}, 'Type'), h('vscode-table-header-cell', {}, 'Shape')),
      h('vscode-table-body', { slot: 'body' }, ...rows),
    ),
  );
}

function sqnr(p: TensorProfile, scheme: string): number | null | undefined {
  return p.stats?.quantization.find((q) => q.scheme === scheme)?.sqnrDb;
}

function tensorTable(tensors: readonly TensorSummary[]): HTMLElement {
  const prof = (t: TensorSummary): TensorProfile | undefined => profiles.get(t.name);
  const stats = (t: TensorSummary): TensorProfile['stats'] => prof(t)?.stats;
  const sqnrOf = (t: TensorSummary, scheme: string): number | null | undefined => {
    const p = prof(t);
    return p && sqnr(p, scheme);
  };
  table = new VirtualTable<TensorSummary>(
    [
      // Exporters name initializers after their subgraph path: shown short, the full name in the tooltip.
      { title: 'Name', text: (t) => t.name, display: (t) => shortName(t.name, 48), width: 'minmax(14em, 4fr)' },
      { title: 'DType', text: (t) => t.dtype, width: 'minmax(5em, 1fr)' },
      { title: 'Shape', text: (t) => shape(t.shape), key: (t) => t.elements, width: 'minmax(7em, 1.5fr)' },
      { title: 'Elements', text: (t) => formatCount(t.elements), tooltip: (t) => String(t.elements), key: (t) => t.elements, align: 'right', width: 'minmax(5em, 1fr)' },
      { title: 'Bytes', text: (t) => formatBytes(t.byteLength), tooltip: (t) => `${t.byteLength} bytes`, key: (t) => t.byteLength, align: 'right', width: 'minmax(6.5em, 1fr)' },
      numberColumn('Absmax', (t) => stats(t)?.absmax),
      numberColumn('Std', (t) => stats(t)?.std),
      numberColumn('Kurtosis', (t) => stats(t)?.kurtosis),
      numberColumn('>6σ', (t) => stats(t)?.outlierFraction6Sigma, 'minmax(5em, 1fr)', percent),
      numberColumn('Ch. max/med', (t) => stats(t)?.channels?.input.maxOverMedian),
      numberColumn('INT8/ch dB', (t) => sqnrOf(t, 'int8-per-channel')),
      numberColumn('INT4 g128 dB', (t) => sqnrOf(t, 'int4-group-sym')),
    ],
    'tensors',
    undefined,
    (t) => {
      selected = t.name;
      detail.show(profiles.get(t.name), t.name);
    },
  );
  // The heading counts what the filter leaves: "Tensors (12 of 341)".
  const heading = h('h2', {}, `Tensors (${tensors.length})`);
  table.onDidChangeView = (shown, total) => {
    heading.textContent = shown === total ? `Tensors (${total})` : `Tensors (${shown} of ${total})`;
  };
  table.setRows(tensors);
  filterField = h('vscode-textfield', { placeholder: 'Filter tensors (text or /regex/)', 'aria-label': 'Filter tensors' });
  const field = filterField;
  field.addEventListener('input', () => table?.setFilter(field.value));
  profileStatus = h('span', { class: 'hint', role: 'status' });
  updateProfileStatus();
  return h(
    'section',
    { class: 'tensors', 'aria-label': 'Tensors' },
    h('div', { class: 'detail-head' }, heading, profileStatus),
    field,
    table.element,
    detail.element,
  );
}

function updateProfileStatus(): void {
  if (!profileStatus) return;
  if (!profileInfo) {
    profileStatus.textContent = 'Statistics: run Profile to compute them.';
    return;
  }
  const p = profileInfo.profile;
  const failed = p.tensors.filter((t) => !t.stats).length;
  profileStatus.textContent = `Statistics of ${p.tensors.length} tensors${failed ? ` (${failed} without)` : ''}, ${profileInfo.fromCache ? 'from the cache' : `computed in ${(p.elapsedMs / 1000).toFixed(1)} s`}.`;
}

function applyProfile(profile: WeightProfile, fromCache: boolean): void {
  profiles.clear();
  for (const t of profile.tensors) profiles.set(t.name, t);
  profileInfo = { profile, fromCache };
  updateProfileStatus();
  table?.refresh();
  if (selected) detail.show(profiles.get(selected), selected);
}

let layersSlot: HTMLElement | undefined;
let findingsSlot: HTMLElement | undefined;
let recommendations: readonly Recommendation[] = [];

function applyFindings(recs: readonly Recommendation[]): void {
  recommendations = recs;
  findingsSlot?.replaceChildren(recommendationsSection(recs, { apply: (layer, fix) => api.postMessage({ type: 'applyFix', layer, fix }), reveal: (layer, tensor) => reveal(tensor ?? layer) }));
}
const serving = new ServingSection((settings) => api.postMessage({ type: 'planServing', settings }));

function applyModelProfile(profile: ModelProfile, fromCache: boolean): void {
  applyProfile(profile.weights, fromCache);
  layersSlot?.replaceChildren(layerSection(profile, fromCache, (l) => reveal(l.weight)));
}

function reveal(name: string): void {
  if (filterField && filterField.value) filterField.value = '';
  table?.reveal((t) => t.name === name);
}

function renderSummary(s: ModelSummary): void {
  profiles.clear();
  profileInfo = undefined;
  selected = undefined;
  table = undefined;
  detail.show(undefined);
  const name = s.path.split(/[\\/]/).pop() ?? s.path;
  const facts: [string, string][] = [
    ['Format', s.format],
    ['File size', formatBytes(s.fileSize)],
    ['Parameters', formatCount(s.parameterCount)],
    ['Tensors', String(s.tensors.length)],
  ];
  if (s.graph) facts.push(['Nodes', String(s.graph.nodes)], ['Opsets', Object.entries(s.graph.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ')]);
  if (s.runtime) facts.push(['ONNX Runtime', s.runtime]);
  facts.push(['Opened in', `${s.loadMs.toFixed(0)} ms`]);
  const overview = h('dl', { class: 'facts' });
  for (const [k, v] of facts) overview.append(h('dt', {}, k), h('dd', {}, v));

  // The buttons arrive with the `actions` message: only what applies to this model is offered.
  toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Model actions' });
  actionNotes = h('div', { class: 'action-notes' });
  const parts: HTMLElement[] = [
    h(
      'header',
      { class: 'model-header' },
      h('h1', {}, name),
      h('vscode-badge', {}, s.format.toUpperCase()),
      toolbar,
    ),
    actionNotes,
    h('section', { class: 'overview', 'aria-label': 'Overview' }, overview),
  ];
  if (s.runtimeError) parts.push(h('p', { class: 'warning', role: 'status' }, s.runtimeError));
  const meta = Object.entries(s.metadata);
  if (meta.length) {
    const list = h('dl', { class: 'facts metadata' });
    for (const [k, v] of meta) list.append(h('dt', {}, k), h('dd', {}, v));
    parts.push(h('details', { class: 'metadata-section' }, h('summary', {}, `Metadata (${meta.length})`), list));
  }
  if (s.inputs.length || s.outputs.length) parts.push(h('div', { class: 'signatures' }, signatureTable('Inputs', s.inputs), signatureTable('Outputs', s.outputs)));
  if (s.dtypes.length) {
    const canvas = h('canvas', { role: 'img', 'aria-label': 'Parameters by element type' });
    parts.push(h('section', { class: 'dtypes', 'aria-label': 'Parameters by element type' }, h('h2', {}, 'Parameters by element type'), h('div', { class: 'chart-box' }, canvas)));
    queueMicrotask(() => renderDtypeChart(canvas, s.dtypes));
  }
  findingsSlot = h('div', { class: 'findings-slot' });
  parts.push(serving.element);
  layersSlot = h('div', { class: 'layers-slot' });
  parts.push(findingsSlot, layersSlot);
  if (s.tensors.length) parts.push(tensorTable(s.tensors));
  app.replaceChildren(...parts);
  applyFindings(recommendations);
}

let toolbar: HTMLElement | undefined;
let actionNotes: HTMLElement | undefined;

const BUTTONS: readonly (readonly [ModelAction, string])[] = [
  ['profile', 'Profile'],
  ['calibrate', 'Calibrate…'],
  ['quantize', 'Quantize…'],
  ['prune', 'Prune…'],
  ['benchmark', 'Benchmark…'],
  ['exportOnnx', 'Export to ONNX…'],
  ['quantizeGguf', 'Quantize to GGUF…'],
  ['showText', 'Show as Text'],
];

/** Shows the buttons of the actions that apply, and one line per reason for those that do not. */
function renderActions(actions: ModelActions, notes: readonly string[]): void {
  toolbar?.replaceChildren(
    ...BUTTONS.filter(([a]) => actions[a].offered).map(([command, label], i) => button(label, () => api.postMessage({ type: 'command', command }), i > 0)),
  );
  actionNotes?.replaceChildren(...notes.map((n) => h('p', { class: 'hint action-note' }, n)));
}

window.addEventListener('message', (event: MessageEvent<EditorHostMessage>) => {
  const m = event.data;
  switch (m.type) {
    case 'loading':
      renderLoading(m.fileName);
      break;
    case 'summary':
      renderSummary(m.summary);
      break;
    case 'actions':
      renderActions(m.actions, m.notes);
      break;
    case 'error':
      renderError(m);
      break;
    case 'profile':
      applyProfile(m.profile, m.fromCache);
      break;
    case 'modelProfile':
      applyModelProfile(m.profile, m.fromCache);
      break;
    case 'reveal':
      reveal(m.tensor);
      break;
    case 'findings':
      applyFindings(m.recommendations);
      break;
    case 'serving':
      serving.show(m.plan);
      break;
    case 'servingUnavailable':
      serving.unavailable(m.reason);
      break;
  }
});

api.postMessage({ type: 'ready' });
