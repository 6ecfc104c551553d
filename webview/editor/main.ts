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
import type { EditorHostMessage, EditorWebviewMessage } from '../../src/protocol/webviewProtocol';
import type { ModelSummary, TensorSummary, ValueSummary } from '../../src/protocol/workerProtocol';
import { formatBytes, formatCount, h, vscodeApi } from '../shared/vscodeApi';
import { VirtualTable } from '../shared/VirtualTable';
import { renderDtypeChart } from './dtypeChart';

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

function tensorTable(tensors: readonly TensorSummary[]): HTMLElement {
  const table = new VirtualTable<TensorSummary>(
    [
      { title: 'Name', text: (t) => t.name, width: 'minmax(14em, 4fr)' },
      { title: 'DType', text: (t) => t.dtype, width: 'minmax(5em, 1fr)' },
      { title: 'Shape', text: (t) => shape(t.shape), key: (t) => t.elements, width: 'minmax(8em, 2fr)' },
      { title: 'Elements', text: (t) => formatCount(t.elements), key: (t) => t.elements, align: 'right', width: 'minmax(6em, 1fr)' },
      { title: 'Bytes', text: (t) => formatBytes(t.byteLength), key: (t) => t.byteLength, align: 'right', width: 'minmax(6em, 1fr)' },
    ],
    'tensors',
  );
  table.setRows(tensors);
  const filter = h('vscode-textfield', { placeholder: 'Filter tensors (text or /regex/)', 'aria-label': 'Filter tensors' }) as HTMLElement & { value: string };
  filter.addEventListener('input', () => table.setFilter(filter.value));
  return h('section', { class: 'tensors', 'aria-label': 'Tensors' }, h('h2', {}, `Tensors (${tensors.length})`), filter, table.element);
}

function renderSummary(s: ModelSummary): void {
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

  const parts: HTMLElement[] = [
    h(
      'header',
      { class: 'model-header' },
      h('h1', {}, name),
      h('vscode-badge', {}, s.format.toUpperCase()),
      h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Model actions' },
        button('Profile', () => api.postMessage({ type: 'command', command: 'profile' })),
        button('Quantize…', () => api.postMessage({ type: 'command', command: 'quantize' }), true),
        button('Benchmark…', () => api.postMessage({ type: 'command', command: 'benchmark' }), true),
        button('Show as Text', () => api.postMessage({ type: 'command', command: 'showText' }), true),
      ),
    ),
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
  if (s.tensors.length) parts.push(tensorTable(s.tensors));
  app.replaceChildren(...parts);
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
    case 'error':
      renderError(m);
      break;
  }
});

api.postMessage({ type: 'ready' });
