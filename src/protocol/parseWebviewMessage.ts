/**
 * Checks what a webview posts against the protocol's message types before the host acts on it.
 * A webview renders names and figures read from a stranger's checkpoint, so the host treats its
 * messages as input: an unknown type, a missing field or a value of the wrong kind is refused
 * with the reason, and the caller drops and logs the message instead of running a command on it.
 */
import type { FindingFix } from './findingTypes';
import { KV_PRECISIONS, WEIGHT_PRECISIONS, type MemorySettings } from './servingTypes';
import { MODEL_ACTIONS, type BenchWebviewMessage, type EditorWebviewMessage, type OutliersWebviewMessage } from './webviewProtocol';

/** A message that passed its check, or why it did not. */
export type Parsed<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly reason: string };

const FIXES_WITHOUT_FIELDS = ['int8-channel', 'int4-g128', 'prune-2:4', 'keep-float'] as const;
/** Longest layer name accepted; real names are a few hundred characters at most. */
const MAX_NAME = 4096;

class Refused extends Error {}

type Fields = Readonly<Record<string, unknown>>;

function object(v: unknown, what: string): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Refused(`${what} is not an object`);
  return v as Fields;
}

function name(m: Fields, key: string): string {
  const v = m[key];
  if (typeof v !== 'string' || !v.length || v.length > MAX_NAME) throw new Refused(`${key} is not a name of 1 to ${MAX_NAME} characters`);
  return v;
}

function finite(v: unknown, key: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new Refused(`${key} is not a number in [${min}, ${max}]`);
  return v;
}

function oneOf<T extends string>(v: unknown, key: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new Refused(`${key} is not one of ${values.join(', ')}`);
  return v as T;
}

function fix(v: unknown): FindingFix {
  const f = object(v, 'fix');
  switch (f.kind) {
    case 'smoothquant': return { kind: 'smoothquant', alpha: finite(f.alpha, 'fix.alpha', 0, 1) };
    case 'llmint8': return { kind: 'llmint8', threshold: finite(f.threshold, 'fix.threshold', 0, Number.MAX_VALUE) };
    default: return { kind: oneOf(f.kind, 'fix.kind', [...FIXES_WITHOUT_FIELDS, 'smoothquant', 'llmint8']) as (typeof FIXES_WITHOUT_FIELDS)[number] };
  }
}

function servingSettings(v: unknown): Partial<MemorySettings> {
  const s = object(v, 'settings');
  const out: { -readonly [K in keyof MemorySettings]?: MemorySettings[K] } = {};
  for (const key of Object.keys(s)) {
    const value = s[key];
    // A page's partial settings may carry a field as undefined: the host's default stands.
    if (value === undefined) continue;
    switch (key) {
      case 'budgetBytes': out.budgetBytes = finite(value, key, 0, Number.MAX_SAFE_INTEGER); break;
      case 'weights': out.weights = oneOf(value, key, WEIGHT_PRECISIONS); break;
      case 'kv': out.kv = oneOf(value, key, KV_PRECISIONS); break;
      case 'blockSize':
      case 'contextLength':
      case 'prefillTokens':
      case 'int4GroupSize':
        if (!Number.isSafeInteger(value) || (value as number) < 1) throw new Refused(`settings.${key} is not a positive integer`);
        out[key] = value as number;
        break;
      default: throw new Refused(`settings has an unknown field ${JSON.stringify(key.slice(0, 64))}`);
    }
  }
  return out;
}

function parse<T>(raw: unknown, read: (m: Fields) => T | undefined): Parsed<T> {
  try {
    const m = object(raw, 'the message');
    const message = read(m);
    if (message === undefined) return { ok: false, reason: `unknown message type ${JSON.stringify(String(m.type).slice(0, 64))}` };
    return { ok: true, message };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, reason: e.message };
    throw e;
  }
}

/** Checks a message of the checkpoint editor's page. */
export function parseEditorWebviewMessage(raw: unknown): Parsed<EditorWebviewMessage> {
  return parse<EditorWebviewMessage>(raw, (m) => {
    switch (m.type) {
      case 'ready':
      case 'reload':
        return { type: m.type };
      case 'command':
        return { type: 'command', command: oneOf(m.command, 'command', MODEL_ACTIONS), ...(m.layer === undefined ? {} : { layer: name(m, 'layer') }) };
      case 'applyFix':
        return { type: 'applyFix', layer: name(m, 'layer'), fix: fix(m.fix) };
      case 'planServing':
        return { type: 'planServing', settings: servingSettings(m.settings) };
      default:
        return undefined;
    }
  });
}

/** Checks a message of the Outliers panel. */
export function parseOutliersWebviewMessage(raw: unknown): Parsed<OutliersWebviewMessage> {
  return parse<OutliersWebviewMessage>(raw, (m) => {
    switch (m.type) {
      case 'ready':
        return { type: 'ready' };
      case 'reveal':
        if (!Number.isSafeInteger(m.row) || (m.row as number) < 0) throw new Refused('row is not a row index');
        return { type: 'reveal', source: oneOf(m.source, 'source', ['weights', 'activations', 'experts']), row: m.row as number };
      case 'applyFix':
        return { type: 'applyFix', layer: name(m, 'layer'), fix: fix(m.fix) };
      case 'revealLayer':
        return { type: 'revealLayer', layer: name(m, 'layer') };
      default:
        return undefined;
    }
  });
}

/** Checks a message of the benchmark report's page. */
export function parseBenchWebviewMessage(raw: unknown): Parsed<BenchWebviewMessage> {
  return parse<BenchWebviewMessage>(raw, (m) => (m.type === 'ready' ? { type: 'ready' } : undefined));
}
