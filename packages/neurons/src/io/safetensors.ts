/**
 * safetensors reading and writing on plain bytes (browser-safe).
 *
 * Format: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}}`, offsets
 * relative to the data section), then the raw little-endian data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ConfigError } from '../core/errors';
import {
  bfloat16ToFloat32,
  copyLittleEndian,
  float32ToBfloat16,
  float32ToHalf,
  halfToFloat32,
  int64BytesToInt32,
  littleEndianBytes,
} from './binary';

/** The safetensors dtypes this package reads and writes. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each dtype. */
export const SAFETENSORS_DTYPE_SIZE: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const DTYPES = new Set(Object.keys(SAFETENSORS_DTYPE_SIZE));

/** One tensor of a parsed file, not yet decoded. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** The raw little-endian data: a view into the parsed bytes (no copy). */
  bytes: Uint8Array;
}

/** The result of {@link parseSafetensors}. */
export interface ParsedSafetensors {
  /** Entries in header order. */
  tensors: Map<string, SafetensorsEntry>;
  /** The `__metadata__` string pairs (empty when absent). */
  metadata: Record<string, string>;
  /** Length of the JSON header in bytes. */
  headerLength: number;
}

/** Options naming the file in error messages. */
export interface SourceOptions {
  /** A file name or URL, quoted in every error message. */
  source?: string;
}

/** Decoded values: floats become float32, integers int32 (tfjs has neither int64 nor uint8). */
export type DecodedValues =
  | { dtype: 'float32'; values: Float32Array }
  | { dtype: 'int32'; values: Int32Array }
  | { dtype: 'bool'; values: Uint8Array };

/** Upper bound on the JSON header (the reference implementation uses 100 MB too). */
const MAX_HEADER = 100_000_000;

function where(source: string | undefined): string {
  return source ? `safetensors '${source}'` : 'safetensors data';
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Parses and validates a safetensors file without decoding any tensor. Checks the header length,
 * the JSON, every dtype and shape, that offsets lie inside the data section, that no two tensors
 * overlap, and that each byte length equals shape × dtype size. Every failure is a
 * {@link CheckpointError} naming the file (`source`) and the tensor.
 */
export function parseSafetensors(bytes: Uint8Array, opts: SourceOptions = {}): ParsedSafetensors {
  const file = where(opts.source);
  if (!(bytes instanceof Uint8Array)) {
    throw new CheckpointError(`${file}: expected a Uint8Array, got ${typeof bytes}`);
  }
  if (bytes.length < 8) {
    throw new CheckpointError(`${file}: ${bytes.length} bytes is too short for the 8-byte header length`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const headerLength = hi * 2 ** 32 + lo;
  if (headerLength > bytes.length - 8 || headerLength > MAX_HEADER) {
    throw new CheckpointError(
      `${file}: header length ${headerLength} exceeds the ${bytes.length - 8} bytes after the length field (truncated or not a safetensors file)`,
    );
  }
  if (headerLength < 2) throw new CheckpointError(`${file}: header length ${headerLength} is too short`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new CheckpointError(`${file}: header is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${file}: header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new CheckpointError(`${file}: header must be a JSON object, got ${JSON.stringify(header)}`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, SafetensorsEntry>();
  const metadata: Record<string, string> = {};
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new CheckpointError(`${file}: __metadata__ must be an object of strings`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw new CheckpointError(
            `${file}: __metadata__['${k}'] must be a string, got ${JSON.stringify(v)}`,
          );
        }
        Object.defineProperty(metadata, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    const t = `${file}: tensor '${name}'`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new CheckpointError(`${t}: header entry must be an object, got ${JSON.stringify(raw)}`);
    }
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !DTYPES.has(dtype)) {
      throw new CheckpointError(
        `${t}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${[...DTYPES].join(', ')})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new CheckpointError(
        `${t}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new CheckpointError(
        `${t}: data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      throw new CheckpointError(
        `${t}: data_offsets [${begin}, ${end}] lie outside the data section of ${dataLength} bytes`,
      );
    }
    const d = dtype as SafetensorsDtype;
    const expected = numel(shape as number[]) * SAFETENSORS_DTYPE_SIZE[d];
    if (expected !== end - begin) {
      throw new CheckpointError(
        `${t}: shape [${(shape as number[]).join(', ')}] of ${d} needs ${expected} bytes, data_offsets give ${end - begin}`,
      );
    }
    tensors.set(name, {
      dtype: d,
      shape: [...(shape as number[])],
      bytes: bytes.subarray(dataStart + begin, dataStart + end),
    });
    if (end > begin) ranges.push({ name, begin, end });
  }
  ranges.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    const cur = ranges[i]!;
    if (cur.begin < prev.end) {
      throw new CheckpointError(
        `${file}: tensor '${cur.name}' (bytes ${cur.begin}..${cur.end}) overlaps tensor '${prev.name}' (bytes ${prev.begin}..${prev.end})`,
      );
    }
  }
  return { tensors, metadata, headerLength };
}

/**
 * Decodes one entry to values tfjs can hold: F64/F32/F16/BF16 to float32, I64/I32/I16/I8/U8 to
 * int32 (I64 throws a {@link CheckpointError} for a value outside int32), BOOL to bool. The
 * result is a fresh copy.
 */
export function decodeSafetensor(
  entry: SafetensorsEntry,
  opts: SourceOptions & { name?: string } = {},
): DecodedValues {
  const what = `${where(opts.source)}: tensor '${opts.name ?? '?'}'`;
  const b = entry.bytes;
  switch (entry.dtype) {
    case 'F32':
      return { dtype: 'float32', values: copyLittleEndian(b, Float32Array) };
    case 'F64':
      return { dtype: 'float32', values: Float32Array.from(copyLittleEndian(b, Float64Array)) };
    case 'F16':
      return { dtype: 'float32', values: halfToFloat32(copyLittleEndian(b, Uint16Array)) };
    case 'BF16':
      return { dtype: 'float32', values: bfloat16ToFloat32(copyLittleEndian(b, Uint16Array)) };
    case 'I64':
      return { dtype: 'int32', values: int64BytesToInt32(b, what) };
    case 'I32':
      return { dtype: 'int32', values: copyLittleEndian(b, Int32Array) };
    case 'I16':
      return { dtype: 'int32', values: Int32Array.from(copyLittleEndian(b, Int16Array)) };
    case 'I8':
      return { dtype: 'int32', values: Int32Array.from(new Int8Array(b.buffer, b.byteOffset, b.length)) };
    case 'U8':
      return { dtype: 'int32', values: Int32Array.from(b) };
    case 'BOOL':
      return { dtype: 'bool', values: Uint8Array.from(b, (v) => (v ? 1 : 0)) };
    default:
      throw new CheckpointError(`${what}: unsupported dtype ${entry.dtype as string}`);
  }
}

/** The result of {@link readSafetensors}. */
export interface SafetensorsContents {
  /** The tensors in header order; the caller owns (and disposes) them. */
  tensors: Map<string, tf.Tensor>;
  /** The `__metadata__` string pairs. */
  metadata: Record<string, string>;
}

/**
 * Reads a safetensors file into tfjs tensors (float32, int32 or bool, see
 * {@link decodeSafetensor}). The tensors belong to the caller. `filter` keeps only the named
 * tensors (the others are validated but never decoded).
 */
export function readSafetensors(
  bytes: Uint8Array,
  opts: SourceOptions & { filter?: (name: string) => boolean } = {},
): SafetensorsContents {
  const parsed = parseSafetensors(bytes, opts);
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const [name, entry] of parsed.tensors) {
      if (opts.filter && !opts.filter(name)) continue;
      const d = decodeSafetensor(entry, { ...opts, name });
      tensors.set(name, tf.tensor(d.values, entry.shape, d.dtype));
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata: parsed.metadata };
}

/** A tensor to encode: its values as numbers (or bigints for I64) in row-major order. */
export interface EncodableTensor {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  values: ArrayLike<number> | BigInt64Array;
}

const INT_RANGE: Partial<Record<SafetensorsDtype, [number, number]>> = {
  I32: [-(2 ** 31), 2 ** 31 - 1],
  I16: [-(2 ** 15), 2 ** 15 - 1],
  I8: [-128, 127],
  U8: [0, 255],
  BOOL: [0, 1],
};

function encodeValues(t: EncodableTensor, what: string): Uint8Array {
  const { dtype, values } = t;
  if (values instanceof BigInt64Array) {
    if (dtype !== 'I64')
      throw new CheckpointError(`${what}: bigint values can only be written as I64, not ${dtype}`);
    return littleEndianBytes(values);
  }
  switch (dtype) {
    case 'F32':
      return littleEndianBytes(Float32Array.from(values));
    case 'F64':
      return littleEndianBytes(Float64Array.from(values));
    case 'F16':
      return littleEndianBytes(float32ToHalf(values));
    case 'BF16':
      return littleEndianBytes(float32ToBfloat16(values));
    default:
      break;
  }
  // integer dtypes: every value must be an integer in range
  const range = INT_RANGE[dtype];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || (range && (v < range[0] || v > range[1]))) {
      throw new CheckpointError(
        `${what}: value ${v} at index ${i} cannot be written as ${dtype}${range ? ` (range ${range[0]}..${range[1]})` : ' (not an integer)'}`,
      );
    }
  }
  switch (dtype) {
    case 'I64': {
      const out = new BigInt64Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]!);
      return littleEndianBytes(out);
    }
    case 'I32':
      return littleEndianBytes(Int32Array.from(values));
    case 'I16':
      return littleEndianBytes(Int16Array.from(values));
    case 'I8':
      return littleEndianBytes(Int8Array.from(values));
    case 'U8':
    case 'BOOL':
      return Uint8Array.from(values);
    default:
      throw new ConfigError(`${what}: unknown safetensors dtype '${dtype as string}'`);
  }
}

/**
 * Encodes tensors given as plain values into safetensors bytes. The header lists the tensors in
 * the map's order; the data is laid out by decreasing element size so that each tensor is aligned
 * to its element size. `metadata` becomes `__metadata__`.
 */
export function encodeSafetensors(
  tensors: Map<string, EncodableTensor>,
  opts: { metadata?: Record<string, string> } = {},
): Uint8Array {
  const encoded = new Map<string, { t: EncodableTensor; data: Uint8Array }>();
  for (const [name, t] of tensors) {
    const what = `writeSafetensors: tensor '${name}'`;
    if (name === '__metadata__') throw new ConfigError(`${what}: the name is reserved`);
    if (!DTYPES.has(t.dtype)) throw new ConfigError(`${what}: unknown safetensors dtype '${t.dtype}'`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ConfigError(`${what}: invalid shape [${t.shape.join(', ')}]`);
    }
    if (numel(t.shape) !== t.values.length) {
      throw new ConfigError(
        `${what}: shape [${t.shape.join(', ')}] needs ${numel(t.shape)} values, got ${t.values.length}`,
      );
    }
    encoded.set(name, { t, data: encodeValues(t, what) });
  }
  const order = [...encoded.keys()].sort(
    (a, b) =>
      SAFETENSORS_DTYPE_SIZE[encoded.get(b)!.t.dtype] - SAFETENSORS_DTYPE_SIZE[encoded.get(a)!.t.dtype],
  );
  const offsets = new Map<string, [number, number]>();
  let pos = 0;
  for (const name of order) {
    const len = encoded.get(name)!.data.length;
    offsets.set(name, [pos, pos + len]);
    pos += len;
  }
  const header: Record<string, unknown> = {};
  if (opts.metadata) {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.metadata)) {
      if (typeof v !== 'string') throw new ConfigError(`writeSafetensors: metadata '${k}' must be a string`);
      meta[k] = v;
    }
    header.__metadata__ = meta;
  }
  for (const [name, { t }] of encoded) {
    Object.defineProperty(header, name, {
      value: { dtype: t.dtype, shape: [...t.shape], data_offsets: offsets.get(name) },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + pos);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, json.length % 2 ** 32, true);
  dv.setUint32(4, Math.floor(json.length / 2 ** 32), true);
  out.set(json, 8);
  for (const [name, { data }] of encoded) out.set(data, 8 + json.length + offsets.get(name)![0]);
  return out;
}

const DEFAULT_DTYPE: Record<string, SafetensorsDtype | undefined> = {
  float32: 'F32',
  int32: 'I32',
  bool: 'BOOL',
};

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** `__metadata__` string pairs. */
  metadata?: Record<string, string>;
  /**
   * The dtype to write per tensor name, where it differs from the default (float32 → F32,
   * int32 → I32, bool → BOOL). E.g. `I64` for torch's `num_batches_tracked`, `F16` to halve the
   * size. Integer dtypes require integer values in range.
   */
  dtypes?: Map<string, SafetensorsDtype> | Record<string, SafetensorsDtype>;
}

/**
 * Writes tfjs tensors as safetensors bytes. Async because it reads the tensors' values
 * (`tensor.data()`); the tensors stay the caller's.
 */
export async function writeSafetensors(
  tensors: Map<string, tf.Tensor> | Record<string, tf.Tensor>,
  opts: WriteSafetensorsOptions = {},
): Promise<Uint8Array> {
  const input = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const dtypes = opts.dtypes instanceof Map ? opts.dtypes : new Map(Object.entries(opts.dtypes ?? {}));
  for (const k of dtypes.keys()) {
    if (!input.has(k))
      throw new ConfigError(`writeSafetensors: dtypes names '${k}', which is not among the tensors`);
  }
  const entries = new Map<string, EncodableTensor>();
  for (const [name, t] of input) {
    if (!(t instanceof tf.Tensor)) throw new ConfigError(`writeSafetensors: '${name}' is not a tf.Tensor`);
    if (t.isDisposed) throw new ConfigError(`writeSafetensors: tensor '${name}' is disposed`);
    const dtype = dtypes.get(name) ?? DEFAULT_DTYPE[t.dtype];
    if (!dtype)
      throw new ConfigError(
        `writeSafetensors: tensor '${name}' has dtype ${t.dtype}, which safetensors cannot hold`,
      );
    entries.set(name, { dtype, shape: t.shape, values: (await t.data()) as ArrayLike<number> });
  }
  return encodeSafetensors(entries, opts.metadata ? { metadata: opts.metadata } : {});
}
