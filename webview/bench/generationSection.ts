/**
 * The generation part of the benchmark page: time to first token, decode tokens/s, the KV cache
 * and the weight bytes a step reads per model, the per-phase comparisons, and a chart of the
 * per-token decode latency over the generated positions.
 */
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { BenchReport, GenerationReport } from '../../src/protocol/benchTypes';
import { formatBytes, h, themeColor } from '../shared/vscodeApi';

Chart.register(LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

const name = (p: string): string => p.split(/[\\/]/).pop() ?? p;

/** The section and a function that draws its chart once the section is in the document; the chart is returned for disposal. */
export function generationSection(r: BenchReport, g: GenerationReport, colors: readonly string[]): { section: HTMLElement; draw: () => Chart } {
  const rows = g.models.map((x, i) => {
    const m = r.models[i];
    return h(
      'tr',
      {},
      h('td', {}, name(x.path)),
      h('td', { class: 'num' }, x.prefillMs.p50.toFixed(2)),
      h('td', { class: 'num' }, m.latencyMs.p50.toFixed(2)),
      h('td', { class: 'num' }, m.latencyMs.p90.toFixed(2)),
      h('td', { class: 'num' }, x.decodeTokensPerSec.toFixed(1)),
      h('td', { class: 'num' }, formatBytes(x.kvCacheBytes)),
      h('td', { class: 'num' }, formatBytes(x.weightBytesPerToken)),
      h('td', { class: 'num' }, formatBytes(m.peakRssBytes)),
    );
  });
  const table = h(
    'table',
    { class: 'errors bench' },
    h('thead', {}, h('tr', {}, ...['model', 'TTFT ms', 'decode ms/token', 'p90', 'tokens/s', 'KV cache', 'weights/token', 'peak RSS'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows),
  );
  const span = (s: readonly [number, number]): string => `${s[0].toFixed(2)}–${s[1].toFixed(2)}×`;
  const comparisons = g.comparisons.map((c) => h('li', {}, `${name(c.b)} vs ${name(c.a)}: prefill ${c.prefillRatio.toFixed(2)}× (p10–p90 ${span(c.prefillSpread)}), decode ${c.decodeRatio.toFixed(2)}× (${span(c.decodeSpread)}); greedy tokens ${c.tokensAgree ? 'agree' : `diverge at token ${c.firstDivergence ?? '?'}`}`));
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Decode latency per token' });
  const section = h(
    'section',
    { 'aria-label': 'Generation' },
    h('h2', {}, `Generation: prompt ${g.promptTokens} tokens (${g.promptFrom}), ${g.newTokens} new tokens`),
    table,
    ...(comparisons.length ? [h('ul', {}, ...comparisons)] : []),
    h('h3', {}, 'Decode latency per token (median over rounds)'),
    h('div', { class: 'chart-box tall' }, canvas),
  );
  const draw = (): Chart => {
    const fg = themeColor('--vscode-foreground', '#ccc');
    const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
    return new Chart(canvas, {
      type: 'line',
      data: {
        labels: Array.from({ length: g.newTokens }, (_, i) => String(g.promptTokens + i + 1)),
        datasets: g.models.map((x, i) => ({ label: name(x.path), data: [...x.tokenMs], borderColor: colors[i % colors.length], backgroundColor: colors[i % colors.length], pointRadius: 0 })),
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        scales: {
          x: { ticks: { color: fg }, grid: { display: false }, title: { display: true, text: 'cache positions after the step', color: fg } },
          y: { ticks: { color: fg }, grid: { color: grid }, title: { display: true, text: 'ms per token', color: fg }, beginAtZero: true },
        },
        plugins: { legend: { labels: { color: fg } } },
      },
    });
  };
  return { section, draw };
}
