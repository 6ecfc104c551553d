import { formatNumber, fullNumber, type NumberFit } from './formatNumber';
import { h } from './vscodeApi';

/** One column of a {@link VirtualTable}. */
export interface Column<Row> {
  readonly title: string;
  /** Cell text. */
  readonly text: (row: Row) => string;
  /** What the cell shows when it differs from the text (a long name shortened); filters and the tooltip keep the text. */
  readonly display?: (row: Row) => string;
  /** Sort key; numbers sort numerically. Defaults to the text. */
  readonly key?: (row: Row) => number | string;
  /** Tooltip of a cell (the full value of a number shortened to fit); defaults to the text. */
  readonly tooltip?: (row: Row) => string;
  readonly align?: 'left' | 'right';
  /** CSS grid track, e.g. `minmax(12em, 3fr)`. */
  readonly width: string;
}

const ROW_HEIGHT = 22;
const OVERSCAN = 10;

/**
 * A table that renders only the rows in view, so 10,000+ tensors scroll smoothly. Sortable by
 * clicking (or pressing Enter on) a header, filterable by a substring or /regex/, and keyboard
 * navigable: arrows move the selection, Enter activates the row.
 */
export class VirtualTable<Row> {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly body: HTMLElement;
  private readonly header: HTMLElement;
  private readonly status: HTMLElement;
  private rows: readonly Row[] = [];
  private view: Row[] = [];
  private sortColumn = -1;
  private sortDescending = false;
  private filter = '';
  private selected = -1;
  /** Called after every filter or data change with the rows shown and the rows in all. */
  onDidChangeView: ((shown: number, total: number) => void) | undefined;

  constructor(
    private readonly columns: readonly Column<Row>[],
    private readonly label: string,
    private readonly onActivate?: (row: Row) => void,
    private readonly onSelect?: (row: Row) => void,
  ) {
    const template = columns.map((c) => c.width).join(' ');
    this.header = h('div', { class: 'vt-header', role: 'row', style: `grid-template-columns:${template}` });
    columns.forEach((c, i) => {
      const cell = h('div', { class: `vt-cell vt-head ${c.align === 'right' ? 'right' : ''}`, role: 'columnheader', tabindex: '0', 'aria-sort': 'none', title: c.title }, c.title);
      cell.addEventListener('click', () => this.sortBy(i));
      cell.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          this.sortBy(i);
        }
      });
      this.header.append(cell);
    });
    this.spacer = h('div', { class: 'vt-spacer' });
    this.body = h('div', { class: 'vt-body', role: 'rowgroup' });
    this.viewport = h('div', { class: 'vt-viewport', tabindex: '0', role: 'grid', 'aria-label': label }, this.spacer, this.body);
    this.viewport.addEventListener('scroll', () => this.paint());
    this.viewport.addEventListener('keydown', (e) => this.onKey(e));
    this.status = h('div', { class: 'vt-status', 'aria-live': 'polite' });
    this.element = h('div', { class: 'vt', style: `--vt-columns:${template}` }, this.header, this.viewport, this.status);
    new ResizeObserver(() => this.paint()).observe(this.viewport);
  }

  /** Replaces the rows. */
  setRows(rows: readonly Row[]): void {
    this.rows = rows;
    this.refresh();
  }

  /** Shows only rows whose text contains `query` (case-insensitive), or matches `/regex/`. */
  setFilter(query: string): void {
    this.filter = query;
    this.refresh();
  }

  private matcher(): (s: string) => boolean {
    const q = this.filter.trim();
    if (!q) return () => true;
    const re = /^\/(.+)\/([a-z]*)$/.exec(q);
    if (re) {
      try {
        const rx = new RegExp(re[1], re[2].includes('i') ? re[2] : `${re[2]}i`);
        return (s) => rx.test(s);
      } catch {
        // An unfinished regex while typing falls back to substring search.
      }
    }
    const needle = q.toLowerCase();
    return (s) => s.toLowerCase().includes(needle);
  }

  /** Scrolls to the first row that satisfies `match` and selects it, clearing a filter that hides it. */
  reveal(match: (row: Row) => boolean): boolean {
    if (!this.view.some(match) && this.rows.some(match)) this.setFilter('');
    const i = this.view.findIndex(match);
    if (i < 0) return false;
    this.viewport.scrollTop = Math.max(0, i * ROW_HEIGHT - this.viewport.clientHeight / 3);
    this.select(i);
    this.viewport.focus();
    return true;
  }

  /** Re-renders after the data behind the columns changed (statistics arrived, say). */
  refresh(): void {
    const match = this.matcher();
    this.view = this.rows.filter((r) => this.columns.some((c) => match(c.text(r))));
    if (this.sortColumn >= 0) {
      const col = this.columns[this.sortColumn];
      const key = col.key ?? col.text;
      const dir = this.sortDescending ? -1 : 1;
      this.view.sort((a, b) => {
        const ka = key(a);
        const kb = key(b);
        return (typeof ka === 'number' && typeof kb === 'number' ? ka - kb : String(ka).localeCompare(String(kb), undefined, { numeric: true })) * dir;
      });
    }
    this.selected = Math.min(this.selected, this.view.length - 1);
    this.spacer.style.height = `${this.view.length * ROW_HEIGHT}px`;
    this.status.textContent = this.view.length === this.rows.length ? `${this.rows.length} ${this.label}` : `${this.view.length} of ${this.rows.length} ${this.label}`;
    this.paint();
    this.onDidChangeView?.(this.view.length, this.rows.length);
  }

  private sortBy(i: number): void {
    this.sortDescending = this.sortColumn === i ? !this.sortDescending : false;
    this.sortColumn = i;
    Array.from(this.header.children).forEach((c, j) => c.setAttribute('aria-sort', j === i ? (this.sortDescending ? 'descending' : 'ascending') : 'none'));
    this.refresh();
  }

  private paint(): void {
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.view.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    this.body.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const row = this.view[i];
      const el = h('div', { class: `vt-row${i === this.selected ? ' selected' : ''}`, role: 'row', 'aria-rowindex': String(i + 1), 'aria-selected': String(i === this.selected) });
      for (const c of this.columns) {
        const text = c.text(row);
        el.append(h('div', { class: `vt-cell ${c.align === 'right' ? 'right' : ''}`, role: 'gridcell', title: c.tooltip?.(row) || text }, c.display?.(row) ?? text));
      }
      el.addEventListener('click', () => this.select(i));
      el.addEventListener('dblclick', () => this.onActivate?.(row));
      frag.append(el);
    }
    this.body.replaceChildren(frag);
  }

  private select(i: number): void {
    this.selected = i;
    this.paint();
    const row = this.view[i];
    if (row !== undefined) this.onSelect?.(row);
  }

  private onKey(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if (e.key in moves) {
      e.preventDefault();
      const next = Math.max(0, Math.min(this.view.length - 1, (this.selected < 0 ? -1 : this.selected) + moves[e.key]));
      const y = next * ROW_HEIGHT;
      if (y < this.viewport.scrollTop) this.viewport.scrollTop = y;
      else if (y + ROW_HEIGHT > this.viewport.scrollTop + this.viewport.clientHeight) this.viewport.scrollTop = y + ROW_HEIGHT - this.viewport.clientHeight;
      this.select(next);
    } else if (e.key === 'Enter' && this.selected >= 0) {
      this.onActivate?.(this.view[this.selected]);
    }
  }
}

/** The layout of numbers in table cells: six characters fit the narrowest numeric column (5em, less padding). */
export const CELL_FIT: NumberFit = { width: 6, digits: 4 };

/**
 * A right-aligned numeric column: the value shortened to fit the cell, the full value in the
 * tooltip, and rows without a value sorted first.
 */
export function numberColumn<Row>(
  title: string,
  value: (row: Row) => number | null | undefined,
  width = 'minmax(5em, 1fr)',
  show: (v: number | null | undefined) => string = (v) => formatNumber(v, CELL_FIT),
): Column<Row> {
  return {
    title,
    text: (r) => show(value(r)),
    tooltip: (r) => fullNumber(value(r)),
    key: (r) => {
      const v = value(r);
      return v === null || v === undefined || Number.isNaN(v) ? -Infinity : v;
    },
    align: 'right',
    width,
  };
}
