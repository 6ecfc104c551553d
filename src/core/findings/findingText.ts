import type { FindingFix } from '../../protocol/findingTypes';

/** Three significant digits, exponent form for the very small and very large. */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-2 || a >= 1e5) ? x.toExponential(1) : Number(x.toPrecision(3)).toString();
}

/** dB with one decimal. */
export function db(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${x.toFixed(1)} dB`;
}

/** `3, 11, 19, 27` or `3, 11, 19, … (12 in all)`. */
export function channelList(channels: readonly number[], shown = 8): string {
  return channels.length > shown ? `${channels.slice(0, shown).join(', ')}, … (${channels.length} in all)` : channels.join(', ');
}

/** The name of a fix as a button or menu says it. */
export function fixLabel(fix: FindingFix): string {
  switch (fix.kind) {
    case 'smoothquant':
      return `SmoothQuant (α = ${fix.alpha}) + INT8 W8A8`;
    case 'llmint8':
      return `LLM.int8() decomposition (threshold ${num(fix.threshold)})`;
    case 'int8-channel':
      return 'INT8 per-channel';
    case 'int4-g128':
      return 'INT4 g128 via GPTQ';
    case 'prune-2:4':
      return '2:4 pruning';
    case 'keep-float':
      return 'Keep in float';
  }
}
