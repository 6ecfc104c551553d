import { BarController, BarElement, CategoryScale, Chart, LinearScale, LogarithmicScale, Tooltip } from 'chart.js';
import type { TensorProfile } from '../../src/protocol/workerProtocol';
import { formatNumber, fullNumber } from '../shared/formatNumber';
import { formatCount, h, themeColor } from '../shared/vscodeApi';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, Tooltip);

/** Formats a statistic with `digits` significant digits; `null` (undefined for this tensor) shows as a dash. */
export function stat(v: number | null | undefined, digits = 5): string {
  return formatNumber(v, { width: digits + 6, digits });
}

/** Formats a fraction as a percentage that fits a narrow column (`12.3%`, `4.2e-3%`). */
export function percent(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : `${formatNumber(v * 100, { width: 5, digits: 3 })}%`;
}

/** Max-pools a long series to at most `n` points, so a chart of 16k channels still shows every peak. */
function pool(values: readonly number[], n: number): { labels: string[]; data: number[] } {
  if (values.length <= n) return { labels: values.map((_, i) => String(i)), data: [...values] };
  const labels: string[] = [];
  const data: number[] = [];
  for (let b = 0; b < n; b++) {
    const lo = Math.floor((b * values.length) / n);
    const hi = Math.floor(((b + 1) * values.length) / n);
    let m = -Infinity;
    for (let i = lo; i < hi; i++) m = Math.max(m, values[i]);
    labels.push(`${lo}–${hi - 1}`);
    data.push(m);
  }
  return { labels, data };
}

function barChart(canvas: HTMLCanvasElement, labels: string[], data: number[], yTitle: string, logY: boolean): Chart {
  const fg = themeColor('--vscode-foreground', '#ccc');
  const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  return new Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: [{ label: yTitle, data, backgroundColor: themeColor('--vscode-charts-blue', '#3794ff'), barPercentage: 1, categoryPercentage: 1 }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { ticks: { color: fg, maxTicksLimit: 8, maxRotation: 0 }, grid: { display: false } },
        y: { type: logY ? 'logarithmic' : 'linear', ticks: { color: fg }, grid: { color: grid }, title: { display: true, text: yTitle, color: fg } },
      },
      plugins: { tooltip: { callbacks: { label: (ctx) => `${yTitle}: ${stat(Number(ctx.raw))}` } } },
    },
  });
}

/**
 * The detail pane of one tensor: its statistics, its histogram (linear or log-|x|, and a log count
 * axis), the absmax of every input and output channel, and the error of each quantization scheme.
 */
export class TensorDetail {
  readonly element = h('section', { class: 'detail', 'aria-label': 'Tensor detail', tabindex: '-1' });

  /** The callbacks get a layer name when the user asks to quantize or prune the shown weight's layer. */
  constructor(private readonly onTransform?: (command: 'quantize' | 'prune', layer: string) => void) {}
  private charts: Chart[] = [];
  private histogram: Chart | undefined;

  /** Shows `t`, or a hint when there are no statistics (yet) for the tensor called `name`. */
  show(t: TensorProfile | undefined, name?: string): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    this.histogram?.destroy();
    this.histogram = undefined;
    if (!t) {
      this.element.replaceChildren(h('p', { class: 'hint' }, name ? `No statistics for ${name}: run Profile first.` : 'Select a tensor to see its detail.'));
      return;
    }
    const layer = t.layer;
    const actions: HTMLElement[] = [];
    if (layer && this.onTransform) {
      for (const [command, label] of [['quantize', 'Quantize this layer…'], ['prune', 'Prune this layer…']] as const) {
        const b = h('vscode-button', { secondary: '' }, label);
        b.addEventListener('click', () => this.onTransform?.(command, layer));
        actions.push(b);
      }
    }
    const head = h('div', { class: 'detail-head' }, h('h2', {}, `${t.name} `, h('span', { class: 'muted' }, `${t.dtype} [${t.shape.join(', ')}]${layer ? ` · layer ${layer}` : ''}`)), ...actions);
    if (!t.stats) {
      this.element.replaceChildren(head, h('p', { class: 'warning' }, t.error ?? 'No statistics for this tensor.'));
      return;
    }
    const s = t.stats;
    const facts = h('dl', { class: 'facts compact' });
    // The tooltip of each figure gives the full values behind the rounded ones.
    const add = (k: string, v: string, ...full: (number | null | undefined)[]): void => void facts.append(h('dt', {}, k), h('dd', full.length ? { title: full.map(fullNumber).join(' / ') } : {}, v));
    add('Elements', formatCount(s.count));
    add('Min / max', `${stat(s.min)} / ${stat(s.max)}`, s.min, s.max);
    add('Absmax', stat(s.absmax), s.absmax);
    add('Mean ± std', `${stat(s.mean)} ± ${stat(s.std)}`, s.mean, s.std);
    add('Kurtosis', stat(s.kurtosis, 4), s.kurtosis);
    add('Beyond 3σ / 6σ', `${percent(s.outlierFraction3Sigma)} / ${percent(s.outlierFraction6Sigma)}`, s.outlierFraction3Sigma, s.outlierFraction6Sigma);
    add('Zeros / NaN / Inf', `${percent(s.zeroFraction)} / ${percent(s.nanFraction)} / ${percent(s.infFraction)}`, s.zeroFraction, s.nanFraction, s.infFraction);
    const parts: (HTMLElement | undefined)[] = [head, t.dequantized ? h('p', { class: 'hint' }, 'Statistics are over the dequantized values of this GGUF block type.') : undefined, facts];

    // Histogram, with a toggle between linear values and log10|x|.
    const histCanvas = h('canvas', { role: 'img', 'aria-label': 'Histogram' });
    let logX = false;
    const drawHist = (): void => {
      const hist = logX ? s.logHistogram : s.histogram;
      this.histogram?.destroy();
      this.histogram = undefined;
      if (!hist) return;
      const labels = hist.counts.map((_, i) => stat((hist.edges[i] + hist.edges[i + 1]) / 2, 3));
      // Empty bins are gaps: a log axis cannot show zero.
      this.histogram = barChart(histCanvas, labels, hist.counts.map((c) => c || NaN), logX ? 'count (by log10|x|)' : 'count', true);
    };
    const toggle = h('vscode-button', { secondary: '' }, 'Show log10|x|');
    toggle.addEventListener('click', () => {
      logX = !logX;
      toggle.textContent = logX ? 'Show values' : 'Show log10|x|';
      drawHist();
    });
    parts.push(h('div', { class: 'detail-head' }, h('h3', {}, 'Histogram (256 bins, log count)'), toggle), h('div', { class: 'chart-box tall' }, histCanvas));
    queueMicrotask(drawHist);

    if (s.channels) {
      for (const [axis, summary] of [['input', s.channels.input], ['output', s.channels.output]] as const) {
        if (!summary.absmax) continue;
        const canvas = h('canvas', { role: 'img', 'aria-label': `Absmax per ${axis} channel` });
        const ratio = summary.maxOverMedian === null ? '–' : `${summary.maxOverMedian.toFixed(1)}×`;
        const top = summary.top.slice(0, 5).map((c) => `#${c.index} (${stat(c.absmax, 3)})`).join(', ');
        parts.push(
          h('h3', {}, `Absmax per ${axis} channel (${summary.count})`),
          h('p', { class: 'hint' }, `max ${stat(summary.max)}, median ${stat(summary.median)}, max/median ${ratio}; largest: ${top}`),
          h('div', { class: 'chart-box' }, canvas),
        );
        const { labels, data } = pool(summary.absmax, 512);
        queueMicrotask(() => this.charts.push(barChart(canvas, labels, data, 'absmax', false)));
      }
    }

    const rows = s.quantization.map((q) =>
      h('tr', {}, h('td', {}, q.scheme + (q.groupSize ? ` (g${q.groupSize})` : '')), h('td', { class: 'num' }, q.sqnrDb === null ? (q.lossless ? 'lossless' : '–') : `${q.sqnrDb.toFixed(1)} dB`), h('td', { class: 'num', title: fullNumber(q.relativeError) }, stat(q.relativeError))),
    );
    parts.push(
      h('h3', {}, 'Quantization error per scheme'),
      h('table', { class: 'errors' }, h('thead', {}, h('tr', {}, h('th', {}, 'Scheme'), h('th', {}, 'SQNR'), h('th', {}, 'Relative error'))), h('tbody', {}, ...rows)),
    );
    this.element.replaceChildren(...parts.filter((p): p is HTMLElement => p !== undefined));
  }
}
