/**
 * The checkpoint editor's Serving section: what serving the model takes in memory. Its settings
 * (budget, weight and KV precision, context, paged block size) go to the host, which plans in the
 * worker and sends the plan back; this module only draws it: a chart of memory against context
 * length, and the tables of figures the chart is drawn from.
 */
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { parseByteSize } from '../../src/protocol/parseByteSize';
import { KV_PRECISIONS, WEIGHT_PRECISIONS, type MemoryPlan, type MemorySettings } from '../../src/protocol/servingTypes';
import { formatBytes, formatCount, h, themeColor } from '../shared/vscodeApi';

Chart.register(LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

const GIB = 2 ** 30;
/** Theme colours for the precision pairs, in order. */
const PAIR_COLOURS = ['--vscode-charts-blue', '--vscode-charts-green', '--vscode-charts-orange', '--vscode-charts-purple'];
const BATCH_DASH = [[], [6, 3], [2, 3]];

function select(label: string, values: readonly string[], value: string, onChange: (v: string) => void): HTMLElement {
  const id = `serving-${label.toLowerCase().replace(/\W+/g, '-')}`;
  const el = h('select', { id, class: 'serving-input' }, ...values.map((v) => h('option', v === value ? { value: v, selected: '' } : { value: v }, v)));
  el.addEventListener('change', () => onChange(el.value));
  return h('div', { class: 'serving-field' }, h('label', { for: id }, label), el);
}

function input(label: string, value: string, hint: string, onChange: (v: string, field: HTMLInputElement) => void): HTMLElement {
  const id = `serving-${label.toLowerCase().replace(/\W+/g, '-')}`;
  const el = h('input', { id, class: 'serving-input', value, 'aria-describedby': `${id}-hint` });
  el.addEventListener('change', () => onChange(el.value, el));
  return h('div', { class: 'serving-field' }, h('label', { for: id }, label), el, h('span', { id: `${id}-hint`, class: 'hint' }, hint));
}

function table(caption: string, head: readonly string[], rows: readonly (readonly string[])[]): HTMLElement {
  return h(
    'table',
    { class: 'serving-table' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, r[0]), ...r.slice(1).map((c) => h('td', {}, c))))),
  );
}

/** The Serving section; `request` asks the host for a plan under new settings. */
export class ServingSection {
  readonly element = h('section', { class: 'serving', 'aria-label': 'Serving memory', hidden: '' });
  private settings: Partial<MemorySettings> = {};
  private chart: Chart | undefined;
  private readonly status = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });

  constructor(private readonly request: (settings: Partial<MemorySettings>) => void) {}

  /** Hides the section: the model has no decoder to plan. `reason` stays available to assistive technology as a description. */
  unavailable(reason: string): void {
    this.element.hidden = true;
    this.element.setAttribute('data-reason', reason);
  }

  /** Draws a plan; the controls keep what the user typed. */
  show(plan: MemoryPlan): void {
    this.settings = plan.settings;
    this.element.hidden = false;
    this.chart?.destroy();
    const canvas = h('canvas', { role: 'img', 'aria-label': `Memory against context length for batch 1, 8 and 32 at several weight and KV precisions, against the ${formatBytes(plan.settings.budgetBytes)} budget; the tables below give the figures` });
    this.element.replaceChildren(
      h('h2', {}, 'Serving'),
      this.controls(plan),
      this.status,
      h('div', { class: 'chart-box tall serving-chart' }, canvas),
      ...this.tables(plan),
    );
    this.status.textContent = plan.warnings.join(' ');
    queueMicrotask(() => {
      this.chart = this.draw(canvas, plan);
    });
  }

  private change(patch: Partial<MemorySettings>): void {
    this.settings = { ...this.settings, ...patch };
    this.status.textContent = 'Planning…';
    this.request(this.settings);
  }

  private controls(plan: MemoryPlan): HTMLElement {
    const s = plan.settings;
    const positive = (label: string, key: 'contextLength' | 'blockSize', hint: string): HTMLElement => input(label, String(s[key]), hint, (v, field) => {
      const n = Number(v);
      const ok = Number.isInteger(n) && n > 0;
      field.setAttribute('aria-invalid', String(!ok));
      if (ok) this.change({ [key]: n });
      else this.status.textContent = `${label} must be a positive whole number.`;
    });
    return h(
      'div',
      { class: 'serving-controls', role: 'group', 'aria-label': 'Serving settings' },
      input('Budget', `${+(s.budgetBytes / GIB).toFixed(2)}GiB`, 'e.g. 24GiB, 80GB', (v, field) => {
        try {
          const budgetBytes = parseByteSize(v);
          field.setAttribute('aria-invalid', 'false');
          this.change({ budgetBytes });
        } catch (e) {
          field.setAttribute('aria-invalid', 'true');
          this.status.textContent = `The budget must ${e instanceof Error ? e.message : String(e)}.`;
        }
      }),
      select('Weights', WEIGHT_PRECISIONS, s.weights, (v) => this.change({ weights: WEIGHT_PRECISIONS.find((p) => p === v) })),
      select('KV cache', KV_PRECISIONS, s.kv, (v) => this.change({ kv: KV_PRECISIONS.find((p) => p === v) })),
      positive('Context', 'contextLength', 'tokens per sequence'),
      positive('Block size', 'blockSize', 'tokens per KV block (1: exact)'),
    );
  }

  private tables(plan: MemoryPlan): HTMLElement[] {
    const a = plan.architecture;
    const facts = h('dl', { class: 'facts compact' });
    const fact = (k: string, v: string): void => void facts.append(h('dt', {}, k), h('dd', {}, v));
    fact('Layers', String(a.numLayers));
    fact('Hidden', String(a.hiddenSize));
    fact('Heads / KV heads', `${a.numHeads} / ${a.numKvHeads}${a.latentAttention ? ' (latent)' : a.numKvHeads === a.numHeads ? ' (MHA)' : a.numKvHeads === 1 ? ' (MQA)' : ' (GQA)'}`);
    fact('Head dim', String(a.headDim));
    fact('Vocabulary', String(a.vocabSize));
    fact('Context', a.contextLength === undefined ? 'unknown' : String(a.contextLength));
    if (a.slidingWindow !== undefined) fact('Sliding window', `${a.slidingWindow} tokens on ${a.slidingLayers} of ${a.numLayers} layers`);
    if (a.moe) fact('Experts', `${a.moe.experts}, ${a.moe.expertsPerToken} per token, ${a.moe.sharedExperts} shared`);
    fact('Parameters', plan.parameters.active === plan.parameters.total ? formatCount(plan.parameters.total) : `${formatCount(plan.parameters.total)} (${formatCount(plan.parameters.active)} active)`);
    const origins = Object.entries(a.fields).map(([k, f]) => [k, f.origin, f.from]);
    const s = plan.settings;
    return [
      facts,
      h('details', { class: 'serving-origins' }, h('summary', {}, `Where the ${origins.length} fields came from (${a.file})`), table('Architecture fields', ['Field', 'Origin', 'From'], origins)),
      table('Weights', ['Precision', 'Size', 'Bits per weight', 'Of which scales'], plan.weights.map((w) => [w.precision, formatBytes(w.bytes), w.bitsPerWeight.toFixed(2), w.scaleBytes ? formatBytes(w.scaleBytes) : '—'])),
      table(`KV cache (sequence of ${s.contextLength} tokens)`, ['Element', 'Per token', 'Per sequence'], plan.kv.map((k) => [k.precision, formatBytes(k.bytesPerToken), formatBytes(k.bytesPerSequence)])),
      h('p', {}, `Activations of a ${plan.activations.prefillTokens}-token prefill: ${formatBytes(plan.activations.flashBytes)} with fused attention, ${formatBytes(plan.activations.eagerBytes)} eager.`),
      table(`What fits ${formatBytes(s.budgetBytes)} with ${s.weights} weights and a ${s.kv} cache in ${s.blockSize}-token blocks`, ['Context', 'KV per sequence', 'Block waste', 'Max batch'], plan.fits.map((f) => [String(f.contextLength), formatBytes(f.kvBytesPerSequence), formatBytes(f.pagingWasteBytes), String(f.maxBatch)])),
      h('p', {}, plan.maxContextAtBatch1 > 0 ? `One sequence fits up to ${plan.maxContextAtBatch1} tokens.` : 'Not even one sequence fits the budget.'),
    ];
  }

  private draw(canvas: HTMLCanvasElement, plan: MemoryPlan): Chart {
    const fg = themeColor('--vscode-foreground', '#ccc');
    const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
    const pairs = [...new Set(plan.curves.map((c) => `${c.weights}/${c.kv}`))];
    const batches = [...new Set(plan.curves.map((c) => c.batch))];
    const datasets = plan.curves.map((c) => {
      const colour = themeColor(PAIR_COLOURS[pairs.indexOf(`${c.weights}/${c.kv}`) % PAIR_COLOURS.length], '#3794ff');
      return { label: `${c.weights} + ${c.kv} KV, batch ${c.batch}`, data: c.bytes.map((b) => b / GIB), borderColor: colour, backgroundColor: colour, borderDash: BATCH_DASH[batches.indexOf(c.batch) % BATCH_DASH.length], pointRadius: 2 };
    });
    const budget = themeColor('--vscode-charts-red', '#f14c4c');
    datasets.push({ label: 'budget', data: plan.curveContexts.map(() => plan.settings.budgetBytes / GIB), borderColor: budget, backgroundColor: budget, borderDash: [1, 0], pointRadius: 0 });
    return new Chart(canvas, {
      type: 'line',
      data: { labels: plan.curveContexts.map(String), datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { title: { display: true, text: 'context length (tokens)', color: fg }, ticks: { color: fg }, grid: { color: grid } },
          y: { title: { display: true, text: 'GiB', color: fg }, ticks: { color: fg }, grid: { color: grid } },
        },
        plugins: { legend: { labels: { color: fg, boxWidth: 12 } }, tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label ?? ''}: ${Number(ctx.raw).toFixed(2)} GiB` } } },
      },
    });
  }
}
