/**
 * Numbers for narrow table columns: as many significant digits as fit in `width` characters,
 * in plain decimal where that keeps more of them, else in exponent form (`1.2e-5`). Pure, so
 * unit tests run it without a DOM.
 */

/** How a number is laid out by {@link formatNumber}. */
export interface NumberFit {
  /** Characters the text may take, sign and exponent included. */
  readonly width: number;
  /** Significant digits at most, even when more would fit. */
  readonly digits: number;
}

const DEFAULT_FIT: NumberFit = { width: 7, digits: 4 };

/** Plain decimal with `sig` significant digits (all integer digits of a large number), or undefined when far too small. */
function plain(v: number, sig: number): string | undefined {
  const magnitude = Math.floor(Math.log10(Math.abs(v)));
  const decimals = sig - 1 - magnitude;
  if (decimals > 20) return undefined;
  if (decimals >= 0) {
    const s = v.toFixed(decimals);
    // Rounding can carry into a new digit (9.996 → "10.00"): that is one digit too many.
    return digitCount(s) > sig ? v.toFixed(Math.max(0, decimals - 1)) : s;
  }
  // More integer digits than `sig`: the whole number, rounded, reads better than an exponent.
  return String(Math.round(v));
}

function digitCount(s: string): number {
  return s.replace(/^-?0*\.?0*/, '').replace('.', '').length;
}

/** Exponent form with `sig` significant digits and a compact exponent: `1.25e-7`, `3e12`. */
function exponent(v: number, sig: number): string {
  const [mantissa, exp] = v.toExponential(Math.max(0, sig - 1)).split('e');
  return `${mantissa}e${exp.replace('+', '')}`;
}

/** Significant digits a formatted text shows; trailing zeros of a fraction tell nothing new. */
function significance(s: string): number {
  const mantissa = s.split('e')[0];
  return digitCount(mantissa.includes('.') ? mantissa.replace(/0+$/, '') : mantissa);
}

/**
 * Formats `v` to fit `fit.width` characters; `–` for a missing value, `NaN`, `∞` and `−∞` for
 * the non-finite ones. Whole numbers that fit print as they are (`256`).
 */
export function formatNumber(v: number | null | undefined, fit: Partial<NumberFit> = {}): string {
  const { width, digits } = { ...DEFAULT_FIT, ...fit };
  if (v === null || v === undefined) return '–';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  if (Number.isInteger(v) && String(v).length <= width) return String(v);
  let best: string | undefined;
  for (let sig = digits; sig >= 1 && !best; sig--) {
    const p = plain(v, sig);
    if (p !== undefined && p.length <= width) best = p;
  }
  for (let sig = digits; sig >= 1; sig--) {
    const e = exponent(v, sig);
    if (e.length > width) continue;
    // The exponent form wins only when it keeps more digits (0.000123 → 1.23e-4).
    if (!best || significance(e) > significance(best)) best = e;
    break;
  }
  return best ?? exponent(v, 1);
}

/** The full value, for a tooltip: the shortest text that reads back as the same number. */
export function fullNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  return String(v);
}
