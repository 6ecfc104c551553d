import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { DTypeShare } from '../../src/protocol/workerProtocol';
import { formatBytes, formatCount, themeColor } from '../shared/vscodeApi';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** Draws parameters per element type as horizontal bars in the theme's colours. */
export function renderDtypeChart(canvas: HTMLCanvasElement, shares: readonly DTypeShare[]): Chart {
  const fg = themeColor('--vscode-foreground', '#ccc');
  const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const bar = themeColor('--vscode-charts-blue', '#3794ff');
  const sorted = [...shares].sort((a, b) => b.elements - a.elements);
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: sorted.map((s) => s.dtype),
      datasets: [{ label: 'Parameters', data: sorted.map((s) => s.elements), backgroundColor: bar }],
    },
    options: {
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { ticks: { color: fg, callback: (v) => formatCount(Number(v)) }, grid: { color: grid } },
        y: { ticks: { color: fg }, grid: { color: grid } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const s = sorted[ctx.dataIndex];
              return `${formatCount(s.elements)} parameters in ${s.tensors} tensors, ${formatBytes(s.byteLength)}`;
            },
          },
        },
      },
    },
  });
}
