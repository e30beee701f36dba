/**
 * Convolution gradients composed from ordinary tfjs ops (pads, transposes, and convolutions that
 * tfjs's backends run fast). They back the `Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropFilter`, `DepthwiseConv2dNativeBackpropInput` and
 * `Conv2DBackpropInput` kernels on wasm (see `wasm-conv-backprop.ts`), and run on any backend.
 *
 * Geometry follows tfjs's own conv kernels: `computeConv2DInfo` resolves `'same'`, `'valid'`, a
 * number or explicit NHWC padding (and `dimRoundingMode`) to the output size and the top/left
 * padding; taps that fall outside the input read zeros. With a numeric `pad` and no
 * `dimRoundingMode` (tfjs's Conv2D gradient drops it), the rounding that gives `dy`'s shape is used.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors';
import { formatShape } from '../core/shape';
import { flipFilter } from './flip-filter';

/** Padding as tfjs's conv ops and kernels accept it. */
export type TfConvPad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

/** The attributes the backprop kernels receive (dilations must be 1). */
export interface ConvBackpropGeometry {
  strides: number | [number, number];
  pad: TfConvPad;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface Resolved {
  n: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;

function resolve(
  where: string,
  xShape: number[],
  filterShape: number[],
  g: ConvBackpropGeometry,
  depthwise: boolean,
  dyShape: number[],
): Resolved {
  if (xShape.length !== 4 || filterShape.length !== 4 || dyShape.length !== 4) {
    throw new ShapeError(
      `${where}: expected rank-4 NHWC input, filter and dy, got input ${formatShape(xShape)}, filter ${formatShape(filterShape)}, dy ${formatShape(dyShape)}`,
    );
  }
  const [dh, dw] = pair(g.dilations, 1);
  if (dh !== 1 || dw !== 1) {
    throw new ShapeError(`${where}: only dilation 1 is supported, got [${dh}, ${dw}]`);
  }
  const infoWith = (mode: ConvBackpropGeometry['dimRoundingMode']) =>
    tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      g.strides,
      1,
      g.pad,
      mode,
      depthwise,
      'channelsLast',
    );
  const outOf = (i: tf.backend_util.Conv2DInfo) => [i.batchSize, i.outHeight, i.outWidth, i.outChannels];
  const fits = (i: tf.backend_util.Conv2DInfo) => outOf(i).every((d, k) => d === dyShape[k]);
  let info = infoWith(g.dimRoundingMode);
  if (!fits(info) && g.dimRoundingMode === undefined && typeof g.pad === 'number') {
    // tfjs's Conv2D gradient does not pass dimRoundingMode on: the one that gives dy's shape is it.
    info = [infoWith('ceil'), infoWith('round')].find(fits) ?? info;
  }
  if (!fits(info)) {
    throw new ShapeError(
      `${where}: dy has shape ${formatShape(dyShape)}, but input ${formatShape(xShape)} with filter ${formatShape(filterShape)} gives ${formatShape(outOf(info))}`,
    );
  }
  return {
    n: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * `x` zero-padded so that every tap `(i, j)` of every output position lies inside: top/left by the
 * conv's padding, bottom/right by what the last output row/column needs (which may differ from
 * the conv's own bottom/right padding under `dimRoundingMode`).
 */
function padForTaps(x: tf.Tensor4D, r: Resolved): tf.Tensor4D {
  const needH = (r.outH - 1) * r.sh + r.kh;
  const needW = (r.outW - 1) * r.sw + r.kw;
  const bottom = Math.max(0, needH - r.top - r.inH);
  const right = Math.max(0, needW - r.left - r.inW);
  if (r.top === 0 && r.left === 0 && bottom === 0 && right === 0) return x;
  return tf.pad(x, [
    [0, 0],
    [r.top, bottom],
    [r.left, right],
    [0, 0],
  ]);
}

/**
 * The gradient of `conv2d(x, filter)` (NHWC) with respect to the filter `[kh, kw, inC, outC]`,
 * as one convolution: `dW[i, j, c, o] = Σ_{n, y, x} xp[n, y·sh + i, x·sw + j, c] · dy[n, y, x, o]`
 * is the padded input with batch and channels swapped (`[inC, Hp, Wp, N]`) correlated with `dy`
 * as the filter (`[outH, outW, N, outC]`, dilated by the stride). Tidy.
 */
export function conv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  g: ConvBackpropGeometry,
): tf.Tensor4D {
  const r = resolve('conv2dFilterGradient', x.shape, filterShape, g, false, dy.shape);
  const outC = filterShape[3];
  return tf.tidy(() => {
    const xt = tf.transpose(padForTaps(x, r), [3, 1, 2, 0]) as tf.Tensor4D;
    const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const o = tf.conv2d(xt, f, 1, 'valid', 'NHWC', [r.sh, r.sw]);
    return tf.transpose(tf.slice(o, [0, 0, 0, 0], [r.inC, r.kh, r.kw, outC]), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * The gradient of `depthwiseConv2d(x, filter)` (NHWC, filter `[kh, kw, C, mult]`) with respect
 * to the filter, as one depthwise convolution: the padded input with the batch moved into the
 * channels (`[1, Hp, Wp, N·C]`) correlated with `dy` as the filter (`[outH, outW, N·C, mult]`,
 * dilated by the stride; output channel `c·mult + q` reads input channel `c`), summed over the
 * batch. Tidy.
 */
export function depthwiseConv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  g: ConvBackpropGeometry,
): tf.Tensor4D {
  const r = resolve('depthwiseConv2dFilterGradient', x.shape, filterShape, g, true, dy.shape);
  const mult = filterShape[3];
  return tf.tidy(() => {
    const xp = padForTaps(x, r);
    const [, hp, wp] = xp.shape;
    const nc = r.n * r.inC;
    const xt = tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, nc]) as tf.Tensor4D;
    const f = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [r.outH, r.outW, nc, mult]) as tf.Tensor4D;
    const o = tf.depthwiseConv2d(xt, f, 1, 'valid', 'NHWC', [r.sh, r.sw]);
    const k = tf.slice(o, [0, 0, 0, 0], [1, r.kh, r.kw, nc * mult]);
    return tf.sum(tf.reshape(k, [r.kh, r.kw, r.n, r.inC, mult]), 2) as tf.Tensor4D;
  });
}

/** `dy` with `s − 1` zeros between rows and columns: `[N, (outH − 1)·sh + 1, (outW − 1)·sw + 1, C]`. */
function spread(dy: tf.Tensor4D, r: Resolved): tf.Tensor4D {
  if (r.sh === 1 && r.sw === 1) return dy;
  const c = dy.shape[3];
  const rows = r.outH * r.sh;
  // Rank 4 throughout (tfjs-webgpu cannot pad rank-6 tensors): zeros after each row, then column.
  const r4 = tf.pad(tf.reshape(dy, [r.n, r.outH, 1, r.outW * c]), [
    [0, 0],
    [0, 0],
    [0, r.sh - 1],
    [0, 0],
  ]);
  const c4 = tf.pad(tf.reshape(r4, [r.n * rows, r.outW, 1, c]), [
    [0, 0],
    [0, 0],
    [0, r.sw - 1],
    [0, 0],
  ]);
  const flat = tf.reshape(c4, [r.n, rows, r.outW * r.sw, c]) as tf.Tensor4D;
  return tf.slice(flat, [0, 0, 0, 0], [r.n, (r.outH - 1) * r.sh + 1, (r.outW - 1) * r.sw + 1, c]);
}

/**
 * An input gradient as a full correlation: `dy` spread by the stride and zero-padded so that
 * `correlate` (a stride-1 'valid' conv with the flipped filter) yields the gradient of every
 * padded input position; the input's own rows and columns are cut out.
 */
function inputGradient(
  dy: tf.Tensor4D,
  r: Resolved,
  correlate: (padded: tf.Tensor4D) => tf.Tensor4D,
): tf.Tensor4D {
  const d = spread(dy, r);
  const [, lh, lw] = d.shape;
  const padded = tf.pad(d, [
    [0, 0],
    [r.kh - 1, Math.max(0, r.top + r.inH - lh)],
    [r.kw - 1, Math.max(0, r.left + r.inW - lw)],
    [0, 0],
  ]);
  const full = correlate(padded);
  return tf.slice(full, [0, r.top, r.left, 0], [r.n, r.inH, r.inW, full.shape[3]]);
}

/**
 * The gradient of `conv2d(x, filter)` (NHWC, filter `[kh, kw, inC, outC]`) with respect to `x`
 * of shape `inputShape`: `dy` spread by the stride and zero-padded, convolved with the flipped
 * filter with its channel axes swapped (`[kh, kw, outC, inC]`). Tidy.
 */
export function conv2dInputGradient(
  inputShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  g: ConvBackpropGeometry,
): tf.Tensor4D {
  const r = resolve('conv2dInputGradient', inputShape, filter.shape, g, false, dy.shape);
  return tf.tidy(() => {
    const flipped = flipFilter(filter, true);
    return inputGradient(dy, r, (p) => tf.conv2d(p, flipped, 1, 'valid'));
  });
}

/**
 * The gradient of `depthwiseConv2d(x, filter)` (NHWC, filter `[kh, kw, C, mult]`) with respect
 * to `x` of shape `inputShape`: `dy` spread by the stride and zero-padded, correlated with the
 * flipped filter (one depthwise conv over the `C·mult` channels), and summed over the
 * multiplier. Tidy.
 */
export function depthwiseConv2dInputGradient(
  inputShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  g: ConvBackpropGeometry,
): tf.Tensor4D {
  const r = resolve('depthwiseConv2dInputGradient', inputShape, filter.shape, g, true, dy.shape);
  const mult = filter.shape[3];
  const cm = r.inC * mult;
  return tf.tidy(() => {
    const flipped = tf.reshape(flipFilter(filter, false), [r.kh, r.kw, cm, 1]) as tf.Tensor4D;
    const dx = inputGradient(dy, r, (p) => tf.depthwiseConv2d(p, flipped, 1, 'valid'));
    if (mult === 1) return dx;
    return tf.sum(tf.reshape(dx, [r.n, r.inH, r.inW, r.inC, mult]), 4) as tf.Tensor4D;
  });
}
