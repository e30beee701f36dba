/**
 * Byte-level helpers shared by the weight readers and writers: typed views of little-endian
 * bytes, half and bfloat16 conversion, int64 narrowing, CRC-32. Browser-safe.
 */
import { CheckpointError } from '../core/errors';

/** Whether this machine stores numbers little-endian (every supported platform does). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Any typed array the readers hand out. */
export type NumericArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint16Array
  | Uint8Array
  | BigInt64Array;

/** The constructor of a {@link NumericArray}. */
export type NumericArrayConstructor =
  | Float64ArrayConstructor
  | Float32ArrayConstructor
  | Int32ArrayConstructor
  | Int16ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint8ArrayConstructor
  | BigInt64ArrayConstructor;

/**
 * A typed array over little-endian `bytes`, always a fresh copy (so it never aliases the caller's
 * file buffer and is aligned). Byte-swaps on big-endian hosts.
 */
export function copyLittleEndian<C extends NumericArrayConstructor>(
  bytes: Uint8Array,
  ctor: C,
): InstanceType<C> {
  const size = ctor.BYTES_PER_ELEMENT;
  // Uint8Array's slice copies; a Node Buffer's `slice` is a view of its pool or file buffer, so
  // call Uint8Array's own.
  const copy = Uint8Array.prototype.slice.call(bytes);
  if (!HOST_LITTLE_ENDIAN && size > 1) {
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  }
  return new ctor(copy.buffer, 0, copy.length / size) as InstanceType<C>;
}

/**
 * A typed array over little-endian `bytes` without copying when the bytes are aligned (and the
 * host is little-endian); otherwise a copy. The result may alias `bytes`.
 */
export function viewLittleEndian<C extends NumericArrayConstructor>(
  bytes: Uint8Array,
  ctor: C,
): InstanceType<C> {
  const size = ctor.BYTES_PER_ELEMENT;
  if (HOST_LITTLE_ENDIAN && bytes.byteOffset % size === 0) {
    return new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length / size) as InstanceType<C>;
  }
  return copyLittleEndian(bytes, ctor);
}

/** The little-endian bytes of a typed array (a view when the host is little-endian). */
export function littleEndianBytes(values: NumericArray): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (HOST_LITTLE_ENDIAN || values.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = bytes.slice();
  const size = values.BYTES_PER_ELEMENT;
  for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  return copy;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half-precision bit patterns to float32 values (exact). */
export function halfToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) {
      // zero or subnormal: mant · 2^-24, exactly representable in float32
      out[i] = (sign ? -1 : 1) * mant * 2 ** -24;
    } else if (exp === 31) {
      outBits[i] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    } else {
      outBits[i] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
    }
  }
  return out;
}

/** bfloat16 bit patterns to float32 values (exact). */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = (bits[i]! << 16) >>> 0;
  return out;
}

/** Rounds one float32 value to IEEE half precision (round to nearest, ties to even). */
export function float32ToHalfBits(x: number): number {
  f32Scratch[0] = x;
  const u = u32Scratch[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // half exponent field
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    const shift = 14 - e;
    if (shift > 24) return sign;
    const m = mant | 0x800000;
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++;
  return sign | r; // a carry into the exponent is the correct rounding (up to infinity)
}

/** float32 values to half bit patterns (round to nearest even). */
export function float32ToHalf(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToHalfBits(values[i]!);
  return out;
}

/** float32 values to bfloat16 bit patterns (round to nearest even; NaN stays NaN). */
export function float32ToBfloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32Scratch[0] = values[i]!;
    const u = u32Scratch[0]!;
    if ((u & 0x7f800000) === 0x7f800000 && u & 0x7fffff) out[i] = (u >>> 16) | 0x40;
    else out[i] = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * Narrows little-endian int64 values (given as their bytes) to int32. Throws a
 * {@link CheckpointError} (`what` names the file and tensor) at the first value that does not fit.
 */
export function int64BytesToInt32(bytes: Uint8Array, what: string): Int32Array {
  const words = viewLittleEndian(bytes, Int32Array);
  const n = words.length / 2;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    if (hi !== lo >> 31) {
      const big = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
      throw new CheckpointError(
        `${what}: int64 value ${big} at index ${i} does not fit in int32 (tfjs has no int64 tensors)`,
      );
    }
    out[i] = lo;
  }
  return out;
}

/** int32 values to the little-endian bytes of int64 (sign-extended). */
export function int32ToInt64Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]!);
  return littleEndianBytes(out);
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, as zip uses). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ (bytes[i] as number)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
