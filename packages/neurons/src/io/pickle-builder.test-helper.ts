/**
 * Test support: writes pickle opcodes and torch-style zip archives by hand, so the tests can make
 * well-formed, malformed and hostile checkpoints without Python.
 */
import { zipSync } from 'fflate';

const enc = new TextEncoder();

/** Emits pickle opcodes (byte values from Python's `pickletools`). */
export class PickleBuilder {
  private readonly out: number[] = [];

  raw(...bytes: number[]): this {
    return this.rawBytes(bytes);
  }
  rawBytes(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.out.push(bytes[i]!);
    return this;
  }
  private u32(n: number): this {
    return this.raw(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  private text(s: string): this {
    return this.rawBytes(enc.encode(s));
  }
  proto(n = 2): this {
    return this.raw(0x80, n);
  }
  mark(): this {
    return this.raw(0x28);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  none(): this {
    return this.raw(0x4e);
  }
  bool(b: boolean): this {
    return this.raw(b ? 0x88 : 0x89);
  }
  /** BININT1 / BININT2 / BININT, or LONG1 beyond int32. */
  int(n: number | bigint): this {
    if (typeof n === 'number' && Number.isInteger(n)) {
      if (n >= 0 && n < 256) return this.raw(0x4b, n);
      if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
      if (n >= -(2 ** 31) && n < 2 ** 31) return this.raw(0x4a).u32(n);
    }
    let v = BigInt(n);
    const bytes: number[] = [];
    for (;;) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
      const sign = bytes[bytes.length - 1]! & 0x80;
      if ((v === 0n && !sign) || (v === -1n && sign)) break;
    }
    return this.raw(0x8a, bytes.length, ...bytes);
  }
  float(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return this.raw(0x47, ...b);
  }
  /** BINUNICODE. */
  str(s: string): this {
    const b = enc.encode(s);
    return this.raw(0x58)
      .u32(b.length)
      .raw(...b);
  }
  /** GLOBAL `module name`. */
  global(module: string, name: string): this {
    return this.raw(0x63).text(`${module}\n${name}\n`);
  }
  /** STACK_GLOBAL with two SHORT_BINUNICODE strings. */
  stackGlobal(module: string, name: string): this {
    const m = enc.encode(module);
    const n = enc.encode(name);
    return this.raw(0x8c, m.length, ...m, 0x8c, n.length, ...n, 0x93);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  /** TUPLE (from the last MARK). */
  tuple(): this {
    return this.raw(0x74);
  }
  tuple1(): this {
    return this.raw(0x85);
  }
  tuple2(): this {
    return this.raw(0x86);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  emptyList(): this {
    return this.raw(0x5d);
  }
  setitem(): this {
    return this.raw(0x73);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  list(): this {
    return this.raw(0x6c);
  }
  pop(): this {
    return this.raw(0x30);
  }
  append(): this {
    return this.raw(0x61);
  }
  appends(): this {
    return this.raw(0x65);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  build(): this {
    return this.raw(0x62);
  }
  newobj(): this {
    return this.raw(0x81);
  }
  binpersid(): this {
    return this.raw(0x51);
  }
  binput(i: number): this {
    return this.raw(0x71, i);
  }
  binget(i: number): this {
    return this.raw(0x68, i);
  }
  /** A tuple of ints via MARK … TUPLE. */
  ints(values: readonly number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** One tensor of a hand-made state dict. */
export interface FakeTensor {
  name: string;
  storage:
    | 'FloatStorage'
    | 'LongStorage'
    | 'DoubleStorage'
    | 'HalfStorage'
    | 'BFloat16Storage'
    | 'IntStorage';
  key: string;
  numel: number;
  offset?: number;
  size: number[];
  stride?: number[];
}

function contiguous(size: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= size[i]!;
  }
  return s;
}

/**
 * Writes `torch._utils._rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset,
 * size, stride, False, OrderedDict())` for one tensor, as torch.save does (protocol 2).
 */
export function writeTensor(p: PickleBuilder, t: FakeTensor): PickleBuilder {
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.mark();
  p.mark().str('storage').global('torch', t.storage).str(t.key).str('cpu').int(t.numel).tuple();
  p.binpersid();
  p.int(t.offset ?? 0);
  p.ints(t.size);
  p.ints(t.stride ?? contiguous(t.size));
  p.bool(false);
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  p.tuple();
  return p.reduce();
}

/** Writes `OrderedDict` of the tensors, with `extra` key/value writers appended. */
export function writeStateDict(
  p: PickleBuilder,
  tensors: readonly FakeTensor[],
  extra: ((p: PickleBuilder) => void)[] = [],
): PickleBuilder {
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  p.mark();
  for (const t of tensors) {
    p.str(t.name);
    writeTensor(p, t);
  }
  for (const e of extra) e(p);
  return p.setitems();
}

/**
 * A torch.save-like zip: `<prefix>/data.pkl`, `<prefix>/data/<key>`, `<prefix>/version`.
 * `level` 0 stores the entries, higher levels deflate them.
 */
export function torchZip(
  prefix: string,
  pickle: Uint8Array,
  storages: Record<string, Uint8Array>,
  level: 0 | 6 = 0,
): Uint8Array {
  const files: Record<string, Uint8Array> = { [`${prefix}/data.pkl`]: pickle };
  for (const [k, v] of Object.entries(storages)) files[`${prefix}/data/${k}`] = v;
  files[`${prefix}/version`] = enc.encode('3\n');
  return zipSync(files, { level });
}

/** Little-endian bytes of float32 values. */
export const f32Bytes = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
/** Little-endian bytes of int64 values. */
export const i64Bytes = (values: (number | bigint)[]): Uint8Array =>
  new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
