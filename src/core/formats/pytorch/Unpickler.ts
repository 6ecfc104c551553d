import { FormatError } from '../../FormatError';
import { PyDict, PyGlobal, PyObject, PyTuple, type PyValue } from './pyValues';

/** Raised when the bytes end before STOP; a caller reading a stream may retry with more bytes. */
export class PickleTruncatedError extends FormatError {
  constructor(offset: number) {
    super(`the pickle ends early at byte ${offset}: the file is truncated or corrupt`, { format: 'pytorch', offset });
  }
}

/** What an {@link Unpickler} needs from its caller. */
export interface UnpicklerOptions {
  /**
   * Maps `module`, `name` of a GLOBAL/STACK_GLOBAL/INST/OBJ to an allow-listed global. Must throw
   * (`refusing to load global MODULE.NAME`) for anything else: this is the only way a pickle can
   * name code, so refusing here means nothing is ever looked up, let alone called.
   */
  readonly findGlobal: (module: string, name: string) => PyGlobal;
  /** Resolves a persistent id (torch's storage references). */
  readonly persistentLoad?: (pid: PyValue) => PyValue;
  /** Most values (pushes) the whole pickle may create. */
  readonly maxObjects?: number;
  /** Name of the pickle for messages (`data.pkl`). */
  readonly label?: string;
}


/** Longest Python int we accept, in bytes (LONG1/LONG4) or decimal digits (LONG): checkpoints hold small ints. */
const MAX_LONG_BYTES = 4096;
const MAX_MARKS = 100_000;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * A pickle reader for protocols 0–5 that builds plain data and never executes anything. Globals are
 * resolved only through {@link UnpicklerOptions.findGlobal}, whose allow-list decides what a call
 * (REDUCE, NEWOBJ, INST, OBJ) builds; an unknown global fails at the opcode that names it. Every
 * length is checked against the bytes left, and the memo, stack and object count are bounded.
 */
export class Unpickler {
  private pos: number;
  private stack: PyValue[] = [];
  private marks: number[] = [];
  private readonly memo = new Map<number, PyValue>();
  private objects = 0;
  private readonly maxObjects: number;
  private readonly label: string;

  constructor(private readonly data: Uint8Array, private readonly options: UnpicklerOptions, start = 0) {
    this.pos = start;
    this.maxObjects = options.maxObjects ?? 10_000_000;
    this.label = options.label ?? 'pickle';
  }

  /** Offset just past the STOP opcode after {@link load}. */
  get offset(): number {
    return this.pos;
  }

  /** Reads one pickle up to its STOP opcode and returns the value it builds. */
  load(): PyValue {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        case 0x80: { // PROTO
          const v = this.u8();
          if (v > 5) throw this.error(`unsupported pickle protocol ${v}`, at);
          break;
        }
        case 0x95: this.bytes(8); break; // FRAME: only a buffering hint
        case 0x2e: { // STOP
          const v = this.pop();
          return v;
        }
        case 0x28: // MARK
          if (this.marks.length >= MAX_MARKS) throw this.error('the pickle nests too deeply', at);
          this.marks.push(this.stack.length);
          break;
        case 0x30: this.pop(); break; // POP
        case 0x31: this.popMark(); break; // POP_MARK
        case 0x32: this.push(this.top()); break; // DUP
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4a: this.push(this.view(4).getInt32(0, true)); break; // BININT
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.view(2).getUint16(0, true)); break; // BININT2
        case 0x8a: this.push(this.long(this.u8(), at)); break; // LONG1
        case 0x8b: this.push(this.long(this.view(4).getUint32(0, true), at)); break; // LONG4
        case 0x47: this.push(this.view(8).getFloat64(0, false)); break; // BINFLOAT (big-endian)
        case 0x49: this.push(this.textInt(this.line(), at)); break; // INT
        case 0x4c: this.push(this.textLong(this.line(), at)); break; // LONG
        case 0x46: this.push(this.textFloat(this.line(), at)); break; // FLOAT
        case 0x53: this.push(pythonStringLiteral(this.line(), () => this.error('bad STRING literal', at))); break; // STRING
        case 0x54: this.push(latin1(this.bytes(this.size(this.view(4).getInt32(0, true), at)))); break; // BINSTRING
        case 0x55: this.push(latin1(this.bytes(this.u8()))); break; // SHORT_BINSTRING
        case 0x56: this.push(rawUnicodeEscape(this.line())); break; // UNICODE
        case 0x58: this.push(utf8.decode(this.bytes(this.size(this.view(4).getUint32(0, true), at)))); break; // BINUNICODE
        case 0x8c: this.push(utf8.decode(this.bytes(this.u8()))); break; // SHORT_BINUNICODE
        case 0x8d: this.push(utf8.decode(this.bytes(this.size64(at)))); break; // BINUNICODE8
        case 0x42: this.push(this.bytes(this.size(this.view(4).getUint32(0, true), at)).slice()); break; // BINBYTES
        case 0x43: this.push(this.bytes(this.u8()).slice()); break; // SHORT_BINBYTES
        case 0x8e: this.push(this.bytes(this.size64(at)).slice()); break; // BINBYTES8
        case 0x96: this.push(this.bytes(this.size64(at)).slice()); break; // BYTEARRAY8
        case 0x97: throw this.error('the pickle uses out-of-band buffers (NEXT_BUFFER), which are not supported', at);
        case 0x98: break; // READONLY_BUFFER: no-op on our immutable bytes
        case 0x29: this.push(new PyTuple([])); break; // EMPTY_TUPLE
        case 0x85: this.push(new PyTuple(this.popN(1))); break; // TUPLE1
        case 0x86: this.push(new PyTuple(this.popN(2))); break; // TUPLE2
        case 0x87: this.push(new PyTuple(this.popN(3))); break; // TUPLE3
        case 0x74: this.push(new PyTuple(this.popMark())); break; // TUPLE
        case 0x5d: this.push([]); break; // EMPTY_LIST
        case 0x6c: this.push(this.popMark()); break; // LIST
        case 0x7d: this.push(new PyDict()); break; // EMPTY_DICT
        case 0x64: this.push(this.dictFrom(this.popMark(), at)); break; // DICT
        case 0x8f: this.push([]); break; // EMPTY_SET (a set is a list to us)
        case 0x91: this.push(this.popMark()); break; // FROZENSET
        case 0x61: this.append([this.pop()], at); break; // APPEND
        case 0x65: { // APPENDS
          const items = this.popMark();
          this.append(items, at);
          break;
        }
        case 0x90: { // ADDITEMS
          const items = this.popMark();
          this.append(items, at);
          break;
        }
        case 0x73: { // SETITEM
          const value = this.pop();
          const key = this.pop();
          this.setItems([key, value], at);
          break;
        }
        case 0x75: this.setItems(this.popMark(), at); break; // SETITEMS
        case 0x63: { // GLOBAL
          const module = this.line();
          const name = this.line();
          this.push(this.options.findGlobal(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') throw this.error('STACK_GLOBAL needs two strings', at);
          this.push(this.options.findGlobal(module, name));
          break;
        }
        case 0x69: { // INST: module and class name on two lines, arguments since the mark
          const module = this.line();
          const name = this.line();
          const cls = this.options.findGlobal(module, name);
          this.push(this.call(cls, this.popMark(), at));
          break;
        }
        case 0x6f: { // OBJ: class and arguments since the mark
          const items = this.popMark();
          if (items.length === 0) throw this.error('OBJ without a class', at);
          this.push(this.call(items[0], items.slice(1), at));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.push(this.call(fn, this.argList(args, at), at));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.pop();
          const cls = this.pop();
          this.push(this.call(cls, this.argList(args, at), at));
          break;
        }
        case 0x92: { // NEWOBJ_EX: keyword arguments are dropped, none of our builders take any
          this.pop();
          const args = this.pop();
          const cls = this.pop();
          this.push(this.call(cls, this.argList(args, at), at));
          break;
        }
        case 0x62: { // BUILD
          const state = this.pop();
          const obj = this.top();
          if (obj instanceof PyObject) obj.state = state;
          else if (obj instanceof PyDict) obj.state = state;
          break;
        }
        case 0x50: this.push(this.persistent(this.line(), at)); break; // PERSID
        case 0x51: this.push(this.persistent(this.pop(), at)); break; // BINPERSID
        case 0x70: this.put(this.textIndex(this.line(), at), at); break; // PUT
        case 0x71: this.put(this.u8(), at); break; // BINPUT
        case 0x72: this.put(this.view(4).getUint32(0, true), at); break; // LONG_BINPUT
        case 0x94: this.put(this.memo.size, at); break; // MEMOIZE
        case 0x67: this.push(this.get(this.textIndex(this.line(), at), at)); break; // GET
        case 0x68: this.push(this.get(this.u8(), at)); break; // BINGET
        case 0x6a: this.push(this.get(this.view(4).getUint32(0, true), at)); break; // LONG_BINGET
        case 0x82: case 0x83: case 0x84: // EXT1, EXT2, EXT4
          throw this.error('the pickle uses the copyreg extension registry, which is not supported', at);
        default:
          throw this.error(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`, at);
      }
    }
  }

  private error(message: string, offset: number): FormatError {
    return new FormatError(`${message} (${this.label}, byte ${offset})`, { format: 'pytorch', offset });
  }

  private need(n: number): void {
    if (n > this.data.length - this.pos) throw new PickleTruncatedError(this.pos);
  }

  private u8(): number {
    this.need(1);
    return this.data[this.pos++];
  }

  private bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private view(n: number): DataView {
    const b = this.bytes(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  private size(n: number, at: number): number {
    if (n < 0) throw this.error(`negative length ${n}`, at);
    if (n > this.data.length - this.pos) {
      // A length past the end of the bytes we hold: say how much is left rather than allocating.
      throw new PickleTruncatedError(this.pos);
    }
    return n;
  }

  private size64(at: number): number {
    const v = this.view(8);
    const n = v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
    if (!Number.isSafeInteger(n)) throw this.error('a length in the pickle is impossibly large', at);
    return this.size(n, at);
  }

  /** A text line ending in `\n` (protocol 0 arguments). */
  private line(): string {
    const nl = this.data.indexOf(0x0a, this.pos);
    if (nl < 0) throw new PickleTruncatedError(this.pos);
    const s = latin1(this.data.subarray(this.pos, nl));
    this.pos = nl + 1;
    return s;
  }

  private push(v: PyValue): void {
    if (++this.objects > this.maxObjects) {
      throw new FormatError(`the pickle builds more than ${this.maxObjects} objects`, { format: 'pytorch', offset: this.pos });
    }
    this.stack.push(v);
  }

  private pop(): PyValue {
    // Python keeps each MARK's items on a fresh stack, so nothing below the last mark can be popped.
    const floor = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    if (this.stack.length <= floor) throw this.error('the pickle pops from an empty stack', this.pos);
    return this.stack.pop() as PyValue;
  }

  private top(): PyValue {
    if (this.stack.length === 0 || (this.marks.length && this.stack.length <= this.marks[this.marks.length - 1])) {
      throw this.error('the pickle reads an empty stack', this.pos);
    }
    return this.stack[this.stack.length - 1];
  }

  private popN(n: number): PyValue[] {
    const out = new Array<PyValue>(n);
    for (let i = n - 1; i >= 0; i--) out[i] = this.pop();
    return out;
  }

  private popMark(): PyValue[] {
    const m = this.marks.pop();
    if (m === undefined) throw this.error('the pickle has no mark to pop to', this.pos);
    return this.stack.splice(m);
  }

  private put(index: number, at: number): void {
    if (!this.memo.has(index) && this.memo.size >= this.maxObjects) throw this.error('the pickle memo is too large', at);
    this.memo.set(index, this.top());
  }

  private get(index: number, at: number): PyValue {
    const v = this.memo.get(index);
    if (v === undefined) throw this.error(`the pickle refers to memo entry ${index}, which was never stored`, at);
    return v;
  }

  private textIndex(s: string, at: number): number {
    const n = Number(s.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw this.error(`bad memo index ${JSON.stringify(s)}`, at);
    return n;
  }

  private long(n: number, at: number): number | bigint {
    this.size(n, at);
    if (n > MAX_LONG_BYTES) throw this.error(`an integer of ${n} bytes is too large`, at);
    const b = this.bytes(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return narrow(v);
  }

  private textInt(s: string, at: number): number | bigint | boolean {
    if (s === '01') return true;
    if (s === '00') return false;
    return this.textLong(s, at);
  }

  private textLong(s: string, at: number): number | bigint {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (t.length > MAX_LONG_BYTES || !/^[+-]?\d+$/.test(t)) throw this.error(`bad integer ${JSON.stringify(s.slice(0, 40))}`, at);
    return narrow(BigInt(t));
  }

  private textFloat(s: string, at: number): number {
    const v = Number(s);
    if (Number.isNaN(v) && !/nan/i.test(s)) throw this.error(`bad float ${JSON.stringify(s.slice(0, 40))}`, at);
    return v;
  }

  private argList(args: PyValue, at: number): PyValue[] {
    if (args instanceof PyTuple) return [...args.items];
    if (Array.isArray(args)) return args;
    throw this.error('call arguments are not a tuple', at);
  }

  private call(fn: PyValue, args: PyValue[], at: number): PyValue {
    if (!(fn instanceof PyGlobal)) throw this.error('the pickle calls something that is not an allowed global', at);
    if (!fn.call) throw this.error(`${fn.qualifiedName} cannot be called`, at);
    try {
      return fn.call(args);
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw this.error(`bad arguments for ${fn.qualifiedName}: ${e instanceof Error ? e.message : String(e)}`, at);
    }
  }

  private persistent(pid: PyValue, at: number): PyValue {
    if (!this.options.persistentLoad) throw this.error('the pickle refers to external data (a persistent id) in a place that has none', at);
    return this.options.persistentLoad(pid);
  }

  private append(items: PyValue[], at: number): void {
    const target = this.top();
    if (Array.isArray(target)) {
      for (const v of items) target.push(v);
    } else if (target instanceof PyObject) {
      target.items.push(...items);
    } else {
      throw this.error('the pickle appends to something that is not a list', at);
    }
  }

  private setItems(items: PyValue[], at: number): void {
    const target = this.top();
    if (items.length % 2) throw this.error('the pickle sets a key without a value', at);
    const dict = target instanceof PyDict ? target : target instanceof PyObject ? target.dict : undefined;
    if (!dict) throw this.error('the pickle sets items on something that is not a dict', at);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  }

  private dictFrom(items: PyValue[], at: number): PyDict {
    if (items.length % 2) throw this.error('DICT with an odd number of items', at);
    const d = new PyDict();
    for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
    return d;
  }
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** Decodes protocol 0's `STRING` argument: a quoted Python 2 str literal with backslash escapes. */
function pythonStringLiteral(line: string, bad: () => FormatError): string {
  const q = line[0];
  if ((q !== "'" && q !== '"') || line.length < 2 || line[line.length - 1] !== q) throw bad();
  const body = line.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'x': {
        const h = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) throw bad();
        out += String.fromCharCode(parseInt(h, 16));
        i += 2;
        break;
      }
      case undefined: throw bad();
      default: out += n; // \\, \', \" and unknown escapes keep the character
    }
  }
  return out;
}

/** Decodes protocol 0's `UNICODE` argument (Python's raw-unicode-escape). */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4?: string, u8?: string) => {
    const code = parseInt(u4 ?? u8 ?? '0', 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
  });
}
