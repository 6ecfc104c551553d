/**
 * A parser for the Python literals an .npy header holds (`{'descr': '<f4', 'fortran_order':
 * False, 'shape': (3, 4), }`): dicts, tuples, lists, strings, integers, True, False and None.
 * The header is data from a stranger, so it is parsed, never evaluated.
 */
import { FormatError } from '../../FormatError';

/** A parsed Python literal. Tuples and lists both become arrays; integers become bigint when unsafe. */
export type PyValue = string | number | bigint | boolean | null | PyValue[] | Map<string, PyValue>;

const MAX_DEPTH = 32;

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new FormatError(`the .npy header is not a valid Python literal: ${what} at character ${this.pos}`, { format: 'numpy' });
  }

  skip(): void {
    while (this.pos < this.s.length && ' \t\r\n'.includes(this.s[this.pos])) this.pos++;
  }

  value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.skip();
    const c = this.s[this.pos];
    if (c === undefined) this.fail('unexpected end');
    if (c === '{') return this.dict(depth);
    if (c === '(' || c === '[') return this.sequence(depth, c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.string(c);
    if (c === '-' || c === '+' || (c >= '0' && c <= '9')) return this.integer();
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail(`unexpected ${JSON.stringify(c)}`);
  }

  dict(depth: number): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.pos++;
    for (;;) {
      this.skip();
      if (this.s[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.fail('a dict key that is not a string');
      this.skip();
      if (this.s[this.pos] !== ':') this.fail("missing ':'");
      this.pos++;
      out.set(key, this.value(depth + 1));
      this.skip();
      if (this.s[this.pos] === ',') this.pos++;
      else if (this.s[this.pos] !== '}') this.fail("missing ',' or '}'");
    }
  }

  sequence(depth: number, close: string): PyValue[] {
    const out: PyValue[] = [];
    this.pos++;
    for (;;) {
      this.skip();
      if (this.s[this.pos] === close) {
        this.pos++;
        return out;
      }
      out.push(this.value(depth + 1));
      this.skip();
      if (this.s[this.pos] === ',') this.pos++;
      else if (this.s[this.pos] !== close) this.fail(`missing ',' or '${close}'`);
    }
  }

  string(quote: string): string {
    let out = '';
    this.pos++;
    for (;;) {
      const c = this.s[this.pos++];
      if (c === undefined) this.fail('unterminated string');
      if (c === quote) return out;
      if (c === '\\') {
        const e = this.s[this.pos++];
        if (e === undefined) this.fail('unterminated string');
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : e;
      } else out += c;
    }
  }

  integer(): number | bigint {
    const m = /^[-+]?\d{1,40}L?/.exec(this.s.slice(this.pos, this.pos + 42));
    if (!m) this.fail('a malformed number');
    this.pos += m[0].length;
    const digits = m[0].replace(/L$/, '');
    const big = BigInt(digits);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
}

/** Parses one Python literal that must fill `text` (trailing whitespace aside). */
export function parsePythonLiteral(text: string): PyValue {
  const p = new Parser(text);
  const v = p.value(0);
  p.skip();
  if (p.pos !== text.length) p.fail('trailing characters');
  return v;
}
