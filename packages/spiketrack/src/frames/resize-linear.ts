import { ShapeError } from '@spiketrack/neurons';

/** OpenCV's `INTER_RESIZE_COEF_BITS`: the fixed-point interpolation weights have 11 fractional bits. */
export const INTER_RESIZE_COEF_BITS = 11;
const COEF_SCALE = 1 << INTER_RESIZE_COEF_BITS; // INTER_RESIZE_COEF_SCALE = 2048

/** `cvRound` (x86 `cvtss2si` in the default rounding mode): round half to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** `saturate_cast<short>(float)`: cvRound, then clamp to int16. */
function toShort(v: number): number {
  return Math.min(32767, Math.max(-32768, roundHalfEven(v)));
}

interface Taps {
  /** First source index (pixel units) of each output position. */
  ofs: Int32Array;
  /** Fixed-point weights of the two taps. */
  w0: Int32Array;
  w1: Int32Array;
}

/**
 * The tap table of `resizeGeneric`'s linear case along one axis (`imgproc/src/resize.cpp`):
 * `f = (float)((d + 0.5)·scale − 0.5)`, `s = cvFloor(f)`, `f −= s`, weights
 * `saturate_cast<short>((1.f − f)·2048)` and `saturate_cast<short>(f·2048)`, with `scale` the
 * double `1 / (dst/src)`. `clampX` reproduces the horizontal table's border clamping
 * (`s < 0` → `s = 0, f = 0`; `s ≥ src − 1` → `s = src − 1, f = 0`); the vertical table keeps
 * `s` and `f` and clamps the row indices instead (`clip(sy, 0, H)`), which gives the same pixels.
 */
function taps(src: number, dst: number, clampX: boolean): Taps {
  const scale = 1 / (dst / src);
  const ofs = new Int32Array(dst);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampX) {
      if (s < 0) {
        s = 0;
        f = 0;
      }
      if (s >= src - 1) {
        s = src - 1;
        f = 0;
      }
    }
    ofs[d] = s;
    w0[d] = toShort(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = toShort(f * COEF_SCALE);
  }
  return { ofs, w0, w1 };
}

/** The horizontal pass of one source row (`HResizeLinear<uchar, int, short>`): exact integers, value · 2048. */
function hresizeRow(
  src: Uint8Array,
  rowStart: number,
  sw: number,
  cn: number,
  x: Taps,
  out: Int32Array,
): void {
  const dw = x.ofs.length;
  for (let dx = 0; dx < dw; dx++) {
    const s = x.ofs[dx] as number;
    const a0 = x.w0[dx] as number;
    const a1 = x.w1[dx] as number;
    const p0 = rowStart + s * cn;
    // At the right border s = sw − 1 and a1 = 0: OpenCV reads only S[sx] · ONE there.
    const p1 = s + 1 < sw ? p0 + cn : p0;
    for (let c = 0; c < cn; c++) {
      out[dx * cn + c] = (src[p0 + c] as number) * a0 + (src[p1 + c] as number) * a1;
    }
  }
}

/**
 * `cv2.resize(src, (dw, dh))` with the default `INTER_LINEAR` on an 8-bit image with `cn`
 * interleaved channels, bit for bit as OpenCV 4 computes it on x86-64:
 * - 11-bit fixed-point weights (see {@link taps}) and an exact integer horizontal pass;
 * - the vertical pass and rounding of `VResizeLinearVec_32s8u` (the SIMD path every lane of a
 *   row with a multiple of 16 values takes): `((h0 >> 4)·b0 >> 16) + ((h1 >> 4)·b1 >> 16)`, then
 *   `(v + 2) >> 2` saturated to 0..255; the scalar tail (`FixedPtCast<int, uchar, 22>`:
 *   `(b0·h0 + b1·h1 + 2^21) >> 22`) for values past the last full 16-lane block;
 *   `units/sample_target` pins this: with the scalar rounding everywhere, its crops
 *   would be off by one (5–12% of the values of each crop);
 * - an exact 2× reduction goes, as in `cv::resize`, to the fast `INTER_AREA` path
 *   (`(a + b + c + d + 2) >> 2`).
 * Pixel centres are aligned (`(d + 0.5)·src/dst − 0.5`); borders replicate.
 */
export function resizeLinearU8(
  src: Uint8Array,
  sw: number,
  sh: number,
  cn: number,
  dw: number,
  dh: number,
): Uint8Array {
  for (const [name, v] of [
    ['source width', sw],
    ['source height', sh],
    ['channels', cn],
    ['output width', dw],
    ['output height', dh],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new ShapeError(`resizeLinearU8: ${name} must be a positive integer, got ${v}`);
  }
  if (src.length !== sw * sh * cn) {
    throw new ShapeError(
      `resizeLinearU8: expected ${sh} · ${sw} · ${cn} = ${sw * sh * cn} bytes, got ${src.length}`,
    );
  }
  const out = new Uint8Array(dw * dh * cn);
  if (sw === 2 * dw && sh === 2 * dh) return areaHalf(src, sw, cn, dw, dh, out);
  if (sw === dw && sh === dh) {
    out.set(src);
    return out;
  }
  const x = taps(sw, dw, true);
  const y = taps(sh, dh, false);
  const width = dw * cn;
  const simdEnd = width - (width % 16);
  let rowA = new Int32Array(width);
  let rowB = new Int32Array(width);
  let idxA = -1;
  let idxB = -1;
  const row = (sy: number): Int32Array => {
    if (sy === idxA) return rowA;
    if (sy === idxB) return rowB;
    // Replace the row that is not the other tap's (rows advance monotonically).
    [rowA, rowB, idxA, idxB] = [rowB, rowA, idxB, idxA];
    hresizeRow(src, sy * sw * cn, sw, cn, x, rowA);
    idxA = sy;
    return rowA;
  };
  for (let dy = 0; dy < dh; dy++) {
    const sy = y.ofs[dy] as number;
    const b0 = y.w0[dy] as number;
    const b1 = y.w1[dy] as number;
    const h0 = row(Math.min(Math.max(sy, 0), sh - 1));
    const h1 = row(Math.min(Math.max(sy + 1, 0), sh - 1));
    const o = dy * width;
    for (let i = 0; i < simdEnd; i++) {
      const v = (((h0[i] as number) >> 4) * b0) >> 16;
      const w = (((h1[i] as number) >> 4) * b1) >> 16;
      const r = (v + w + 2) >> 2;
      out[o + i] = r < 0 ? 0 : r > 255 ? 255 : r;
    }
    for (let i = simdEnd; i < width; i++) {
      const r = Math.floor(((h0[i] as number) * b0 + (h1[i] as number) * b1 + (1 << 21)) / (1 << 22));
      out[o + i] = r < 0 ? 0 : r > 255 ? 255 : r;
    }
  }
  return out;
}

/** `resizeAreaFast_` for an exact 2× reduction of 8-bit pixels: the rounded mean of each 2×2 block. */
function areaHalf(
  src: Uint8Array,
  sw: number,
  cn: number,
  dw: number,
  dh: number,
  out: Uint8Array,
): Uint8Array {
  const stride = sw * cn;
  for (let dy = 0; dy < dh; dy++) {
    for (let dx = 0; dx < dw; dx++) {
      const p = 2 * dy * stride + 2 * dx * cn;
      for (let c = 0; c < cn; c++) {
        const s =
          (src[p + c] as number) +
          (src[p + cn + c] as number) +
          (src[p + stride + c] as number) +
          (src[p + stride + cn + c] as number);
        out[(dy * dw + dx) * cn + c] = (s + 2) >> 2;
      }
    }
  }
  return out;
}
