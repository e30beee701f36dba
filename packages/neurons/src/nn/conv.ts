import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../core/errors';
import { Module } from '../core/module';
import { isRecordingOps, recordOp } from '../core/op-recorder';
import { assertShape, formatShape } from '../core/shape';
import {
  type Conv2dPadding,
  convOutSize,
  type Pair,
  type PaddingPairs,
  resolvePadding,
  toPair,
} from './conv-util';
import { biasUniform, kaimingUniform } from './init';

export type { Conv2dPadding, Pair, PaddingPairs } from './conv-util';

/** A fully resolved 2-D convolution geometry. */
interface ConvGeometry {
  kernel: [number, number];
  stride: [number, number];
  padding: PaddingPairs;
  dilation: [number, number];
  groups: number;
}

/** Inserts `d − 1` zeros between filter taps, so that a dilated conv runs as a plain one. */
function dilateFilter(f: tf.Tensor4D, dilation: [number, number]): tf.Tensor4D {
  let out = f;
  const [dh, dw] = dilation;
  const [kh, kw, a, b] = out.shape;
  if (dh > 1 && kh > 1) {
    const f5 = tf.reshape(out, [kh, 1, kw, a, b]);
    const z = tf.zeros([kh, dh - 1, kw, a, b]);
    const spread = tf.reshape(tf.concat([f5, z], 1), [kh * dh, kw, a, b]);
    out = tf.slice(spread, [0, 0, 0, 0], [(kh - 1) * dh + 1, kw, a, b]) as tf.Tensor4D;
  }
  const [kh2] = out.shape;
  if (dw > 1 && kw > 1) {
    const f5 = tf.reshape(out, [kh2, kw, 1, a, b]);
    const z = tf.zeros([kh2, kw, dw - 1, a, b]);
    const spread = tf.reshape(tf.concat([f5, z], 2), [kh2, kw * dw, a, b]);
    out = tf.slice(spread, [0, 0, 0, 0], [kh2, (kw - 1) * dw + 1, a, b]) as tf.Tensor4D;
  }
  return out;
}

/**
 * The convolution itself, NHWC. `w` is `[kh, kw, I/g, O]` (conv layout) or, with `depthwise`,
 * `[kh, kw, C, m]`. Grouped convolutions run per group; depthwise ones (groups = in channels) on
 * tfjs's depthwise kernel. Dilation is applied to the filter (zeros between taps), because tfjs
 * has no gradient for dilated convolutions and forbids stride > 1 with dilation > 1.
 */
function convCore(x: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry, depthwise: boolean): tf.Tensor4D {
  const inC = x.shape[3];
  let f = w;
  let dw = depthwise;
  if (!dw && g.groups > 1 && g.groups === inC) {
    // [kh, kw, 1, C·m] → [kh, kw, C, m]: output channel c·m + j reads input channel c in both.
    f = tf.reshape(f, [f.shape[0], f.shape[1], inC, f.shape[3] / inC]);
    dw = true;
  }
  if (g.dilation[0] > 1 || g.dilation[1] > 1) f = dilateFilter(f, g.dilation);
  const [[pt, pb], [pl, pr]] = g.padding;
  const pad: 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
    pt === 0 && pb === 0 && pl === 0 && pr === 0
      ? 'valid'
      : [
          [0, 0],
          [pt, pb],
          [pl, pr],
          [0, 0],
        ];
  if (dw) return tf.depthwiseConv2d(x, f, g.stride, pad, 'NHWC', [1, 1]) as tf.Tensor4D;
  if (g.groups === 1) return tf.conv2d(x, f, g.stride, pad, 'NHWC', [1, 1]);
  const xs = tf.split(x, g.groups, 3) as tf.Tensor4D[];
  const fs = tf.split(f, g.groups, 3) as tf.Tensor4D[];
  return tf.concat(
    xs.map((xi, i) => tf.conv2d(xi, fs[i]!, g.stride, pad, 'NHWC', [1, 1])),
    3,
  );
}

function outputHW(x: tf.Tensor, g: ConvGeometry, where: string): [number, number] {
  const [, h, w] = x.shape as [number, number, number, number];
  const oh = convOutSize(h, g.kernel[0], g.stride[0], g.dilation[0], g.padding[0][0], g.padding[0][1]);
  const ow = convOutSize(w, g.kernel[1], g.stride[1], g.dilation[1], g.padding[1][0], g.padding[1][1]);
  if (oh <= 0 || ow <= 0) {
    throw new ShapeError(
      `${where}: input ${formatShape(x.shape)} is too small for kernel [${g.kernel.join(', ')}] with dilation [${g.dilation.join(', ')}] and padding ${JSON.stringify(g.padding)} (output would be ${oh}×${ow})`,
    );
  }
  return [oh, ow];
}

/** Options of the functional {@link conv2dNhwc}. */
export interface Conv2dFnOptions {
  stride?: Pair;
  padding?: Conv2dPadding;
  dilation?: Pair;
  /** Number of groups (default 1). With `groups` = in channels the conv is depthwise. */
  groups?: number;
  /** Optional bias `[O]`. */
  bias?: tf.Tensor | null;
  /** `weight` is in the depthwise layout `[kh, kw, C, m]` (default: conv layout `[kh, kw, I/g, O]`). */
  depthwise?: boolean;
  /** When an op recorder is active, report this call under this path (e.g. a folded conv's module path). */
  recordAs?: string;
}

/**
 * A 2-D convolution on NHWC input `[N, H, W, C]` with torch semantics (explicit symmetric or
 * pairwise padding, dilation, groups). `weight` is native: `[kh, kw, C/groups, O]`, or
 * `[kh, kw, C, m]` with `depthwise`. Use it for weights that are not a module's own, such as a
 * conv with a BatchNorm folded in (see {@link foldBatchNorm}).
 */
export function conv2dNhwc(x: tf.Tensor, weight: tf.Tensor, opts: Conv2dFnOptions = {}): tf.Tensor4D {
  const where = opts.recordAs ? `conv2dNhwc(${opts.recordAs})` : 'conv2dNhwc';
  if (weight.rank !== 4) {
    throw new ShapeError(`${where}: expected a rank-4 weight, got ${formatShape(weight.shape)}`);
  }
  const [kh, kw, wi, wo] = weight.shape as [number, number, number, number];
  const depthwise = opts.depthwise ?? false;
  const inC = depthwise ? wi : wi * (opts.groups ?? 1);
  const groups = depthwise ? wi : (opts.groups ?? 1);
  if (!Number.isInteger(groups) || groups < 1 || (!depthwise && wo % groups !== 0)) {
    throw new ConfigError(
      `${where}: groups must be a positive divisor of ${wo} output channels, got ${groups}`,
    );
  }
  assertShape(x, [null, null, null, inC], where);
  const stride = toPair(opts.stride ?? 1, 'stride', where);
  const dilation = toPair(opts.dilation ?? 1, 'dilation', where);
  const g: ConvGeometry = {
    kernel: [kh, kw],
    stride,
    dilation,
    padding: resolvePadding(opts.padding ?? 0, [kh, kw], stride, dilation, where),
    groups,
  };
  const outC = depthwise ? wi * wo : wo;
  if (opts.bias) assertShape(opts.bias, [outC], where, 'bias');
  outputHW(x, g, where);
  return tf.tidy(() => {
    let y = convCore(x as tf.Tensor4D, weight as tf.Tensor4D, g, depthwise);
    if (opts.bias) y = tf.add(y, opts.bias);
    if (opts.recordAs !== undefined && isRecordingOps()) {
      recordOp({
        kind: depthwise || (groups > 1 && groups === inC) ? 'depthwiseConv2d' : 'conv2d',
        path: opts.recordAs,
        input: x,
        weightShape: [...weight.shape],
        outputShape: [...y.shape],
        stride: g.stride,
        padding: g.padding,
        dilation: g.dilation,
        groups,
      });
    }
    return y;
  });
}

/** Options of {@link Conv2d}, named as torch's `nn.Conv2d` arguments. */
export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: Pair;
  /** Default 1. */
  stride?: Pair;
  /** Default 0. See {@link Conv2dPadding}. */
  padding?: Conv2dPadding;
  /** Default 1. */
  dilation?: Pair;
  /** Default 1. `groups = inChannels` (with `outChannels` a multiple of it) is a depthwise conv. */
  groups?: number;
  /** Whether there is a bias (default true, as in torch). */
  bias?: boolean;
  /** Seed of the default (torch-like) initialization; without it the weights are random. */
  seed?: number;
}

function checkChannels(inC: number, outC: number, groups: number, where: string): void {
  for (const [n, v] of [
    ['inChannels', inC],
    ['outChannels', outC],
    ['groups', groups],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new ConfigError(`${where}: ${n} must be a positive integer, got ${v}`);
  }
  if (inC % groups !== 0 || outC % groups !== 0) {
    throw new ConfigError(
      `${where}: inChannels (${inC}) and outChannels (${outC}) must both be divisible by groups (${groups})`,
    );
  }
}

/**
 * `nn.Conv2d` on NHWC input `[N, H, W, inChannels]` → `[N, H', W', outChannels]`.
 *
 * State: `weight` (torch `[O, I/g, kh, kw]`, layout `oihw`; a depthwise conv, i.e. groups =
 * in channels > 1, stores it as `[kh, kw, C, m]`, layout `depthwise`) and `bias` `[O]`. Records a
 * `conv2d` / `depthwiseConv2d` operation when an op recorder is active.
 */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  /** Resolved explicit padding `[[top, bottom], [left, right]]`. */
  readonly padding: PaddingPairs;
  readonly dilation: [number, number];
  readonly groups: number;
  /** Whether this is a depthwise conv (groups = in channels > 1), stored in the depthwise layout. */
  readonly depthwise: boolean;
  private readonly geometry: ConvGeometry;

  constructor(opts: Conv2dOptions) {
    super();
    const where = this.typeName;
    const groups = opts.groups ?? 1;
    checkChannels(opts.inChannels, opts.outChannels, groups, where);
    this.inChannels = opts.inChannels;
    this.outChannels = opts.outChannels;
    this.groups = groups;
    this.kernelSize = toPair(opts.kernelSize, 'kernelSize', where);
    this.stride = toPair(opts.stride ?? 1, 'stride', where);
    this.dilation = toPair(opts.dilation ?? 1, 'dilation', where);
    this.padding = resolvePadding(opts.padding ?? 0, this.kernelSize, this.stride, this.dilation, where);
    this.depthwise = groups > 1 && groups === opts.inChannels;
    this.geometry = {
      kernel: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups,
    };
    const [kh, kw] = this.kernelSize;
    const fanIn = (opts.inChannels / groups) * kh * kw;
    if (this.depthwise) {
      const m = opts.outChannels / opts.inChannels;
      this.weight = this.param('weight', kaimingUniform([kh, kw, opts.inChannels, m], fanIn, opts.seed), {
        layout: 'depthwise',
      });
    } else {
      this.weight = this.param(
        'weight',
        kaimingUniform([kh, kw, opts.inChannels / groups, opts.outChannels], fanIn, opts.seed),
        { layout: 'oihw' },
      );
    }
    this.bias =
      opts.bias === false ? null : this.param('bias', biasUniform(opts.outChannels, fanIn, opts.seed));
  }

  /**
   * The geometry of this conv as {@link conv2dNhwc} options (stride, padding, dilation, groups,
   * depthwise, recorded under this module's path), to run it with other weights (e.g. folded ones).
   */
  functionalOptions(): Conv2dFnOptions {
    return {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
      depthwise: this.depthwise,
      recordAs: this.path,
    };
  }

  forward(x: tf.Tensor): tf.Tensor4D {
    assertShape(x, [null, null, null, this.inChannels], this.label);
    outputHW(x, this.geometry, this.label);
    let y = convCore(x as tf.Tensor4D, this.weight as tf.Tensor4D, this.geometry, this.depthwise);
    if (this.bias) y = tf.add(y, this.bias);
    if (isRecordingOps()) {
      recordOp({
        kind: this.depthwise ? 'depthwiseConv2d' : 'conv2d',
        path: this.path,
        input: x,
        weightShape: [...this.weight.shape],
        outputShape: [...y.shape],
        stride: this.stride,
        padding: this.padding,
        dilation: this.dilation,
        groups: this.groups,
      });
    }
    return y;
  }
}

/** Conv1d padding: a number (both sides), `[left, right]`, `'same'` (stride 1) or `'valid'`. */
export type Conv1dPadding = number | [number, number] | 'same' | 'valid';

/** Options of {@link Conv1d}, named as torch's `nn.Conv1d` arguments. */
export interface Conv1dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  padding?: Conv1dPadding;
  dilation?: number;
  groups?: number;
  /** Default true. */
  bias?: boolean;
  seed?: number;
}

/**
 * `nn.Conv1d` on channels-last input `[N, L, inChannels]` → `[N, L', outChannels]` (torch's
 * `[N, C, L]`, transposed). State: `weight` (torch `[O, I/g, k]`, layout `conv1d`, native
 * `[k, I/g, O]`) and `bias` `[O]`. A kernel-1 conv without stride, padding or groups (the common
 * case in spike-driven MLPs) runs as one matrix product. Records a `conv1d` operation with the
 * input `[N, L, C]`, `weightShape` `[k, I/g, O]`, stride `[1, s]`, padding `[[0, 0], [l, r]]`.
 */
export class Conv1d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  /** Resolved `[left, right]` padding. */
  readonly padding: [number, number];
  readonly dilation: number;
  readonly groups: number;
  private readonly geometry: ConvGeometry;
  private readonly pointwise: boolean;

  constructor(opts: Conv1dOptions) {
    super();
    const where = this.typeName;
    const groups = opts.groups ?? 1;
    checkChannels(opts.inChannels, opts.outChannels, groups, where);
    this.inChannels = opts.inChannels;
    this.outChannels = opts.outChannels;
    this.groups = groups;
    [this.kernelSize] = toPair(opts.kernelSize, 'kernelSize', where);
    [this.stride] = toPair(opts.stride ?? 1, 'stride', where);
    [this.dilation] = toPair(opts.dilation ?? 1, 'dilation', where);
    const p = opts.padding ?? 0;
    let pads: PaddingPairs;
    if (Array.isArray(p)) {
      pads = resolvePadding([[0, 0], p], [1, this.kernelSize], [1, this.stride], [1, this.dilation], where);
    } else {
      pads = resolvePadding(
        typeof p === 'number' ? [0, p] : p,
        [1, this.kernelSize],
        [1, this.stride],
        [1, this.dilation],
        where,
      );
    }
    this.padding = pads[1];
    this.geometry = {
      kernel: [1, this.kernelSize],
      stride: [1, this.stride],
      padding: [[0, 0], this.padding],
      dilation: [1, this.dilation],
      groups,
    };
    this.pointwise =
      this.kernelSize === 1 && this.stride === 1 && groups === 1 && pads[1].every((v) => v === 0);
    const fanIn = (opts.inChannels / groups) * this.kernelSize;
    this.weight = this.param(
      'weight',
      kaimingUniform([this.kernelSize, opts.inChannels / groups, opts.outChannels], fanIn, opts.seed),
      { layout: 'conv1d' },
    );
    this.bias =
      opts.bias === false ? null : this.param('bias', biasUniform(opts.outChannels, fanIn, opts.seed));
  }

  forward(x: tf.Tensor): tf.Tensor3D {
    assertShape(x, [null, null, this.inChannels], this.label);
    const [n, l] = x.shape as [number, number, number];
    let y: tf.Tensor3D;
    if (this.pointwise) {
      const w2 = tf.reshape(this.weight, [this.inChannels, this.outChannels]) as tf.Tensor2D;
      const flat = tf.reshape(x, [n * l, this.inChannels]) as tf.Tensor2D;
      y = tf.reshape(tf.matMul(flat, w2), [n, l, this.outChannels]);
    } else {
      const x4 = tf.reshape(x, [n, 1, l, this.inChannels]);
      outputHW(x4, this.geometry, this.label);
      const [k, wi, wo] = this.weight.shape as [number, number, number];
      const w4 = tf.reshape(this.weight, [1, k, wi, wo]) as tf.Tensor4D;
      const y4 = convCore(x4 as tf.Tensor4D, w4, this.geometry, false);
      y = tf.reshape(y4, [n, y4.shape[2], this.outChannels]);
    }
    if (this.bias) y = tf.add(y, this.bias);
    if (isRecordingOps()) {
      recordOp({
        kind: 'conv1d',
        path: this.path,
        input: x,
        weightShape: [...this.weight.shape],
        outputShape: [...y.shape],
        stride: [1, this.stride],
        padding: [[0, 0], this.padding],
        dilation: [1, this.dilation],
        groups: this.groups,
      });
    }
    return y;
  }
}
