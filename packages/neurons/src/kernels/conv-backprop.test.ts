import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, onWebGPU, testBackend } from '../../../../test-support/helpers';
import { ShapeError } from '../core/errors';
import { fromTorchLayout, toTorchLayout } from '../core/layout';
import { dyadic, fill, type NaiveConv, naiveConv2dGrads } from '../nn/naive.test-helper';
import {
  type ConvBackpropGeometry,
  type TfConvPad,
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseConv2dFilterGradient,
  depthwiseConv2dInputGradient,
} from './conv-backprop';
import { registerWasmConvGradients, WASM_CONV_GRADIENT_KERNELS } from './wasm-conv-backprop';

registerWasmConvGradients();

type Shape4 = [number, number, number, number];

interface Case {
  name: string;
  depthwise: boolean;
  x: Shape4;
  /** Native filter shape: `[kh, kw, I, O]`, or `[kh, kw, C, mult]` when depthwise. */
  f: Shape4;
  g: ConvBackpropGeometry;
}

/** Explicit NHWC padding (top, bottom, left, right). */
const explicit = (t: number, b: number, l: number, r: number): TfConvPad => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];

const cases: Case[] = [
  {
    name: "3×3 'same', batch 2",
    depthwise: false,
    x: [2, 5, 6, 3],
    f: [3, 3, 3, 4],
    g: { strides: 1, pad: 'same' },
  },
  {
    name: "3×2 stride 2 'valid'",
    depthwise: false,
    x: [1, 7, 6, 2],
    f: [3, 2, 2, 3],
    g: { strides: 2, pad: 'valid' },
  },
  {
    name: 'stride [2, 1], explicit asymmetric padding, batch 2',
    depthwise: false,
    x: [2, 6, 5, 2],
    f: [3, 3, 2, 2],
    g: {
      strides: [2, 1],
      pad: explicit(1, 0, 0, 2),
    },
  },
  {
    name: "4×4 'same' stride 2 (extra pixel bottom/right)",
    depthwise: false,
    x: [1, 6, 7, 2],
    f: [4, 4, 2, 2],
    g: { strides: 2, pad: 'same' },
  },
  {
    name: 'pad 1 with dimRoundingMode ceil, stride 2',
    depthwise: false,
    x: [1, 8, 8, 2],
    f: [3, 3, 2, 3],
    g: { strides: 2, pad: 1, dimRoundingMode: 'ceil' },
  },
  {
    name: 'pointwise 1×1 stride 2',
    depthwise: false,
    x: [2, 5, 5, 4],
    f: [1, 1, 4, 3],
    g: { strides: 2, pad: 'valid' },
  },
  {
    name: "depthwise 3×3 'same', batch 2",
    depthwise: true,
    x: [2, 6, 5, 3],
    f: [3, 3, 3, 1],
    g: { strides: 1, pad: 'same' },
  },
  {
    name: 'depthwise 7×7 padding 3 (explicit)',
    depthwise: true,
    x: [1, 8, 8, 2],
    f: [7, 7, 2, 1],
    g: {
      strides: 1,
      pad: explicit(3, 3, 3, 3),
    },
  },
  {
    name: "depthwise multiplier 2, stride 2 'same', batch 2",
    depthwise: true,
    x: [2, 7, 6, 2],
    f: [3, 3, 2, 2],
    g: { strides: 2, pad: 'same' },
  },
  {
    name: "depthwise stride 2 'valid'",
    depthwise: true,
    x: [1, 6, 7, 3],
    f: [3, 3, 3, 1],
    g: { strides: 2, pad: 'valid' },
  },
  {
    name: 'depthwise stride [1, 2], explicit asymmetric padding',
    depthwise: true,
    x: [1, 5, 7, 2],
    f: [2, 3, 2, 1],
    g: {
      strides: [1, 2],
      pad: explicit(0, 1, 2, 0),
    },
  },
];

/** SwiftShader is slow: a few representative cases there. */
const ours = onWebGPU() ? cases.filter((_, i) => i === 2 || i === 8) : cases;

interface Setup {
  x: tf.Tensor4D;
  f: tf.Tensor4D;
  r: tf.Tensor4D;
  ref: { dx: Float64Array; dw: Float64Array };
  layout: 'oihw' | 'depthwise';
}

const prod = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Random dyadic x, filter and upstream gradient r, and the naive torch gradients of sum(conv·r). */
function setup(c: Case, seed: number): Setup {
  const info = tf.backend_util.computeConv2DInfo(
    c.x,
    c.f,
    c.g.strides,
    1,
    c.g.pad,
    c.g.dimRoundingMode,
    c.depthwise,
  );
  const [kh, kw, fi, fo] = c.f;
  const layout = c.depthwise ? 'depthwise' : 'oihw';
  const wShape: Shape4 = c.depthwise ? [fi * fo, 1, kh, kw] : [fo, fi, kh, kw];
  const { top, left } = info.padInfo;
  const nc: NaiveConv = {
    xShape: c.x,
    wShape,
    stride: [info.strideHeight, info.strideWidth],
    // The bottom/right padding that gives tfjs's output size (taps outside the input read zeros).
    pad: [
      [top, (info.outHeight - 1) * info.strideHeight + kh - top - c.x[1]],
      [left, (info.outWidth - 1) * info.strideWidth + kw - left - c.x[2]],
    ],
    dilation: [1, 1],
    groups: c.depthwise ? fi : 1,
  };
  const xs = fill(prod(c.x), dyadic(seed));
  const ws = fill(prod(wShape), dyadic(seed + 1));
  const outShape: Shape4 = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  const rs = fill(prod(outShape), dyadic(seed + 2));
  const wt = tf.tensor4d(ws, wShape);
  const f = fromTorchLayout(wt, layout, c.f) as tf.Tensor4D;
  wt.dispose();
  return {
    x: tf.tensor4d(xs, c.x),
    f,
    r: tf.tensor4d(rs, outShape),
    ref: naiveConv2dGrads(nc, xs, ws, rs),
    layout,
  };
}

async function expectFilterGrad(dw: tf.Tensor, s: Setup, what: string): Promise<void> {
  const torch = toTorchLayout(dw, s.layout);
  expectClose(await torch.data(), s.ref.dw, 1e-4, what);
  torch.dispose();
}

const forward = (c: Case, x: tf.Tensor4D, f: tf.Tensor4D): tf.Tensor4D =>
  c.depthwise
    ? tf.depthwiseConv2d(x, f, c.g.strides, c.g.pad, 'NHWC', 1, c.g.dimRoundingMode)
    : tf.conv2d(x, f, c.g.strides, c.g.pad, 'NHWC', 1, c.g.dimRoundingMode);

describe('composite conv gradients (any backend)', () => {
  for (const [k, c] of ours.entries()) {
    it(`filter and input gradients equal a naive torch conv's: ${c.name}`, async () => {
      const s = setup(c, 10 + k);
      const dw = c.depthwise
        ? depthwiseConv2dFilterGradient(s.x, s.r, c.f, c.g)
        : conv2dFilterGradient(s.x, s.r, c.f, c.g);
      expect(dw.shape).toEqual(c.f);
      await expectFilterGrad(dw, s, `dL/dfilter (${c.name})`);
      dw.dispose();
      const dx = (c.depthwise ? depthwiseConv2dInputGradient : conv2dInputGradient)(c.x, s.r, s.f, c.g);
      expect(dx.shape).toEqual(c.x);
      expectClose(await dx.data(), s.ref.dx, 1e-4, `dL/dx (${c.name})`);
      dx.dispose();
      tf.dispose([s.x, s.f, s.r]);
    });
  }

  it('filter gradient matches central finite differences of the forward conv', async () => {
    const c = cases[8]!;
    const s = setup(c, 3);
    const dw = await depthwiseConv2dFilterGradient(s.x, s.r, c.f, c.g).data();
    const w0 = await s.f.data();
    const loss = async (w: Float32Array): Promise<number> => {
      const f = tf.tensor4d(w, c.f);
      const l = tf.tidy(() => tf.sum(tf.mul(forward(c, s.x, f), s.r)));
      const v = (await l.data())[0]!;
      tf.dispose([f, l]);
      return v;
    };
    const h = 1 / 32;
    for (const idx of [0, 5, 17, w0.length - 1]) {
      const plus = Float32Array.from(w0);
      plus[idx]! += h;
      const minus = Float32Array.from(w0);
      minus[idx]! -= h;
      expect(((await loss(plus)) - (await loss(minus))) / (2 * h)).toBeCloseTo(dw[idx]!, 4);
    }
    tf.dispose([s.x, s.f, s.r]);
  });

  it('rejects dilation > 1 and a dy that does not fit the geometry with a ShapeError', () => {
    const x = tf.zeros([1, 5, 5, 2]) as tf.Tensor4D;
    const dy = tf.zeros([1, 5, 5, 2]) as tf.Tensor4D;
    expect(() =>
      depthwiseConv2dFilterGradient(x, dy, [3, 3, 2, 1], { strides: 1, pad: 'same', dilations: 2 }),
    ).toThrow(ShapeError);
    expect(() => conv2dFilterGradient(x, dy, [3, 3, 2, 2], { strides: 2, pad: 'same' })).toThrow(
      /dy has shape \[1, 5, 5, 2\].*gives \[1, 3, 3, 2\]/,
    );
    tf.dispose([x, dy]);
  });
});

describe.skipIf(testBackend() !== 'wasm')('wasm conv gradient kernels', () => {
  it('are registered for wasm, with the composite Conv2DBackpropInput in place of the native one', () => {
    for (const k of WASM_CONV_GRADIENT_KERNELS) expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
    // The backend was loaded before this file's registerWasmConvGradients() call: it replaced
    // the native kernel then, and a second call changes nothing.
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
    expect(registerWasmConvGradients()).toEqual([]);
  });

  for (const [k, c] of cases.entries()) {
    it(`tf.grad of ${c.depthwise ? 'depthwiseConv2d' : 'conv2d'} equals the naive gradients: ${c.name}`, async () => {
      const s = setup(c, 40 + k);
      const loss = (x: tf.Tensor, f: tf.Tensor) =>
        tf.sum(tf.mul(forward(c, x as tf.Tensor4D, f as tf.Tensor4D), s.r));
      const [dx, dw] = tf.grads(loss)([s.x, s.f]);
      await expectFilterGrad(dw!, s, `dL/dfilter (${c.name})`);
      // Also with dimRoundingMode, which tfjs's Conv2D gradient drops: the kernels infer it from dy.
      expectClose(await dx!.data(), s.ref.dx, 1e-4, `dL/dx (${c.name})`);
      tf.dispose([dx, dw]);
      await expectNoLeak(() => tf.grads(loss)([s.x, s.f]));
      tf.dispose([s.x, s.f, s.r]);
    });
  }
});
