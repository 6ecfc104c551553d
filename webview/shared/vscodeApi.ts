/** The messaging half of the API VS Code injects into webviews, typed by the messages we send. */
export interface VsCodeApi<Outgoing> {
  postMessage(message: Outgoing): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi<unknown>;

/** Returns the webview API, typed to the messages this webview may send. It can be acquired only once. */
export function vscodeApi<Outgoing>(): VsCodeApi<Outgoing> {
  return acquireVsCodeApi();
}

/** Creates an element with attributes and children; text children are escaped by the DOM. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Readonly<Record<string, string>>,
  ...children: (Node | string | undefined)[]
): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Readonly<Record<string, string>>, ...children: (Node | string | undefined)[]): HTMLElement;
export function h(tag: string, attrs: Readonly<Record<string, string>> = {}, ...children: (Node | string | undefined)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    // The CSP forbids style attributes; styles set through the CSSOM are allowed.
    if (k === 'style') {
      for (const decl of v.split(';')) {
        const i = decl.indexOf(':');
        if (i > 0) el.style.setProperty(decl.slice(0, i).trim(), decl.slice(i + 1).trim());
      }
    } else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined) el.append(c);
  return el;
}

/** Reads a VS Code theme colour from the webview's CSS variables, with a fallback. */
export function themeColor(variable: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(variable).trim();
  return v || fallback;
}

/** Formats a byte count in binary units. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Formats a count with SI suffixes (12.3M). */
export function formatCount(n: number): string {
  if (n < 1e3) return String(n);
  const units = ['K', 'M', 'B', 'T'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)}${units[u]}`;
}
