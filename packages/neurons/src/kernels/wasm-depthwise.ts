/**
 * A WebAssembly SIMD `DepthwiseConv2dNative` for tfjs-backend-wasm 4.22.
 *
 * The backend's depthwise convolution runs large filters at about 2 GFLOP/s, a tenth of what its
 * dense convolutions reach: SpikeTrack's 7×7 separable convolutions spent 36 ms of a 250 ms
 * `tiny_256_t1` frame in it. This kernel computes 4 to 16 channels per instruction stream,
 * straight from the heap: it zero-pads the input into a scratch tensor when the convolution pads,
 * then, for each output pixel and group of channels, accumulates the filter taps in row-major
 * order (multiply, then add: no fused multiply-add, as in the backend's own kernels).
 *
 * It takes NHWC float32 with channel multiplier 1 and dilation 1 (every depthwise convolution of
 * the SDT-V3 backbone and the memory retrieval); channels past the last multiple of 4 run in a
 * JavaScript loop. It also fixes the backend's kernel, which computes wrong values (and writes out
 * of bounds) for unequal strides with padding, e.g. stride `[2, 1]` with `pad: 1`. Channel
 * multipliers, dilation, and machines without WebAssembly SIMD go to the backend's kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  body,
  f32x4add,
  f32x4mul,
  I32,
  countedLoop,
  increment,
  perMemory,
  loadAt,
  op,
  range,
  storeAt,
  UNROLLS,
  unrollFor,
  V128,
  v128zero,
} from './wasm-assembler';
import { backendMemory, heapOffset, type WasmBackend } from './wasm-heap';
import { replaceWasmKernel } from './wasm-replace';

const KERNEL = 'DepthwiseConv2dNative';

/**
 * `(x, w, y, pixelBytes, coverBytes, kh, kw, rowBytes, colStepBytes, rowStepBytes, oh, ow)`: byte
 * addresses of the (padded) input of one image, the filter `[kh, kw, C]` and the output;
 * `pixelBytes = 4C`, `coverBytes` the bytes of the channels it computes (a multiple of 16);
 * `rowBytes` is the input's row stride, `colStepBytes` and `rowStepBytes` how far the window moves
 * per output column and row.
 */
type DepthwiseSimd = (
  x: number,
  w: number,
  y: number,
  pixelBytes: number,
  coverBytes: number,
  kh: number,
  kw: number,
  rowBytes: number,
  colStepBytes: number,
  rowStepBytes: number,
  oh: number,
  ow: number,
) => void;

/**
 * params: 0 x, 1 w, 2 y, 3 pixelBytes, 4 coverBytes, 5 kh, 6 kw, 7 rowBytes, 8 colStep, 9 rowStep,
 * 10 oh, 11 ow; locals: 12 r, 13 c, 14 xPixel, 15 ya, 16 cb, 17 i, 18 j, 19 xa, 20 wa, 21 xRow,
 * 22 xTapRow (i32), then acc_u (v128)
 */
function depthwiseBody(unroll: number): number[] {
  const [X, W, Y, PIXEL, COVER, KH, KW, ROW, COLSTEP, ROWSTEP, OH, OW] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
  ] as const;
  const [R, C, XPIXEL, YA, CB, I, J, XA, WA, XROW, XTAPROW] = [
    12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
  ] as const;
  const ACC = (u: number) => 23 + u;
  const taps = countedLoop(
    I,
    KH,
    [
      ...[op.get(XTAPROW), op.set(XA)],
      ...countedLoop(
        J,
        KW,
        range(unroll).flatMap((u) => [
          ...[op.get(ACC(u)), op.get(XA), loadAt(16 * u), op.get(WA), loadAt(16 * u)],
          ...[f32x4mul, f32x4add, op.set(ACC(u))],
        ]),
        [...increment(XA, [op.get(PIXEL)]), ...increment(WA, [op.get(PIXEL)])],
      ),
    ],
    increment(XTAPROW, [op.get(ROW)]),
  );
  const channels = countedLoop(
    CB,
    COVER,
    [
      ...range(unroll).flatMap((u) => [v128zero, op.set(ACC(u))]),
      ...[op.get(XPIXEL), op.get(CB), op.i32add, op.set(XTAPROW)],
      ...[op.get(W), op.get(CB), op.i32add, op.set(WA)],
      ...taps,
      ...range(unroll).flatMap((u) => [op.get(YA), op.get(CB), op.i32add, op.get(ACC(u)), storeAt(16 * u)]),
    ],
    [],
    [op.i32const(16 * unroll)],
  );
  const columns = countedLoop(C, OW, channels, [
    ...increment(XPIXEL, [op.get(COLSTEP)]),
    ...increment(YA, [op.get(PIXEL)]),
  ]);
  return body(
    [
      [11, I32],
      [unroll, V128],
    ],
    [
      ...[op.get(X), op.set(XROW), op.get(Y), op.set(YA)],
      ...countedLoop(R, OH, [op.get(XROW), op.set(XPIXEL), ...columns], increment(XROW, [op.get(ROWSTEP)])),
    ],
  );
}

/** The functions for {@link UNROLLS} on a memory, or null without WebAssembly SIMD. */
const functionsFor = perMemory<DepthwiseSimd>(() =>
  UNROLLS.map((u) => ({ params: new Array<number>(12).fill(I32), body: depthwiseBody(u) })),
);

/** The shapes {@link depthwiseLoop} works with: `rows × cols` is the (padded) input's size. */
interface Geometry {
  N: number;
  C: number;
  rows: number;
  cols: number;
  OH: number;
  OW: number;
  sh: number;
  sw: number;
  KH: number;
  KW: number;
}

/**
 * Channels `[from, C)` of the depthwise convolution of the padded input `x`, in the SIMD code's
 * order of summation (filter taps row-major, from 0), so every channel rounds alike.
 */
function depthwiseLoop(x: Float32Array, w: Float32Array, y: Float32Array, g: Geometry, from: number): void {
  const { N, C, rows, cols, OH, OW, sh, sw, KH, KW } = g;
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < OH; r++) {
      for (let q = 0; q < OW; q++) {
        const yAt = ((n * OH + r) * OW + q) * C;
        for (let c = from; c < C; c++) {
          let acc = Math.fround(0);
          for (let i = 0; i < KH; i++) {
            const xRow = ((n * rows + r * sh + i) * cols + q * sw) * C + c;
            for (let j = 0; j < KW; j++) {
              acc = Math.fround(
                acc + Math.fround((x[xRow + j * C] as number) * (w[(i * KW + j) * C + c] as number)),
              );
            }
          }
          y[yAt + c] = acc;
        }
      }
    }
  }
}

let native: tf.KernelFunc | null = null;
let enabled = true;

/** Turns this kernel off (`false`, the backend's runs) or back on; returns the previous setting. For tests and benchmarks. */
export function setWasmDepthwiseEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

function simdDepthwise(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const b = args.backend as WasmBackend;
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dilations?: number | [number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    dataFormat?: string;
  };
  const fs =
    enabled && x.dtype === 'float32' && filter.dtype === 'float32' ? functionsFor(backendMemory(b)) : null;
  if (!fs || (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC'))
    return (native as tf.KernelFunc)(args);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? [1, 1],
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const C = info.inChannels;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || info.outChannels !== C) {
    return (native as tf.KernelFunc)(args);
  }
  const { batchSize: N, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW } = info;
  const { top, left } = info.padInfo;
  const out = b.makeOutput([N, OH, OW, C], 'float32');
  if (N * OH * OW * C === 0) return out;
  // the input rows and columns the windows cover, padding included
  const Hp = (OH - 1) * sh + KH;
  const Wp = (OW - 1) * sw + KW;
  const direct = top === 0 && left === 0 && Hp <= H && Wp <= W;
  let src: tf.TensorInfo = x;
  let rows = H;
  let cols = W;
  if (!direct) {
    // allocate before taking any view of the heap: an allocation may grow (and move) it
    src = b.makeOutput([N, Hp, Wp, C], 'float32');
    rows = Hp;
    cols = Wp;
    const from = b.typedArrayFromHeap(x);
    const to = b.typedArrayFromHeap(src);
    to.fill(0);
    const h0 = Math.max(0, -top);
    const h1 = Math.min(H, Hp - top);
    const w0 = Math.max(0, -left);
    const w1 = Math.min(W, Wp - left);
    if (w1 > w0) {
      for (let n = 0; n < N; n++) {
        for (let h = h0; h < h1; h++) {
          const s = ((n * H + h) * W + w0) * C;
          to.set(from.subarray(s, s + (w1 - w0) * C), ((n * Hp + h + top) * Wp + w0 + left) * C);
        }
      }
    }
  }
  const geometry = { N, C, rows, cols, OH, OW, sh, sw, KH, KW };
  const covered = C - (C % 4);
  if (covered > 0) {
    const run = fs[unrollFor(covered / 4)] as DepthwiseSimd;
    const pixel = 4 * C;
    const xAt = heapOffset(b, src);
    const wAt = heapOffset(b, filter);
    const yAt = heapOffset(b, out);
    for (let n = 0; n < N; n++) {
      run(
        xAt + n * rows * cols * pixel,
        wAt,
        yAt + n * OH * OW * pixel,
        pixel,
        4 * covered,
        KH,
        KW,
        cols * pixel,
        sw * pixel,
        sh * cols * pixel,
        OH,
        OW,
      );
    }
  }
  if (covered < C) {
    const [xs, ws, ys] = [src, filter, out].map((t) => b.typedArrayFromHeap(t)) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    depthwiseLoop(xs, ws, ys, geometry, covered);
  }
  if (src !== x) b.disposeData(src.dataId);
  return out;
}

/**
 * Replaces the `wasm` backend's `DepthwiseConv2dNative` with the SIMD kernel of this file (see
 * its comment). Call it after tfjs-backend-wasm is loaded (`selectBackend('wasm')` does); without
 * the backend it does nothing. Idempotent; returns whether it replaced the kernel now.
 */
export function registerWasmDepthwise(): boolean {
  const replaced = replaceWasmKernel(KERNEL, simdDepthwise as tf.KernelFunc);
  if (replaced) native = replaced;
  return replaced !== null;
}
