/**
 * The "Outliers" panel: a heatmap of layers × channels on a log-magnitude colour scale. Until a
 * profile exists it explains how to get one.
 */
import { Chart, LinearScale, Tooltip, type ChartEvent, type ActiveElement } from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';
import type { OutliersHostMessage, OutliersWebviewMessage } from '../../src/protocol/webviewProtocol';
import { h, themeColor, vscodeApi } from '../shared/vscodeApi';


Chart.register(MatrixController, MatrixElement, LinearScale, Tooltip);

const api = vscodeApi<OutliersWebviewMessage>();
const app = document.getElementById('app') as HTMLElement;
let chart: Chart<'matrix'> | undefined;

interface Cell {
  readonly x: number;
  readonly y: number;
  readonly v: number;
}

/**
 * A sequential colour scale from blue (small absmax) through yellow to red (large), readable on
 * light and dark themes alike; t is the position of log10(absmax) between the map's extremes.
 */
function colorFor(t: number): string {
  const x = Math.max(0, Math.min(1, t));
  return `hsl(${(220 * (1 - x)).toFixed(0)}, 85%, ${(45 + 10 * Math.sin(Math.PI * x)).toFixed(0)}%)`;
}

function renderEmpty(reason: string): void {
  chart?.destroy();
  chart = undefined;
  app.replaceChildren(h('p', { class: 'empty', role: 'status' }, reason));
}

function renderHeatmap(msg: Extract<OutliersHostMessage, { type: 'heatmap' }>): void {
  const m = { ...msg.heatmap, model: msg.model, source: msg.source };
  if (!m.layers.length) {
    renderEmpty(`${msg.model} has no 2-D weights to show.`);
    return;
  }
  chart?.destroy();
  const canvas = h('canvas', { role: 'img', 'aria-label': `Channel absmax heatmap of ${m.model}` });
  const what = m.source === 'weights' ? 'weight absmax per input channel' : 'activation absmax per channel';
  const pooled = m.maxChannels > m.columns ? `, ${m.maxChannels} channels max-pooled to ${m.columns}` : '';
  app.replaceChildren(h('div', { class: 'heatmap-title' }, `${m.model}: ${what} (log10${pooled}). Click a cell to reveal its layer.`), h('div', { class: 'heatmap-box' }, canvas));
  const cells: Cell[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  m.values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    cells.push({ x: i % m.columns, y: Math.floor(i / m.columns), v });
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  });
  const span = hi > lo ? hi - lo : 1;
  const fg = themeColor('--vscode-foreground', '#ccc');
  chart = new Chart<'matrix', Cell[]>(canvas, {
    type: 'matrix',
    data: {
      datasets: [
        {
          label: 'log10 absmax',
          data: cells,
          backgroundColor: (ctx) => colorFor((((ctx.raw as Cell | undefined)?.v ?? lo) - lo) / span),
          width: ({ chart: c }) => (c.chartArea?.width ?? 0) / m.columns,
          height: ({ chart: c }) => (c.chartArea?.height ?? 0) / Math.max(1, m.layers.length),
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { type: 'linear', min: -0.5, max: m.columns - 0.5, offset: false, ticks: { color: fg }, title: { display: true, text: 'channel (max-pooled)', color: fg } },
        y: { type: 'linear', min: -0.5, max: m.layers.length - 0.5, reverse: true, offset: false, ticks: { color: fg, stepSize: 1, callback: (v) => m.layers[Number(v)] ?? '' } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const c = ctx.raw as Cell;
              return `${m.layers[c.y]} · channel bin ${c.x + 1}/${m.columns}: absmax ${Math.pow(10, c.v).toPrecision(4)}`;
            },
          },
        },
      },
      onClick: (_e: ChartEvent, elements: ActiveElement[]) => {
        const first = elements[0];
        if (!first) return;
        const c = cells[first.index];
        api.postMessage({ type: 'reveal', row: c.y });
      },
    },
  });
}

window.addEventListener('message', (event: MessageEvent<OutliersHostMessage>) => {
  const m = event.data;
  if (m.type === 'empty') renderEmpty(m.reason);
  else renderHeatmap(m);
});

api.postMessage({ type: 'ready' });
