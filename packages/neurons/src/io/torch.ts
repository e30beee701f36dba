/**
 * A safe reader of PyTorch checkpoints in the zip format of `torch.save` (torch ≥ 1.6).
 *
 * The archive holds `<prefix>/data.pkl` (a pickle of the saved object), `<prefix>/data/<key>` (raw
 * little-endian storages, referenced from the pickle by persistent ids) and `<prefix>/version`.
 * The pickle runs on {@link unpickle}, which executes no code: only the torch rebuild functions,
 * storage classes and a few pure data constructors listed in {@link TORCH_PICKLE_ALLOWLIST} are
 * interpreted, by our own code. Everything else stays an inert placeholder.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../core/errors';
import { formatShape } from '../core/shape';
import {
  bfloat16ToFloat32,
  halfToFloat32,
  int64BytesToInt32,
  littleEndianBytes,
  type NumericArray,
  type NumericArrayConstructor,
  viewLittleEndian,
} from './binary';
import {
  describeValue,
  PickleBuiltin,
  type PickleContext,
  PickleGlobal,
  PickleObject,
  pythonDataGlobals,
  unpickle,
} from './pickle';
import type { DecodedValues } from './safetensors';
import { isZip, type ZipArchive, readZip } from './zip';

/** The tensor dtypes a torch checkpoint can hold that this reader understands. */
export type TorchDtype =
  | 'float64'
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** The typed array holding a {@link TorchTensorRef}'s values, by dtype. */
export type TorchValues = NumericArray;

const DTYPE_CTOR: Record<TorchDtype, NumericArrayConstructor> = {
  float64: Float64Array,
  float32: Float32Array,
  float16: Uint16Array, // raw half bit patterns
  bfloat16: Uint16Array, // raw bfloat16 bit patterns
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** Bytes per element of each torch dtype. */
export function torchDtypeSize(dtype: TorchDtype): number {
  return DTYPE_CTOR[dtype].BYTES_PER_ELEMENT;
}

/** A torch storage class named in a persistent id (`torch.FloatStorage`, …). Not callable. */
export class TorchStorageType {
  constructor(
    readonly qualifiedName: string,
    readonly dtype: TorchDtype,
    /** `torch.UntypedStorage`: raw bytes whose dtype the tensor gives. */
    readonly untyped = false,
  ) {}
}

/** A torch dtype constant (`torch.float32`, …), as pickled for `_rebuild_tensor_v3`. */
export class TorchDtypeConstant {
  constructor(
    readonly qualifiedName: string,
    readonly dtype: TorchDtype,
  ) {}
}

/** One storage of the archive: `<prefix>/data/<key>`. */
export class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly location: string,
    /** Elements (bytes for untyped storages), as the persistent id says. */
    readonly numel: number,
    /** The raw little-endian bytes (a view into the archive for stored entries). */
    readonly bytes: Uint8Array,
    readonly untyped: boolean,
  ) {}
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/**
 * A tensor of a torch pickle, not yet a tfjs tensor: a view (`storageOffset`, `shape`, `stride`,
 * in elements) of a {@link TorchStorage}. {@link values} gathers it into a fresh row-major typed
 * array in the tensor's own dtype (half and bfloat16 as `Uint16Array` bit patterns, int64 as
 * `BigInt64Array`). Holds no tfjs memory.
 */
export class TorchTensorRef {
  private _values: TorchValues | null = null;
  /** `requires_grad` as saved (true for `nn.Parameter`s pickled as such). */
  requiresGrad = false;
  /** The state of `_rebuild_parameter_with_state`, or the subclass of `_rebuild_from_type_v2`. */
  extra: unknown = undefined;

  constructor(
    readonly storage: TorchStorage,
    readonly dtype: TorchDtype,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Whether the view is row-major contiguous (dimensions of size 1 may have any stride). */
  get isContiguous(): boolean {
    const c = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d <= 1 || this.stride[i] === c[i]);
  }

  /** The values in row-major order (computed once, then cached; a fresh array, not a view). */
  get values(): TorchValues {
    if (this._values) return this._values;
    const ctor = DTYPE_CTOR[this.dtype];
    const n = this.size;
    const itemsize = ctor.BYTES_PER_ELEMENT;
    const usable = this.storage.bytes.subarray(
      0,
      Math.floor(this.storage.bytes.length / itemsize) * itemsize,
    );
    const all: NumericArray = viewLittleEndian(usable, ctor);
    if (this.isContiguous) {
      this._values = all.slice(this.storageOffset, this.storageOffset + n) as TorchValues;
      return this._values;
    }
    const out = new ctor(n) as NumericArray & { [i: number]: number | bigint };
    const src = all as unknown as { [i: number]: number | bigint };
    const rank = this.shape.length;
    const idx = new Array<number>(rank).fill(0);
    let p = this.storageOffset;
    for (let i = 0; i < n; i++) {
      out[i] = src[p]!;
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]!++;
        p += this.stride[d]!;
        if (idx[d]! < this.shape[d]!) break;
        p -= this.stride[d]! * this.shape[d]!;
        idx[d] = 0;
      }
    }
    this._values = out;
    return out;
  }

  toString(): string {
    return `TorchTensorRef(${this.dtype}, ${formatShape(this.shape)})`;
  }
}

// ---------------------------------------------------------------- the allowlist

const STORAGE_TYPES: [string, TorchDtype][] = [
  ['DoubleStorage', 'float64'],
  ['FloatStorage', 'float32'],
  ['HalfStorage', 'float16'],
  ['BFloat16Storage', 'bfloat16'],
  ['LongStorage', 'int64'],
  ['IntStorage', 'int32'],
  ['ShortStorage', 'int16'],
  ['CharStorage', 'int8'],
  ['ByteStorage', 'uint8'],
  ['BoolStorage', 'bool'],
];

const DTYPE_NAMES: [string, TorchDtype][] = [
  ['float64', 'float64'],
  ['double', 'float64'],
  ['float32', 'float32'],
  ['float', 'float32'],
  ['float16', 'float16'],
  ['half', 'float16'],
  ['bfloat16', 'bfloat16'],
  ['int64', 'int64'],
  ['long', 'int64'],
  ['int32', 'int32'],
  ['int', 'int32'],
  ['int16', 'int16'],
  ['short', 'int16'],
  ['int8', 'int8'],
  ['uint8', 'uint8'],
  ['bool', 'bool'],
];

function asInt(ctx: PickleContext, v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    ctx.fail(`${what} must be a non-negative integer, got ${describeValue(v)}`);
  }
  return v as number;
}

function asInts(ctx: PickleContext, v: unknown, what: string): number[] {
  if (!Array.isArray(v)) ctx.fail(`${what} must be a tuple of integers, got ${describeValue(v)}`);
  return (v as unknown[]).map((x, i) => asInt(ctx, x, `${what}[${i}]`));
}

function rebuildTensor(
  fn: string,
  ctx: PickleContext,
  storage: unknown,
  offset: unknown,
  size: unknown,
  stride: unknown,
  dtypeOverride?: TorchDtype,
): TorchTensorRef {
  if (!(storage instanceof TorchStorage)) {
    ctx.fail(`${fn} expects a storage, got ${describeValue(storage)}`);
  }
  const st = storage as TorchStorage;
  const o = asInt(ctx, offset, `${fn} storage offset`);
  const shape = asInts(ctx, size, `${fn} size`);
  const strides = asInts(ctx, stride, `${fn} stride`);
  if (strides.length !== shape.length) {
    ctx.fail(`${fn}: size ${formatShape(shape)} and stride ${formatShape(strides)} differ in rank`);
  }
  const dtype = dtypeOverride ?? st.dtype;
  if (!st.untyped && dtypeOverride && dtypeOverride !== st.dtype) {
    ctx.fail(`${fn}: dtype ${dtypeOverride} does not match storage '${st.key}' of ${st.dtype}`);
  }
  const itemsize = torchDtypeSize(dtype);
  const available = Math.floor(st.bytes.length / itemsize);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > 0) {
    let last = o;
    for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * strides[i]!;
    if (last >= available) {
      ctx.fail(
        `${fn}: view (offset ${o}, size ${formatShape(shape)}, stride ${formatShape(strides)}) reaches element ${last}, but storage '${st.key}' has ${available} ${dtype} element(s)`,
      );
    }
  }
  return new TorchTensorRef(st, dtype, o, shape, strides);
}

function asTensorRef(ctx: PickleContext, v: unknown, fn: string): TorchTensorRef {
  if (!(v instanceof TorchTensorRef)) ctx.fail(`${fn} expects a tensor, got ${describeValue(v)}`);
  return v as TorchTensorRef;
}

function makeAllowlist(): Map<string, unknown> {
  const m = new Map<string, unknown>(pythonDataGlobals());
  const fn = (name: string, call: (args: readonly unknown[], ctx: PickleContext) => unknown) =>
    m.set(name, new PickleBuiltin(name, call));

  fn('torch._utils._rebuild_tensor', (a, ctx) =>
    rebuildTensor('_rebuild_tensor', ctx, a[0], a[1], a[2], a[3]),
  );
  fn('torch._utils._rebuild_tensor_v2', (a, ctx) => {
    const t = rebuildTensor('_rebuild_tensor_v2', ctx, a[0], a[1], a[2], a[3]);
    t.requiresGrad = a[4] === true;
    return t;
  });
  fn('torch._utils._rebuild_tensor_v3', (a, ctx) => {
    const dt = a[6];
    if (!(dt instanceof TorchDtypeConstant))
      ctx.fail(`_rebuild_tensor_v3 expects a dtype, got ${describeValue(dt)}`);
    const t = rebuildTensor(
      '_rebuild_tensor_v3',
      ctx,
      a[0],
      a[1],
      a[2],
      a[3],
      (dt as TorchDtypeConstant).dtype,
    );
    t.requiresGrad = a[4] === true;
    return t;
  });
  fn('torch._utils._rebuild_parameter', (a, ctx) => {
    const t = asTensorRef(ctx, a[0], '_rebuild_parameter');
    t.requiresGrad = a[1] === true;
    return t;
  });
  fn('torch._utils._rebuild_parameter_with_state', (a, ctx) => {
    const t = asTensorRef(ctx, a[0], '_rebuild_parameter_with_state');
    t.requiresGrad = a[1] === true;
    t.extra = a[3];
    return t;
  });
  fn('torch._tensor._rebuild_from_type_v2', (a, ctx) => {
    const [func, newType, args] = a;
    if (!(func instanceof PickleBuiltin)) {
      // the rebuild function is not ours to call: stay inert
      return new PickleObject(new PickleGlobal('torch._tensor', '_rebuild_from_type_v2'), a, 'reduce');
    }
    const out = func.call(
      Array.isArray(args) ? args : ctx.fail('_rebuild_from_type_v2 args must be a tuple'),
      ctx,
    );
    if (out instanceof TorchTensorRef) out.extra = newType;
    return out;
  });
  for (const [name, dtype] of STORAGE_TYPES)
    m.set(`torch.${name}`, new TorchStorageType(`torch.${name}`, dtype));
  m.set('torch.UntypedStorage', new TorchStorageType('torch.UntypedStorage', 'uint8', true));
  m.set('torch.storage.UntypedStorage', new TorchStorageType('torch.storage.UntypedStorage', 'uint8', true));
  for (const [name, dtype] of DTYPE_NAMES)
    m.set(`torch.${name}`, new TorchDtypeConstant(`torch.${name}`, dtype));
  fn('torch.Size', (a, ctx) => Object.freeze(asInts(ctx, a[0], 'torch.Size')));

  return m;
}

const ALLOWLIST = makeAllowlist();

/**
 * Every global the torch reader resolves. These are interpreted by our own code as pure data
 * constructors; any other global in a pickle stays an inert placeholder and is never called.
 */
export const TORCH_PICKLE_ALLOWLIST: readonly string[] = Object.freeze([...ALLOWLIST.keys()]);

// ---------------------------------------------------------------- archive level

const LEGACY_MAGIC = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** Whether `bytes` are a legacy (pre-1.6, non-zip) `torch.save` file: a pickled magic number. */
export function isLegacyTorchFile(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 48);
  outer: for (let i = 0; i + LEGACY_MAGIC.length <= head.length; i++) {
    for (let j = 0; j < LEGACY_MAGIC.length; j++) if (head[i + j] !== LEGACY_MAGIC[j]) continue outer;
    return bytes[0] === 0x80;
  }
  return false;
}

/** Whether `bytes` are a tar archive (the oldest torch format). */
export function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar';
}

function hexHead(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Options of {@link readTorchPickle}. */
export interface TorchPickleOptions {
  /** File name for error messages. */
  source?: string;
  /**
   * What to do with globals outside {@link TORCH_PICKLE_ALLOWLIST}: `'placeholder'` (default)
   * keeps them as inert placeholders, `'error'` rejects the file at the first one.
   */
  unknownGlobals?: 'placeholder' | 'error';
  /** Check CRC-32 of every entry read (default true). */
  verifyCrc?: boolean;
}

/** The result of {@link readTorchPickle}. */
export interface TorchPickle {
  /**
   * The unpickled object: dicts as `Map`, lists as arrays, tuples as frozen arrays, tensors as
   * {@link TorchTensorRef}, unknown classes and functions as inert placeholders.
   */
  root: unknown;
  /** The archive prefix (`model.pth/` for `model.pth.tar`), with its slash. */
  prefix: string;
  /** Every global the pickle names. */
  globals: string[];
  /** The pickle protocol. */
  protocol: number;
  /** The archive, for reading other entries. */
  archive: ZipArchive;
}

function where(source: string | undefined): string {
  return source ? `torch checkpoint '${source}'` : 'torch checkpoint';
}

/** Throws the right {@link CheckpointError} when `bytes` are not a zip archive. */
function assertZip(bytes: Uint8Array, file: string): void {
  if (!(bytes instanceof Uint8Array))
    throw new CheckpointError(`${file}: expected a Uint8Array, got ${typeof bytes}`);
  if (isZip(bytes)) return;
  if (isLegacyTorchFile(bytes)) {
    throw new CheckpointError(
      `${file}: this is the legacy (pre-1.6, non-zip) torch.save format, which is not supported; re-save it with torch ≥ 1.6 (torch.save(torch.load(f), g)) or convert it to safetensors`,
    );
  }
  if (isTar(bytes)) {
    throw new CheckpointError(
      `${file}: this is a tar archive (the oldest torch.save format), which is not supported`,
    );
  }
  throw new CheckpointError(
    `${file}: not a zip archive (first bytes ${hexHead(bytes)}); expected a torch.save file of torch ≥ 1.6`,
  );
}

/**
 * Reads the whole object of a `torch.save` zip archive without running any pickle code (see the
 * module docs). Tensors are {@link TorchTensorRef}s (no tfjs memory is used).
 */
export function readTorchPickle(bytes: Uint8Array, opts: TorchPickleOptions = {}): TorchPickle {
  const file = where(opts.source);
  assertZip(bytes, file);
  const archive = readZip(bytes, {
    ...(opts.source ? { source: opts.source } : {}),
    verifyCrc: opts.verifyCrc ?? true,
  });
  const pkls = archive.names().filter((n) => /^(?:[^/]+\/)?data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw new CheckpointError(
      `${file}: expected one '<prefix>/data.pkl' entry, found ${pkls.length ? pkls.join(', ') : 'none'} (entries: ${archive.names().slice(0, 8).join(', ')}${archive.entries.size > 8 ? ', …' : ''})`,
    );
  }
  const pkl = pkls[0]!;
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  if (archive.has(`${prefix}constants.pkl`) || archive.names().some((n) => n.startsWith(`${prefix}code/`))) {
    throw new CheckpointError(
      `${file}: this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint`,
    );
  }
  if (archive.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(archive.read(`${prefix}byteorder`)).trim();
    if (order !== 'little') throw new CheckpointError(`${file}: byte order '${order}' is not supported`);
  }
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown, ctx: PickleContext): unknown => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length !== 5) {
      return ctx.fail(
        `unsupported persistent id ${describeValue(pid)} (expected ('storage', type, key, location, numel))`,
      );
    }
    const [, type, key, location, numel] = pid as unknown[];
    if (!(type instanceof TorchStorageType)) {
      const name = type instanceof PickleGlobal ? `global ${type.qualifiedName}` : describeValue(type);
      return ctx.fail(`persistent id names ${name} as storage type, which is not a torch storage class`);
    }
    if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key)) {
      return ctx.fail(`invalid storage key ${describeValue(key)}`);
    }
    const n = asInt(ctx, numel, `storage '${key}' numel`);
    const cached = storages.get(key);
    if (cached) {
      if (cached.dtype !== type.dtype) {
        ctx.fail(`storage '${key}' is used as ${cached.dtype} and as ${type.dtype}`);
      }
      return cached;
    }
    const entry = `${prefix}data/${key}`;
    if (!archive.has(entry)) return ctx.fail(`storage entry '${entry}' is missing from the archive`);
    const data = archive.read(entry);
    const need = n * torchDtypeSize(type.dtype);
    if (data.length < need) {
      ctx.fail(
        `storage entry '${entry}' has ${data.length} bytes, but ${n} ${type.dtype} element(s) need ${need}`,
      );
    }
    const st = new TorchStorage(key, type.dtype, String(location), n, data, type.untyped);
    storages.set(key, st);
    return st;
  };
  const result = unpickle(archive.read(pkl), {
    source: opts.source ? `${opts.source}:${pkl}` : pkl,
    globals: ALLOWLIST,
    unknownGlobals: opts.unknownGlobals ?? 'placeholder',
    persistentLoad,
  });
  return { root: result.value, prefix, globals: result.globals, protocol: result.protocol, archive };
}

/**
 * Converts a {@link TorchTensorRef}'s values to what tfjs can hold: float64/16/bfloat16 →
 * float32, int64/16/8 and uint8 → int32 (int64 outside int32 is a {@link CheckpointError} naming
 * `what`), bool → bool.
 */
export function torchValuesForTf(ref: TorchTensorRef, what = 'tensor'): DecodedValues {
  const v = ref.values;
  switch (ref.dtype) {
    case 'float32':
      return { dtype: 'float32', values: v as Float32Array };
    case 'float64':
      return { dtype: 'float32', values: Float32Array.from(v as Float64Array) };
    case 'float16':
      return { dtype: 'float32', values: halfToFloat32(v as Uint16Array) };
    case 'bfloat16':
      return { dtype: 'float32', values: bfloat16ToFloat32(v as Uint16Array) };
    case 'int64':
      return { dtype: 'int32', values: int64BytesToInt32(littleEndianBytes(v), what) };
    case 'int32':
      return { dtype: 'int32', values: v as Int32Array };
    case 'int16':
    case 'int8':
    case 'uint8':
      return { dtype: 'int32', values: Int32Array.from(v as Int16Array) };
    case 'bool':
      return { dtype: 'bool', values: v as Uint8Array };
    default:
      throw new CheckpointError(`${what}: unsupported dtype ${ref.dtype as string}`);
  }
}

/** A tfjs tensor (owned by the caller) with the values of a {@link TorchTensorRef}. */
export function torchRefToTensor(ref: TorchTensorRef, what = 'tensor'): tf.Tensor {
  const d = torchValuesForTf(ref, what);
  return tf.tensor(d.values, [...ref.shape], d.dtype);
}

/** Options of {@link readTorchCheckpoint}. */
export interface TorchCheckpointOptions extends TorchPickleOptions {
  /**
   * Where the state dict is: a top-level key (`'net'`), a path of keys (`['model', 'ema']`), or
   * `null` for the top-level dict itself. By default: the first of `net`, `state_dict`, `model`
   * that the top-level dict has, else the top-level dict.
   */
  stateDictKey?: string | readonly string[] | null;
}

/** The result of {@link readTorchCheckpoint}. */
export interface TorchCheckpoint {
  /** The state dict as float32/int32 tensors in torch layout; the caller owns them. */
  tensors: Map<string, tf.Tensor>;
  /** The key path the state dict was found at (`[]` for the top level). */
  stateDictPath: string[];
  /** The whole unpickled object (see {@link readTorchPickle}), e.g. for `epoch` or the optimizer. */
  root: unknown;
  /** Every global the pickle names. */
  globals: string[];
}

const DEFAULT_KEYS = ['net', 'state_dict', 'model'];

function showPath(path: readonly string[]): string {
  return path.length ? path.map((p) => `'${p}'`).join(' → ') : 'the top-level object';
}

/**
 * Finds the state dict in an unpickled torch object (see {@link TorchCheckpointOptions}) and
 * checks that it maps strings to tensors. Placeholders where tensors are expected (a hostile
 * `os.system` REDUCE, an unknown tensor subclass) are {@link CheckpointError}s.
 */
export function findStateDict(
  root: unknown,
  opts: { stateDictKey?: string | readonly string[] | null; source?: string } = {},
): { path: string[]; dict: Map<string, TorchTensorRef> } {
  const file = where(opts.source);
  let path: string[];
  if (opts.stateDictKey === null) path = [];
  else if (typeof opts.stateDictKey === 'string') path = [opts.stateDictKey];
  else if (Array.isArray(opts.stateDictKey)) path = [...opts.stateDictKey];
  else {
    const k = root instanceof Map ? DEFAULT_KEYS.find((key) => root.has(key)) : undefined;
    path = k ? [k] : [];
  }
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (!(node instanceof Map)) {
      throw new CheckpointError(
        `${file}: ${showPath(path.slice(0, i))} is ${describeValue(node)}, not a dict`,
      );
    }
    if (!node.has(path[i])) {
      const keys = [...node.keys()].map(String);
      throw new CheckpointError(
        `${file}: no key '${path[i]}' in ${showPath(path.slice(0, i))} (keys: ${keys.slice(0, 12).join(', ')}${keys.length > 12 ? ', …' : ''})`,
      );
    }
    node = node.get(path[i]);
  }
  if (!(node instanceof Map)) {
    const hint =
      node instanceof PickleObject || node instanceof PickleGlobal ? '; no pickle code was run' : '';
    throw new CheckpointError(
      `${file}: the state dict at ${showPath(path)} is ${describeValue(node)}, not a dict of tensors${hint}`,
    );
  }
  const bad: string[] = [];
  let placeholders = false;
  for (const [k, v] of node) {
    if (typeof k !== 'string') bad.push(`key ${describeValue(k)} is not a string`);
    else if (!(v instanceof TorchTensorRef)) {
      if (v instanceof PickleObject || v instanceof PickleGlobal) placeholders = true;
      bad.push(`'${k}' is ${describeValue(v)}`);
    }
  }
  if (bad.length) {
    throw new CheckpointError(
      `${file}: the state dict at ${showPath(path)} must map names to tensors, but ${bad.length} entr${bad.length === 1 ? 'y does' : 'ies do'} not: ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? '; …' : ''}${placeholders ? ' (inert placeholders of classes or functions outside the allowlist; no pickle code was run)' : ''}`,
    );
  }
  return { path, dict: node as Map<string, TorchTensorRef> };
}

/**
 * Reads the state dict of a `torch.save` zip checkpoint as tfjs tensors (float32 or int32, in
 * torch layout: pass them to `module.loadStateDict`, which transposes). No pickle code runs.
 * The tensors belong to the caller.
 */
export function readTorchCheckpoint(bytes: Uint8Array, opts: TorchCheckpointOptions = {}): TorchCheckpoint {
  const file = where(opts.source);
  const pickle = readTorchPickle(bytes, opts);
  const { path, dict } = findStateDict(pickle.root, opts);
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const [k, ref] of dict) tensors.set(k, torchRefToTensor(ref, `${file}: tensor '${k}'`));
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, stateDictPath: path, root: pickle.root, globals: pickle.globals };
}
