/**
 * A pickle interpreter (protocols 0–5) that never executes code.
 *
 * Python's unpickler imports whatever a `GLOBAL` names and calls it on `REDUCE`; that is how a
 * hostile checkpoint runs `os.system`. This one resolves a `GLOBAL` only through an explicit
 * allowlist of pure data constructors that the caller supplies (see `torch.ts`); every other
 * global becomes an inert {@link PickleGlobal}, and calling or instantiating it yields an inert
 * {@link PickleObject} that merely records the name, the arguments and any state. Nothing is
 * imported, nothing is called, and no JavaScript property lookup is driven by pickle strings.
 *
 * Value mapping: None → `null`, bool → boolean, int → number (bigint beyond 2^53), float →
 * number, str → string, bytes/bytearray → `Uint8Array`, list → array, tuple → frozen array,
 * dict → `Map`, set/frozenset → `Set`.
 */
import { CheckpointError } from '../core/errors';

/** A Python global (`module.name`) that was not resolved: an inert placeholder. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  /** `module.name`. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }

  toString(): string {
    return this.qualifiedName;
  }
}

/** How a placeholder object was created. */
export type PickleCallKind = 'reduce' | 'newobj' | 'newobj_ex' | 'inst' | 'obj';

/**
 * The inert result of calling or instantiating something the allowlist does not know (or of
 * calling a placeholder). It records what Python would have called, with which arguments, and
 * what `BUILD`, `APPEND(S)` and `SETITEM(S)` would have applied to the object.
 */
export class PickleObject {
  /** The state `BUILD` would have passed to `__setstate__` (the last one, if several). */
  state: unknown = undefined;
  /** Items appended to the object (list subclasses). */
  readonly listItems: unknown[] = [];
  /** Items set on the object (dict subclasses). */
  readonly dictItems = new Map<unknown, unknown>();
  /** Items added to the object (set subclasses). */
  readonly setItems: unknown[] = [];

  constructor(
    /** What was called: usually a {@link PickleGlobal}. */
    readonly callee: unknown,
    /** Positional arguments. */
    readonly args: readonly unknown[],
    readonly kind: PickleCallKind,
    /** Keyword arguments (`NEWOBJ_EX` only). */
    readonly kwargs: Map<unknown, unknown> | null = null,
  ) {}

  /** The qualified name of the callee, e.g. `os.system`. */
  get className(): string {
    return this.callee instanceof PickleGlobal ? this.callee.qualifiedName : describeValue(this.callee);
  }

  toString(): string {
    return `<inert ${this.className}(…)>`;
  }
}

/**
 * An allowlisted callable: a pure function of its pickled arguments that builds data (a dict, a
 * tensor reference). Supplied by the caller of {@link unpickle} through `globals`.
 */
export class PickleBuiltin {
  constructor(
    /** `module.name`. */
    readonly qualifiedName: string,
    /** Builds the value from the arguments of `REDUCE` / `NEWOBJ`. */
    readonly call: (args: readonly unknown[], ctx: PickleContext) => unknown,
  ) {}

  toString(): string {
    return this.qualifiedName;
  }
}

/** What builtins and persistent loaders can use to report errors. */
export interface PickleContext {
  /** Throws a {@link CheckpointError} naming the file and the offset of the current opcode. */
  fail(message: string): never;
  /** Byte offset of the opcode being executed. */
  readonly offset: number;
}

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** File name for error messages (e.g. `model.pth.tar:archive/data.pkl`). */
  source?: string;
  /**
   * The allowlist: `module.name` → a {@link PickleBuiltin} (callable) or a constant value. Names
   * not in it become inert {@link PickleGlobal}s.
   */
  globals?: ReadonlyMap<string, unknown>;
  /**
   * `'placeholder'` (default): unknown globals become inert placeholders. `'error'`: any global
   * outside the allowlist is a {@link CheckpointError} at the `GLOBAL` opcode.
   */
  unknownGlobals?: 'placeholder' | 'error';
  /** Resolves persistent ids (`PERSID`, `BINPERSID`); without it they are errors. */
  persistentLoad?: (pid: unknown, ctx: PickleContext) => unknown;
}

/** The result of {@link unpickle}. */
export interface UnpickleResult {
  value: unknown;
  /** Every `GLOBAL`/`STACK_GLOBAL` the stream named, in first-seen order. */
  globals: string[];
  /** The qualified names that were resolved through the allowlist. */
  resolved: string[];
  /** The protocol announced by `PROTO` (0 when absent). */
  protocol: number;
}

const buildStates = new WeakMap<object, unknown>();

/**
 * The state a `BUILD` opcode applied to an allowlisted object (e.g. torch's `_metadata` on an
 * `OrderedDict`), or `undefined`.
 */
export function pickleState(obj: unknown): unknown {
  return obj !== null && typeof obj === 'object' ? buildStates.get(obj) : undefined;
}

/** A short description of a value for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PickleObject) return `inert placeholder ${v.className}(…)`;
  if (v instanceof PickleGlobal) return `inert global ${v.qualifiedName}`;
  if (v instanceof PickleBuiltin) return `builtin ${v.qualifiedName}`;
  if (v instanceof Map) return `dict of ${v.size}`;
  if (v instanceof Set) return `set of ${v.size}`;
  if (v instanceof Uint8Array) return `bytes of ${v.length}`;
  if (Array.isArray(v)) return `${Object.isFrozen(v) ? 'tuple' : 'list'} of ${v.length}`;
  if (typeof v === 'string') return `str ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return `${typeof v} ${String(v)}`;
}

/** Opcode names by byte value (from Python's `pickletools`), for error messages. */
// biome-ignore format: a table
const OPCODE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x28, 'MARK'], [0x2e, 'STOP'], [0x30, 'POP'], [0x31, 'POP_MARK'], [0x32, 'DUP'],
  [0x46, 'FLOAT'], [0x49, 'INT'], [0x4a, 'BININT'], [0x4b, 'BININT1'], [0x4c, 'LONG'],
  [0x4d, 'BININT2'], [0x4e, 'NONE'], [0x50, 'PERSID'], [0x51, 'BINPERSID'], [0x52, 'REDUCE'],
  [0x53, 'STRING'], [0x54, 'BINSTRING'], [0x55, 'SHORT_BINSTRING'], [0x56, 'UNICODE'],
  [0x58, 'BINUNICODE'], [0x61, 'APPEND'], [0x62, 'BUILD'], [0x63, 'GLOBAL'], [0x64, 'DICT'],
  [0x7d, 'EMPTY_DICT'], [0x65, 'APPENDS'], [0x67, 'GET'], [0x68, 'BINGET'], [0x69, 'INST'],
  [0x6a, 'LONG_BINGET'], [0x6c, 'LIST'], [0x5d, 'EMPTY_LIST'], [0x6f, 'OBJ'], [0x70, 'PUT'],
  [0x71, 'BINPUT'], [0x72, 'LONG_BINPUT'], [0x73, 'SETITEM'], [0x74, 'TUPLE'],
  [0x29, 'EMPTY_TUPLE'], [0x75, 'SETITEMS'], [0x47, 'BINFLOAT'], [0x80, 'PROTO'],
  [0x81, 'NEWOBJ'], [0x82, 'EXT1'], [0x83, 'EXT2'], [0x84, 'EXT4'], [0x85, 'TUPLE1'],
  [0x86, 'TUPLE2'], [0x87, 'TUPLE3'], [0x88, 'NEWTRUE'], [0x89, 'NEWFALSE'], [0x8a, 'LONG1'],
  [0x8b, 'LONG4'], [0x42, 'BINBYTES'], [0x43, 'SHORT_BINBYTES'], [0x8c, 'SHORT_BINUNICODE'],
  [0x8d, 'BINUNICODE8'], [0x8e, 'BINBYTES8'], [0x8f, 'EMPTY_SET'], [0x90, 'ADDITEMS'],
  [0x91, 'FROZENSET'], [0x92, 'NEWOBJ_EX'], [0x93, 'STACK_GLOBAL'], [0x94, 'MEMOIZE'],
  [0x95, 'FRAME'], [0x96, 'BYTEARRAY8'], [0x97, 'NEXT_BUFFER'], [0x98, 'READONLY_BUFFER'],
]);

/** The name of a pickle opcode byte, or `undefined` for bytes that are no opcode. */
export function pickleOpcodeName(byte: number): string | undefined {
  return OPCODE_NAMES.get(byte);
}

const HIGHEST_PROTOCOL = 5;
const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function normalizeInt(v: bigint): number | bigint {
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
}

/** Decodes a Python `repr` string body (protocol-0 `STRING`) to bytes. */
function unescapePyBytes(body: string, fail: (m: string) => never): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 0x5c) {
      out.push(c & 0xff);
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'n':
        out.push(10);
        break;
      case 'r':
        out.push(13);
        break;
      case 't':
        out.push(9);
        break;
      case '\\':
      case "'":
      case '"':
        out.push(n.charCodeAt(0));
        break;
      case 'a':
        out.push(7);
        break;
      case 'b':
        out.push(8);
        break;
      case 'f':
        out.push(12);
        break;
      case 'v':
        out.push(11);
        break;
      case '\n':
        break;
      case 'x': {
        const h = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) fail(`invalid \\x escape in STRING`);
        out.push(Number.parseInt(h, 16));
        i += 2;
        break;
      }
      default: {
        const oct = /^[0-7]{1,3}/.exec(body.slice(i, i + 3));
        if (oct) {
          out.push(Number.parseInt(oct[0], 8) & 0xff);
          i += oct[0].length - 1;
        } else {
          out.push(0x5c);
          if (n !== undefined) out.push(n.charCodeAt(0) & 0xff);
        }
      }
    }
  }
  return Uint8Array.from(out);
}

/** Decodes Python's `raw-unicode-escape` (protocol-0 `UNICODE`). */
function rawUnicodeEscape(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x5c && (bytes[i + 1] === 0x75 || bytes[i + 1] === 0x55)) {
      const n = bytes[i + 1] === 0x75 ? 4 : 8;
      const hex = String.fromCharCode(...bytes.subarray(i + 2, i + 2 + n));
      if (hex.length === n && /^[0-9a-fA-F]+$/.test(hex)) {
        s += String.fromCodePoint(Number.parseInt(hex, 16));
        i += 1 + n;
        continue;
      }
    }
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Runs a pickle stream on the safe interpreter and returns the unpickled value. Implements every
 * opcode of protocols 0–5 except the extension registry (`EXT1/2/4`) and out-of-band buffers
 * (`NEXT_BUFFER`), which are errors. Any malformed stream is a {@link CheckpointError} naming the
 * file, the opcode and its byte offset.
 */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions = {}): UnpickleResult {
  const file = opts.source ? `pickle '${opts.source}'` : 'pickle data';
  const allow = opts.globals ?? new Map<string, unknown>();
  const unknownGlobals = opts.unknownGlobals ?? 'placeholder';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  let pos = 0;
  let opStart = 0;
  let op = 0;
  let protocol = 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const globalsSeen: string[] = [];
  const globalsSeenSet = new Set<string>();
  const resolved = new Set<string>();

  const opName = () => OPCODE_NAMES.get(op) ?? `0x${op.toString(16).padStart(2, '0')}`;
  const fail: (message: string) => never = (message: string): never => {
    throw new CheckpointError(`${file}: ${message} (opcode ${opName()} at offset ${opStart})`);
  };
  const ctx: PickleContext = {
    fail,
    get offset() {
      return opStart;
    },
  };

  const need = (n: number) => {
    if (n > len - pos) fail(`truncated stream: needs ${n} more byte(s), ${len - pos} left`);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const b = bytes.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const u8 = () => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = () => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = () => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = dv.getUint32(pos, true) + dv.getUint32(pos + 4, true) * 2 ** 32;
    pos += 8;
    if (!Number.isSafeInteger(v)) fail(`length ${v} is too large`);
    return v;
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail('truncated stream: missing newline');
    const s = latin1.decode(bytes.subarray(pos, nl > pos && bytes[nl - 1] === 0x0d ? nl - 1 : nl));
    pos = nl + 1;
    return s;
  };
  const lineBytes = (): Uint8Array => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail('truncated stream: missing newline');
    const b = bytes.subarray(pos, nl);
    pos = nl + 1;
    return b;
  };

  const push = (v: unknown) => stack.push(v);
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) {
      fail('stack underflow');
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) {
      fail('stack underflow');
    }
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK on the stack');
    const items = stack.slice(m);
    stack.length = m;
    return items;
  };

  const resolveGlobal = (module: string, name: string): unknown => {
    const q = `${module}.${name}`;
    if (!globalsSeenSet.has(q)) {
      globalsSeenSet.add(q);
      globalsSeen.push(q);
    }
    if (allow.has(q)) {
      resolved.add(q);
      return allow.get(q);
    }
    if (unknownGlobals === 'error') fail(`global ${q} is not on the allowlist`);
    return new PickleGlobal(module, name);
  };

  const call = (callee: unknown, args: unknown, kind: PickleCallKind, kwargs: unknown = null): unknown => {
    if (!Array.isArray(args)) fail(`arguments must be a tuple, got ${describeValue(args)}`);
    if (callee instanceof PickleBuiltin) {
      if (kwargs instanceof Map && kwargs.size > 0)
        fail(`${callee.qualifiedName} takes no keyword arguments`);
      return callee.call(args as unknown[], ctx);
    }
    if (callee instanceof PickleGlobal || callee instanceof PickleObject) {
      return new PickleObject(
        callee,
        Object.freeze([...(args as unknown[])]),
        kind,
        kwargs instanceof Map ? kwargs : null,
      );
    }
    return fail(`cannot call ${describeValue(callee)}`);
  };

  const setItems = (target: unknown, items: unknown[]) => {
    if (items.length % 2) fail('odd number of items for a dict');
    if (target instanceof Map) {
      for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
    } else if (target instanceof PickleObject) {
      for (let i = 0; i < items.length; i += 2) target.dictItems.set(items[i], items[i + 1]);
    } else {
      fail(`cannot set items on ${describeValue(target)}`);
    }
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (Array.isArray(target) && !Object.isFrozen(target)) for (const x of items) target.push(x);
    else if (target instanceof PickleObject) for (const x of items) target.listItems.push(x);
    else fail(`cannot append to ${describeValue(target)}`);
  };
  const addItems = (target: unknown, items: unknown[]) => {
    if (target instanceof Set) for (const x of items) target.add(x);
    else if (target instanceof PickleObject) for (const x of items) target.setItems.push(x);
    else fail(`cannot add items to ${describeValue(target)}`);
  };
  const persistent = (pid: unknown): unknown => {
    if (!opts.persistentLoad) fail('persistent ids are not supported here');
    return opts.persistentLoad(pid, ctx);
  };

  for (;;) {
    if (pos >= len) {
      opStart = pos;
      op = -1;
      throw new CheckpointError(`${file}: truncated stream: no STOP opcode before the end at offset ${pos}`);
    }
    opStart = pos;
    op = bytes[pos++]!;
    switch (op) {
      // ---- protocol, framing, control
      case 0x80: {
        protocol = u8();
        if (protocol > HIGHEST_PROTOCOL) fail(`unsupported pickle protocol ${protocol}`);
        break;
      }
      case 0x95:
        u64(); // FRAME: the whole stream is in memory, frames need no handling
        break;
      case 0x2e: {
        // STOP
        const value = pop();
        return { value, globals: globalsSeen, resolved: [...resolved], protocol };
      }
      case 0x28:
        marks.push(stack.length);
        break;
      case 0x31:
        popMark();
        break;
      case 0x30:
        if (marks.length > 0 && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x32:
        push(top());
        break;

      // ---- constants and numbers
      case 0x4e:
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x49: {
        const s = line();
        if (s === '00') push(false);
        else if (s === '01') push(true);
        else {
          if (!/^[+-]?\d+$/.test(s)) fail(`invalid INT ${JSON.stringify(s)}`);
          push(normalizeInt(BigInt(s)));
        }
        break;
      }
      case 0x4c: {
        const s = line().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail(`invalid LONG ${JSON.stringify(s)}`);
        push(normalizeInt(BigInt(s)));
        break;
      }
      case 0x4a:
        push(i32());
        break;
      case 0x4b:
        push(u8());
        break;
      case 0x4d:
        push(u16());
        break;
      case 0x8a:
      case 0x8b: {
        const n = op === 0x8a ? u8() : i32();
        if (n < 0) fail('negative LONG4 byte count');
        const b = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        push(normalizeInt(v));
        break;
      }
      case 0x46: {
        const s = line().trim();
        const v = s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s === 'nan' ? Number.NaN : Number(s);
        if (Number.isNaN(v) && s !== 'nan') fail(`invalid FLOAT ${JSON.stringify(s)}`);
        push(v);
        break;
      }
      case 0x47: {
        need(8);
        push(dv.getFloat64(pos, false)); // big-endian
        pos += 8;
        break;
      }

      // ---- strings and bytes
      case 0x53: {
        // STRING: a quoted Python 2 str repr, decoded as UTF-8 (as torch.load does)
        const s = line();
        const q = s[0];
        if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) fail('STRING is not quoted');
        push(utf8.decode(unescapePyBytes(s.slice(1, -1), fail)));
        break;
      }
      case 0x54: {
        const n = i32();
        if (n < 0) fail('negative BINSTRING length');
        push(utf8.decode(take(n)));
        break;
      }
      case 0x55:
        push(utf8.decode(take(u8())));
        break;
      case 0x42:
        push(take(u32()).slice());
        break;
      case 0x43:
        push(take(u8()).slice());
        break;
      case 0x8e:
      case 0x96:
        push(take(u64()).slice());
        break;
      case 0x56:
        push(rawUnicodeEscape(lineBytes()));
        break;
      case 0x58:
        push(utf8.decode(take(u32())));
        break;
      case 0x8c:
        push(utf8.decode(take(u8())));
        break;
      case 0x8d:
        push(utf8.decode(take(u64())));
        break;
      case 0x97:
        fail('out-of-band buffers are not supported');
        break;
      case 0x98:
        top(); // READONLY_BUFFER: a no-op on our immutable-by-convention bytes
        break;

      // ---- containers
      case 0x5d:
        push([]);
        break;
      case 0x29:
        push(Object.freeze([]));
        break;
      case 0x7d:
        push(new Map());
        break;
      case 0x8f:
        push(new Set());
        break;
      case 0x6c:
        push(popMark());
        break;
      case 0x74:
        push(Object.freeze(popMark()));
        break;
      case 0x85: {
        const a = pop();
        push(Object.freeze([a]));
        break;
      }
      case 0x86: {
        const b = pop();
        const a = pop();
        push(Object.freeze([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        push(Object.freeze([a, b, c]));
        break;
      }
      case 0x64: {
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        push(d);
        break;
      }
      case 0x91:
        push(new Set(popMark()));
        break;
      case 0x61: {
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x90: {
        const items = popMark();
        addItems(top(), items);
        break;
      }

      // ---- memo
      case 0x70: {
        const s = line();
        if (!/^\d+$/.test(s)) fail(`invalid PUT index ${JSON.stringify(s)}`);
        memo.set(Number(s), top());
        break;
      }
      case 0x71:
        memo.set(u8(), top());
        break;
      case 0x72:
        memo.set(u32(), top());
        break;
      case 0x94:
        memo.set(memo.size, top());
        break;
      case 0x67:
      case 0x68:
      case 0x6a: {
        const key = op === 0x67 ? Number(line()) : op === 0x68 ? u8() : u32();
        if (!memo.has(key)) fail(`memo key ${key} is not defined`);
        push(memo.get(key));
        break;
      }

      // ---- globals and objects (never executed)
      case 0x63: {
        const module = line();
        const name = line();
        push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        const args = pop();
        const callee = pop();
        push(call(callee, args, 'reduce'));
        break;
      }
      case 0x81: {
        const args = pop();
        const cls = pop();
        push(call(cls, args, 'newobj'));
        break;
      }
      case 0x92: {
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof Map)) fail('NEWOBJ_EX keyword arguments must be a dict');
        push(call(cls, args, 'newobj_ex', kwargs));
        break;
      }
      case 0x69: {
        const module = line();
        const name = line();
        const args = Object.freeze(popMark());
        push(call(resolveGlobal(module, name), args, 'inst'));
        break;
      }
      case 0x6f: {
        const items = popMark();
        if (items.length === 0) fail('OBJ needs a class');
        const [cls, ...args] = items;
        push(call(cls, Object.freeze(args), 'obj'));
        break;
      }
      case 0x62: {
        const state = pop();
        const obj = top();
        if (obj instanceof PickleObject) {
          obj.state = state;
        } else if (obj !== null && typeof obj === 'object' && !(obj instanceof PickleGlobal)) {
          buildStates.set(obj, state);
        } else {
          fail(`cannot BUILD ${describeValue(obj)}`);
        }
        break;
      }
      case 0x50:
        push(persistent(line()));
        break;
      case 0x51:
        push(persistent(pop()));
        break;
      case 0x82:
      case 0x83:
      case 0x84:
        fail('the extension registry (copyreg) is not supported');
        break;
      default:
        throw new CheckpointError(
          `${file}: unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${opStart}`,
        );
    }
  }
}

/** Calls `visit` on every value reachable from `root` (each object once, cycles are fine). */
export function walkPickle(root: unknown, visit: (value: unknown, path: readonly unknown[]) => void): void {
  const seen = new Set<unknown>();
  const stackV: { v: unknown; path: unknown[] }[] = [{ v: root, path: [] }];
  while (stackV.length > 0) {
    const { v, path } = stackV.pop()!;
    if (v !== null && typeof v === 'object') {
      if (seen.has(v)) continue;
      seen.add(v);
    }
    visit(v, path);
    if (v instanceof Map) for (const [k, x] of v) stackV.push({ v: x, path: [...path, k] });
    else if (Array.isArray(v) || v instanceof Set) {
      let i = 0;
      for (const x of v) stackV.push({ v: x, path: [...path, i++] });
    } else if (v instanceof PickleObject) {
      stackV.push({ v: v.args, path: [...path, '<args>'] });
      if (v.state !== undefined) stackV.push({ v: v.state, path: [...path, '<state>'] });
      if (v.listItems.length) stackV.push({ v: v.listItems, path: [...path, '<items>'] });
      if (v.dictItems.size) stackV.push({ v: v.dictItems, path: [...path, '<items>'] });
    }
  }
}

/** Every inert placeholder ({@link PickleObject} or {@link PickleGlobal}) reachable from `root`. */
export function findPlaceholders(
  root: unknown,
): { path: readonly unknown[]; value: PickleObject | PickleGlobal }[] {
  const out: { path: readonly unknown[]; value: PickleObject | PickleGlobal }[] = [];
  walkPickle(root, (v, path) => {
    if (v instanceof PickleObject || v instanceof PickleGlobal) out.push({ path, value: v });
  });
  return out;
}

function setOf(a: readonly unknown[], ctx: PickleContext): Set<unknown> {
  const init = a[0];
  if (init === undefined) return new Set();
  if (Array.isArray(init) || init instanceof Set) return new Set(init);
  return ctx.fail(`set(${describeValue(init)})`);
}

function encodeString(s: unknown, enc: unknown, ctx: PickleContext, fn: string): Uint8Array {
  if (typeof s !== 'string') ctx.fail(`${fn} expects a str, got ${describeValue(s)}`);
  const str = s as string;
  const e = String(enc ?? 'utf-8').toLowerCase();
  if (e === 'latin1' || e === 'latin-1' || e === 'iso-8859-1') {
    const out = new Uint8Array(str.length);
    for (let i = 0; i < str.length; i++) {
      const c = str.charCodeAt(i);
      if (c > 255) ctx.fail(`${fn}: character outside latin-1`);
      out[i] = c;
    }
    return out;
  }
  if (e === 'utf-8' || e === 'utf8') return new TextEncoder().encode(str);
  return ctx.fail(`${fn}: unsupported encoding ${JSON.stringify(enc)}`);
}

/**
 * The pure data constructors of Python's standard library that pickles of plain data use:
 * `collections.OrderedDict` (→ `Map`), `builtins.set`/`frozenset` (→ `Set`), `builtins.bytearray`
 * and `_codecs.encode` (→ `Uint8Array`; protocols 0–2 pickle bytes through it), also under
 * Python 2's `__builtin__`. Pass them (plus your own) as {@link UnpickleOptions.globals}.
 */
export function pythonDataGlobals(): Map<string, PickleBuiltin> {
  const m = new Map<string, PickleBuiltin>();
  const fn = (name: string, call: (args: readonly unknown[], ctx: PickleContext) => unknown) =>
    m.set(name, new PickleBuiltin(name, call));
  fn('collections.OrderedDict', (args, ctx) => {
    const d = new Map<unknown, unknown>();
    const init = args[0];
    if (init instanceof Map) for (const [k, v] of init) d.set(k, v);
    else if (Array.isArray(init)) {
      for (const pair of init) {
        if (!Array.isArray(pair) || pair.length !== 2) ctx.fail('OrderedDict items must be pairs');
        d.set((pair as unknown[])[0], (pair as unknown[])[1]);
      }
    } else if (init !== undefined && init !== null) ctx.fail(`OrderedDict(${describeValue(init)})`);
    return d;
  });
  fn('_codecs.encode', (a, ctx) => encodeString(a[0], a[1], ctx, '_codecs.encode'));
  for (const mod of ['builtins', '__builtin__']) {
    fn(`${mod}.set`, setOf);
    fn(`${mod}.frozenset`, setOf);
    fn(`${mod}.bytearray`, (a, ctx) => {
      const [x, enc] = a;
      if (x === undefined) return new Uint8Array(0);
      if (x instanceof Uint8Array) return x.slice();
      return encodeString(x, enc, ctx, 'bytearray');
    });
  }
  return m;
}
