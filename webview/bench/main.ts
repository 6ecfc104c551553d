/**
 * The benchmark page: latency percentiles and distribution per model, time per operator type,
 * memory and size, the CPU's features, and the plain-language verdicts.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import type { BenchHostMessage, BenchWebviewMessage } from '../../src/protocol/webviewProtocol';
import type { BenchReport, ModelBench } from '../../src/protocol/benchTypes';
import { formatBytes, h, themeColor, vscodeApi } from '../shared/vscodeApi';
import { generationSection } from './generationSection';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const api = vscodeApi<BenchWebviewMessage>();
const app = document.getElementById('app') as HTMLElement;
const charts: Chart[] = [];

const name = (p: string): string => p.split(/[\\/]/).pop() ?? p;
const palette = (): string[] => ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'].map((v, i) => themeColor(v, ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'][i]));

function axes(yTitle: string): Record<string, unknown> {
  const fg = themeColor('--vscode-foreground', '#ccc');
  const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  return { x: { ticks: { color: fg }, grid: { display: false } }, y: { ticks: { color: fg }, grid: { color: grid }, title: { display: true, text: yTitle, color: fg } } };
}

function chart(canvas: HTMLCanvasElement, labels: string[], datasets: { label: string; data: number[] }[], yTitle: string, stacked = false): void {
  const colors = palette();
  const fg = themeColor('--vscode-foreground', '#ccc');
  const scales = axes(yTitle) as { x: Record<string, unknown>; y: Record<string, unknown> };
  charts.push(
    new Chart(canvas, {
      type: 'bar',
      data: { labels, datasets: datasets.map((d, i) => ({ ...d, backgroundColor: colors[i % colors.length] })) },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { x: { ...scales.x, stacked }, y: { ...scales.y, stacked } }, plugins: { legend: { labels: { color: fg } } } },
    }),
  );
}

/** Latency samples of each model as a histogram over shared bins. */
function distribution(models: readonly ModelBench[]): { labels: string[]; datasets: { label: string; data: number[] }[] } {
  const all = models.flatMap((m) => m.samples);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const bins = 24;
  const width = (hi - lo) / bins || 1;
  const labels = Array.from({ length: bins }, (_, i) => (lo + (i + 0.5) * width).toFixed(2));
  const datasets = models.map((m) => {
    const counts = new Array<number>(bins).fill(0);
    for (const s of m.samples) counts[Math.min(bins - 1, Math.floor((s - lo) / width))]++;
    return { label: name(m.path), data: counts };
  });
  return { labels, datasets };
}

function render(r: BenchReport, savedAs?: string): void {
  for (const c of charts.splice(0)) c.destroy();
  const cpu = r.cpu;
  const flags = cpu.known
    ? [['AVX2', cpu.avx2], ['AVX-512', cpu.avx512f], ['AVX-512 VNNI', cpu.avx512vnni], ['AVX-VNNI', cpu.avxVnni], ['AMX-INT8', cpu.amxInt8], ['F16C', cpu.f16c], ['FMA', cpu.fma]].map(([k, v]) => h('vscode-badge', { class: v ? 'on' : 'off' }, `${String(k)} ${v ? '✓' : '✗'}`))
    : [h('span', { class: 'hint' }, 'CPU feature flags are not available on this OS.')];
  const rows = r.models.map((m) =>
    h(
      'tr',
      {},
      h('td', {}, name(m.path)),
      ...[m.latencyMs.min, m.latencyMs.p50, m.latencyMs.p90, m.latencyMs.p99, m.latencyMs.max].map((v) => h('td', { class: 'num' }, v.toFixed(3))),
      h('td', { class: 'num' }, m.throughputPerSec.toFixed(1)),
      h('td', { class: 'num' }, `${(m.cv * 100).toFixed(1)}%`),
      h('td', { class: 'num' }, m.sessionCreateMs.toFixed(0)),
      h('td', { class: 'num' }, formatBytes(m.peakRssBytes)),
      h('td', { class: 'num' }, formatBytes(m.fileSize)),
      h('td', { class: 'num' }, m.bitsPerWeight === null ? '–' : m.bitsPerWeight.toFixed(2)),
    ),
  );
  const table = h(
    'table',
    { class: 'errors bench' },
    h('thead', {}, h('tr', {}, ...['model', 'min', 'p50', 'p90', 'p99', 'max (ms)', 'runs/s', 'CV', 'session ms', 'peak RSS', 'file', 'bits/w'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows),
  );
  const comparisons = r.comparisons.map((c) => {
    const agree = c.agreement?.map((o) => `${o.name}: rel L2 ${o.relativeL2.toExponential(2)}, cosine ${o.cosine.toFixed(5)}${o.top1Agreement === null ? '' : `, top-1 ${(o.top1Agreement * 100).toFixed(1)}%`}`).join('; ');
    return h('li', {}, `${name(c.b)} vs ${name(c.a)}: ${c.ratioOfMedians.toFixed(2)}× (p10–p90 of paired runs ${c.spread[0].toFixed(2)}–${c.spread[1].toFixed(2)})${agree ? `. Outputs: ${agree}` : ''}`);
  });
  const latency = h('canvas', { role: 'img', 'aria-label': 'Latency distribution' });
  const gen = r.generation ? generationSection(r, r.generation, palette()) : undefined;
  const ops = h('canvas', { role: 'img', 'aria-label': 'Time per operator type' });
  app.replaceChildren(
    h('h1', {}, `Benchmark: ${r.models.map((m) => name(m.path)).join(' vs ')}`),
    h('p', { class: 'hint' }, `${r.settings.rounds} interleaved rounds after ${r.settings.warmup} warm-up runs, ${r.settings.threads || 'default'} threads, optimization ${r.settings.optimizationLevel}, inputs ${r.settings.inputsFrom} (${Object.entries(r.settings.inputs).map(([k, v]) => `${k} [${v.join(', ')}]`).join(', ')}), ONNX Runtime ${r.settings.runtime}.${savedAs ? ` Saved as ${savedAs}.` : ''}`),
    h('section', { class: 'verdicts', 'aria-label': 'Why' }, h('h2', {}, 'Why'), h('ul', {}, ...r.verdicts.map((v) => h('li', {}, v)))),
    h('section', { 'aria-label': 'CPU' }, h('h2', {}, `CPU: ${cpu.model} (${cpu.cores} cores)`), h('div', { class: 'flags' }, ...flags)),
    ...(gen ? [gen.section] : []),
    h('section', { 'aria-label': 'Latency' }, h('h2', {}, gen ? 'Decode step latency (per token)' : 'Latency'), table, ...(comparisons.length ? [h('ul', {}, ...comparisons)] : []), h('h3', {}, 'Distribution of run times'), h('div', { class: 'chart-box tall' }, latency)),
    h('section', { 'aria-label': 'Operators' }, h('h2', {}, `Time per operator type (profiling pass${gen ? ', decode steps' : ''})`), h('div', { class: 'chart-box tall' }, ops)),
  );
  if (gen) charts.push(gen.draw());
  const dist = distribution(r.models);
  chart(latency, dist.labels, dist.datasets, 'runs');
  const types = [...new Set(r.models.flatMap((m) => m.opTimes.slice(0, 12).map((o) => o.opType)))];
  chart(ops, r.models.map((m) => name(m.path)), types.map((t) => ({ label: t, data: r.models.map((m) => m.opTimes.find((o) => o.opType === t)?.ms ?? 0) })), 'ms per run', true);
}

window.addEventListener('message', (event: MessageEvent<BenchHostMessage>) => {
  if (event.data.type === 'report') render(event.data.report, event.data.savedAs);
});
api.postMessage({ type: 'ready' });
