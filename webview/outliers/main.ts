/**
 * The "Outliers" panel: a heatmap of layers × channels on a log-magnitude colour scale, switchable
 * between weight and activation absmax. Until a profile exists it explains how to get one.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { Chart, LinearScale, Tooltip, type ActiveElement, type ChartEvent } from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';
import type { OutliersHostMessage, OutliersWebviewMessage, Recommendation } from '../../src/protocol/webviewProtocol';
import { shortName } from '../../src/protocol/shortName';
import type { HeatmapData } from '../../src/protocol/workerProtocol';
import { formatNumber, fullNumber } from '../shared/formatNumber';
import { recommendationsSection } from '../shared/recommendations';
import { h, themeColor, vscodeApi } from '../shared/vscodeApi';

Chart.register(MatrixController, MatrixElement, LinearScale, Tooltip);

type Source = 'weights' | 'activations' | 'experts';

const SOURCE_LABELS: Readonly<Record<Source, string>> = { weights: 'Weights', activations: 'Activations', experts: 'Experts' };

const api = vscodeApi<OutliersWebviewMessage>();
const app = document.getElementById('app') as HTMLElement;
let chart: Chart<'matrix'> | undefined;
let last: Extract<OutliersHostMessage, { type: 'heatmap' }> | undefined;
let shown: Source = 'weights';
let recs: readonly Recommendation[] = [];

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

/**
 * The colour legend: the gradient of {@link colorFor} from the smallest to the largest absmax on
 * the map, labelled at both ends and at each power of ten between them (the scale is log10).
 */
function legend(lo: number, hi: number): HTMLElement {
  const stops = Array.from({ length: 11 }, (_, i) => `${colorFor(i / 10)} ${i * 10}%`).join(', ');
  const bar = h('div', { class: 'legend-bar', style: `background: linear-gradient(to right, ${stops})` });
  const ticks = h('div', { class: 'legend-ticks' });
  const span = hi - lo;
  if (span > 0) {
    const first = Math.ceil(lo);
    const last = Math.floor(hi);
    // At most about eight decade marks; wider ranges mark every second or third decade.
    const step = Math.max(1, Math.ceil((last - first + 1) / 8));
    for (let d = first; d <= last; d += step) {
      const at = (d - lo) / span;
      // Marks too close to the end labels would overlap them.
      if (at < 0.12 || at > 0.88) continue;
      ticks.append(h('span', { class: 'legend-tick', style: `left: ${(at * 100).toFixed(2)}%` }, formatNumber(10 ** d, { width: 6, digits: 1 })));
    }
  }
  const min = 10 ** lo;
  const max = 10 ** hi;
  return h(
    'div',
    { class: 'heatmap-legend', role: 'img', 'aria-label': `Colour scale, logarithmic: blue is the smallest absmax, ${fullNumber(min)}; red the largest, ${fullNumber(max)}.` },
    h('span', { class: 'legend-end', title: fullNumber(min) }, `min ${formatNumber(min)}`),
    h('div', { class: 'legend-scale' }, bar, ticks),
    h('span', { class: 'legend-end', title: fullNumber(max) }, `max ${formatNumber(max)}`),
  );
}

function renderEmpty(reason: string): void {
  chart?.destroy();
  chart = undefined;
  app.replaceChildren(h('p', { class: 'empty', role: 'status' }, reason));
}

function toggle(source: Source, current: Source, available: boolean): HTMLElement {
  const b = h('vscode-button', current === source ? {} : { secondary: '' }, SOURCE_LABELS[source]);
  if (!available) b.setAttribute('disabled', '');
  b.addEventListener('click', () => last && render(last, source));
  return b;
}

function render(msg: Extract<OutliersHostMessage, { type: 'heatmap' }>, source: Source): void {
  last = msg;
  shown = source;
  const m: HeatmapData | undefined = msg[source];
  chart?.destroy();
  chart = undefined;
  const byExpert = source === 'experts';
  const what = source === 'weights' ? 'weight absmax per input channel' : byExpert ? 'weight absmax per routed expert' : 'activation absmax per input channel (calibration)';
  const bar = h('div', { class: 'heatmap-bar', role: 'toolbar', 'aria-label': 'Heatmap source' }, toggle('weights', source, !!msg.weights), toggle('activations', source, !!msg.activations), ...(msg.experts ? [toggle('experts', source, true)] : []));
  if (!m || !m.layers.length) {
    const reason = source === 'activations' ? 'Run "Quantscope: Calibrate Model…" to see activation outliers.' : `${msg.model} has no 2-D weights to show.`;
    app.replaceChildren(bar, h('p', { class: 'empty', role: 'status' }, reason));
    return;
  }
  const pooled = !byExpert && m.maxChannels > m.columns ? `, ${m.maxChannels} channels max-pooled to ${m.columns}` : '';
  // Focusable: arrows choose a layer row, Enter reveals it, as a click on a cell does.
  const canvas = h('canvas', { role: 'img', tabindex: '0', 'aria-label': `${what} of ${msg.model}. Use the up and down arrows to choose a layer and Enter to reveal it.` });
  const status = h('div', { class: 'heatmap-status hint', 'aria-live': 'polite' });
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
  // A row whose layers have a finding gets a badge (●) before its label.
  const flaggedLayers = new Set(recs.map((r) => r.finding.layer));
  const flagged = (y: number): boolean => (m.members[y] ?? [m.layers[y]]).some((l) => flaggedLayers.has(l));
  app.replaceChildren(
    bar,
    h('div', { class: 'heatmap-title' }, `${msg.model}: ${what} (log10${pooled}). Click a cell to reveal its layer.${flaggedLayers.size ? ' ● marks layers with a recommendation.' : ''}`),
    legend(lo, hi),
    h('div', { class: 'heatmap-box' }, canvas),
    status,
    recommendationsSection(recs, { apply: (layer, fix) => api.postMessage({ type: 'applyFix', layer, fix }), reveal: (layer) => api.postMessage({ type: 'revealLayer', layer }) }),
  );
  const fg = themeColor('--vscode-foreground', '#ccc');
  const focus = themeColor('--vscode-focusBorder', '#007fd4');
  let row = -1;
  chart = new Chart<'matrix', Cell[]>(canvas, {
    type: 'matrix',
    data: {
      datasets: [
        {
          label: 'log10 absmax',
          data: cells,
          backgroundColor: (ctx) => colorFor((((ctx.raw as Cell | undefined)?.v ?? lo) - lo) / span),
          // The row chosen from the keyboard is outlined in the theme's focus colour.
          borderColor: (ctx) => ((ctx.raw as Cell | undefined)?.y === row ? focus : 'transparent'),
          borderWidth: (ctx) => ((ctx.raw as Cell | undefined)?.y === row ? 1 : 0),
          width: ({ chart: c }) => (c.chartArea?.width ?? 0) / m.columns,
          height: ({ chart: c }) => (c.chartArea?.height ?? 0) / Math.max(1, m.layers.length),
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { type: 'linear', min: -0.5, max: m.columns - 0.5, offset: false, ticks: { color: fg }, title: { display: true, text: byExpert ? 'expert' : 'channel (max-pooled)', color: fg } },
        y: {
          type: 'linear',
          min: -0.5,
          max: m.layers.length - 0.5,
          reverse: true,
          offset: false,
          // One tick per layer row at its centre (the axis's own ticks fall on the row edges, ±0.5).
          afterBuildTicks: (axis) => {
            axis.ticks = m.layers.map((_, i) => ({ value: i }));
          },
          ticks: { color: fg, autoSkip: true, callback: (v) => (m.layers[Number(v)] === undefined ? '' : `${flagged(Number(v)) ? '● ' : ''}${shortName(m.layers[Number(v)], 28)}`) },
        },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const c = ctx.raw as Cell;
              const where = byExpert ? `expert ${c.x}` : `channel bin ${c.x + 1}/${m.columns}`;
              return `${m.layers[c.y]} · ${where}: absmax ${Math.pow(10, c.v).toPrecision(4)}`;
            },
          },
        },
      },
      onClick: (_e: ChartEvent, elements: ActiveElement[]) => {
        const first = elements[0];
        if (first) api.postMessage({ type: 'reveal', source, row: cells[first.index].y });
      },
    },
  });
  const rows = m.layers.length;
  const rowMax = (y: number): number => {
    let best = -Infinity;
    for (let x = 0; x < m.columns; x++) {
      const v = m.values[y * m.columns + x];
      if (Number.isFinite(v)) best = Math.max(best, v);
    }
    return best;
  };
  canvas.addEventListener('keydown', (e: KeyboardEvent) => {
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10, Home: -Infinity, End: Infinity };
    if (e.key in moves) {
      e.preventDefault();
      row = Math.max(0, Math.min(rows - 1, (row < 0 ? -1 : row) + moves[e.key]));
      chart?.update('none');
      const top = rowMax(row);
      status.textContent = `Layer ${row + 1} of ${rows}: ${m.layers[row]}, largest absmax ${Number.isFinite(top) ? formatNumber(10 ** top) : '–'}. Enter reveals it.`;
    } else if ((e.key === 'Enter' || e.key === ' ') && row >= 0) {
      e.preventDefault();
      api.postMessage({ type: 'reveal', source, row });
    }
  });
}

window.addEventListener('message', (event: MessageEvent<OutliersHostMessage>) => {
  const m = event.data;
  if (m.type === 'empty') renderEmpty(m.reason);
  else if (m.type === 'findings') {
    recs = m.recommendations;
    if (last) render(last, shown);
  } else render(m, m.show);
});

api.postMessage({ type: 'ready' });
