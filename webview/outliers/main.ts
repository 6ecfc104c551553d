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

/** Maps t in [0,1] from the theme's background towards its warning colour. */
function colorFor(t: number): string {
  const hot = themeColor('--vscode-charts-red', '#f14c4c');
  const cold = themeColor('--vscode-charts-blue', '#3794ff');
  const a = Math.max(0.08, Math.min(1, t));
  return t > 0.5 ? withAlpha(hot, a) : withAlpha(cold, 1 - a + 0.08);
}

function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha.toFixed(3)})`;
}

function renderEmpty(reason: string): void {
  chart?.destroy();
  chart = undefined;
  app.replaceChildren(h('p', { class: 'empty', role: 'status' }, reason));
}

function renderHeatmap(m: Extract<OutliersHostMessage, { type: 'heatmap' }>): void {
  chart?.destroy();
  const canvas = h('canvas', { role: 'img', 'aria-label': `Channel absmax heatmap of ${m.model}` });
  app.replaceChildren(h('div', { class: 'heatmap-title' }, `${m.model}: ${m.source === 'weights' ? 'weight input-channel absmax' : 'activation absmax'} (log10)`), h('div', { class: 'heatmap-box' }, canvas));
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
        tooltip: { callbacks: { label: (ctx) => { const c = ctx.raw as Cell; return `${m.layers[c.y]} · channel group ${c.x}: ${Math.pow(10, c.v).toPrecision(4)}`; } } },
      },
      onClick: (_e: ChartEvent, elements: ActiveElement[]) => {
        const first = elements[0];
        if (!first) return;
        const c = cells[first.index];
        api.postMessage({ type: 'reveal', layer: m.layers[c.y] });
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
