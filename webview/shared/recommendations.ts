/**
 * The "Recommendations" section both webviews show: each finding with its severity, layer,
 * evidence and a button per fix that runs. Clicking the layer reveals it.
 */
import type { FindingFix } from '../../src/protocol/findingTypes';
import type { Recommendation } from '../../src/protocol/webviewProtocol';
import { h } from './vscodeApi';

/** What the section's controls do. */
export interface RecommendationActions {
  readonly apply: (layer: string, fix: FindingFix) => void;
  readonly reveal: (layer: string, tensor: string | undefined) => void;
}

/** The codicons the Problems panel gives each severity, so both read alike in every theme. */
const ICON: Readonly<Record<string, string>> = { error: 'codicon-error', warning: 'codicon-warning', info: 'codicon-info' };

/** The section, or an empty element when there is nothing to recommend. */
export function recommendationsSection(recs: readonly Recommendation[], actions: RecommendationActions): HTMLElement {
  if (!recs.length) return h('div', { class: 'recommendations-empty' });
  const list = h('ul', { class: 'recommendations', role: 'list' });
  for (const r of recs) {
    const f = r.finding;
    const layer = h('a', { href: '#', class: 'recommendation-layer', title: f.tensor && f.tensor !== f.layer ? `${f.layer} (weight ${f.tensor})` : f.layer }, f.layer);
    layer.addEventListener('click', (e) => {
      e.preventDefault();
      actions.reveal(f.layer, f.tensor);
    });
    const buttons = h('div', { class: 'recommendation-fixes' });
    for (const [i, fix] of r.fixes.entries()) {
      if (!fix.runs) continue;
      const b = h('vscode-button', i === 0 ? {} : { secondary: '' }, fix.label);
      b.addEventListener('click', () => actions.apply(f.layer, fix.fix));
      buttons.append(b);
    }
    list.append(
      h(
        'li',
        { class: `recommendation severity-${f.severity}`, 'data-layer': f.layer },
        h('div', { class: 'recommendation-head' }, h('span', { class: `severity codicon ${ICON[f.severity] ?? 'codicon-info'}`, role: 'img', 'aria-label': f.severity }), layer, h('span', { class: 'hint' }, ` ${f.kind}`)),
        h('p', { class: 'recommendation-evidence' }, f.message),
        h('p', { class: 'recommendation-advice' }, f.advice),
        buttons,
      ),
    );
  }
  return h('details', { class: 'recommendations-section', open: '' }, h('summary', {}, h('h2', {}, `Recommendations (${recs.length})`)), list);
}
