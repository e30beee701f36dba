import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { registerWasmConvGradients } from '../kernels/wasm-conv-backprop';
import { toTorchLayout } from '../core/layout';
import { Module } from '../core/module';
import { Sequential } from './containers';
import { Conv1d, Conv2d, type Conv2dOptions, conv2dNhwc } from './conv';
import { resolvePadding } from './conv-util';
import { convOut, dyadic, fill, type NaiveConv, naiveConv2d, naiveConv2dGrads } from './naive.test-helper';

// tfjs-backend-wasm lacks the conv backprop kernels; the package registers ours on import.
registerWasmConvGradients();

interface Case {
  name: string;
  opts: Conv2dOptions;
  x: [number, number, number, number];
}

const cases: Case[] = [
  {
    name: '3×3, padding 1',
    opts: { inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 },
    x: [2, 5, 6, 3],
  },
  {
    name: '3×2 kernel, stride 2, padding [1, 0], no bias',
    opts: { inChannels: 2, outChannels: 3, kernelSize: [3, 2], stride: 2, padding: [1, 0], bias: false },
    x: [1, 7, 6, 2],
  },
  {
    name: 'stride [2, 1]',
    opts: { inChannels: 2, outChannels: 2, kernelSize: 3, stride: [2, 1], padding: 1 },
    x: [1, 6, 5, 2],
  },
  {
    name: 'dilation 2, padding 2',
    opts: { inChannels: 2, outChannels: 3, kernelSize: 3, padding: 2, dilation: 2 },
    x: [1, 6, 6, 2],
  },
  {
    name: 'dilation [2, 3] with stride 2 (tfjs alone forbids it)',
    opts: { inChannels: 2, outChannels: 2, kernelSize: 3, padding: 1, dilation: [2, 3], stride: 2 },
    x: [1, 9, 9, 2],
  },
  {
    name: "'same' with an even kernel (extra pixel bottom/right)",
    opts: { inChannels: 2, outChannels: 2, kernelSize: 4, padding: 'same' },
    x: [1, 5, 6, 2],
  },
  {
    name: 'explicit asymmetric padding',
    opts: {
      inChannels: 1,
      outChannels: 2,
      kernelSize: 2,
      padding: [
        [0, 2],
        [1, 0],
      ],
    },
    x: [1, 4, 4, 1],
  },
  { name: 'pointwise 1×1', opts: { inChannels: 5, outChannels: 3, kernelSize: 1 }, x: [2, 3, 3, 5] },
  {
    name: 'grouped (groups 2, 4 → 6)',
    opts: { inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, groups: 2 },
    x: [1, 5, 5, 4],
  },
  {
    name: 'depthwise 7×7 (groups = in = out)',
    opts: { inChannels: 3, outChannels: 3, kernelSize: 7, padding: 3, groups: 3, bias: false },
    x: [1, 8, 8, 3],
  },
  {
    name: 'depthwise multiplier 2, stride 2',
    opts: { inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, groups: 2, stride: 2 },
    x: [2, 6, 5, 2],
  },
  {
    name: 'depthwise with dilation 2',
    opts: { inChannels: 2, outChannels: 2, kernelSize: 3, padding: 2, groups: 2, dilation: 2 },
    x: [1, 6, 6, 2],
  },
];

function naiveOf(m: Conv2d, xShape: [number, number, number, number]): NaiveConv {
  return {
    xShape,
    wShape: [m.outChannels, m.inChannels / m.groups, m.kernelSize[0], m.kernelSize[1]],
    stride: m.stride,
    pad: m.padding,
    dilation: m.dilation,
    groups: m.groups,
  };
}

/** Loads dyadic torch-layout weights into `m`; returns them. */
function loadDyadic(m: Conv2d, seed: number): { w: Float32Array; b: Float32Array | null; nc: NaiveConv } {
  const torchShape = [m.outChannels, m.inChannels / m.groups, m.kernelSize[0], m.kernelSize[1]];
  const w = fill(
    torchShape.reduce((a, b) => a * b, 1),
    dyadic(seed),
  );
  const b = m.bias ? fill(m.outChannels, dyadic(seed + 7)) : null;
  const dict: Record<string, tf.Tensor> = { weight: tf.tensor(w, torchShape) };
  if (b) dict.bias = tf.tensor1d(b);
  m.loadStateDict(dict);
  tf.dispose(Object.values(dict));
  return { w, b, nc: naiveOf(m, [1, 1, 1, 1]) };
}

describe('Conv2d', () => {
  for (const c of cases) {
    it(`matches a naive torch conv: ${c.name}`, async () => {
      const m = new Conv2d({ ...c.opts, seed: 1 });
      const { w, b } = loadDyadic(m, 11);
      const xs = fill(
        c.x.reduce((a, v) => a * v, 1),
        dyadic(5),
      );
      const x = tf.tensor4d(xs, c.x);
      const y = m.apply(x);
      const nc = naiveOf(m, c.x);
      expect(y.shape).toEqual(convOut(nc));
      expectClose(await y.data(), naiveConv2d(nc, xs, w, b), 1e-5, c.name);
      // The torch layout round trip gives back exactly what was loaded.
      const sd = m.stateDict({ layout: 'torch' });
      expect(sd.get('weight')!.shape).toEqual(nc.wShape);
      expect(Array.from(await sd.get('weight')!.data())).toEqual(Array.from(w));
      if (b) expect(Array.from(await sd.get('bias')!.data())).toEqual(Array.from(b));
      tf.dispose([...sd.values(), x, y]);
      m.dispose();
    });
  }

  it('stores depthwise weights as [kh, kw, C, m] with torch shape [C·m, 1, kh, kw]', () => {
    const m = new Conv2d({ inChannels: 3, outChannels: 6, kernelSize: 3, groups: 3 });
    expect(m.depthwise).toBe(true);
    expect(m.weight.shape).toEqual([3, 3, 3, 2]);
    expect(m.stateLayouts().get('weight')).toBe('depthwise');
    expect(m.stateShapes().get('weight')).toEqual([6, 1, 3, 3]);
    const g = new Conv2d({ inChannels: 4, outChannels: 6, kernelSize: 3, groups: 2 });
    expect(g.depthwise).toBe(false);
    expect(g.stateShapes().get('weight')).toEqual([6, 2, 3, 3]);
    m.dispose();
    g.dispose();
  });

  it('initializes like torch (uniform ±1/√fan_in), deterministically with a seed', async () => {
    const a = new Conv2d({ inChannels: 4, outChannels: 8, kernelSize: 3, seed: 3 });
    const b = new Conv2d({ inChannels: 4, outChannels: 8, kernelSize: 3, seed: 3 });
    const wa = await a.weight.data();
    expect(Array.from(wa)).toEqual(Array.from(await b.weight.data()));
    const bound = 1 / Math.sqrt(4 * 9);
    expect(Math.max(...Array.from(wa).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(wa).map(Math.abs))).toBeGreaterThan(bound * 0.8);
    const ba = await a.bias!.data();
    expect(Math.max(...Array.from(ba).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Array.from(ba)).not.toEqual(Array.from(wa.slice(0, 8)));
    a.dispose();
    b.dispose();
  });

  const gradCases = cases.filter(
    (c) => c.name.startsWith('3×3') || c.name.includes('grouped') || c.name.includes('stride 2 (tfjs'),
  );
  for (const c of gradCases) {
    it(`weight and bias gradients equal the analytic ones: ${c.name}`, async () => {
      const m = new Conv2d({ ...c.opts, seed: 1 });
      const { w } = loadDyadic(m, 21);
      const nc = naiveOf(m, c.x);
      const xs = fill(
        c.x.reduce((a, v) => a * v, 1),
        dyadic(9),
      );
      const os = convOut(nc);
      const rs = fill(
        os.reduce((a, v) => a * v, 1),
        dyadic(13),
      );
      const x = tf.tensor4d(xs, c.x);
      const r = tf.tensor4d(rs, os);
      const vars = [m.weight, ...(m.bias ? [m.bias] : [])];
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.apply(x), r)) as tf.Scalar, vars);
      const ref = naiveConv2dGrads(nc, xs, w, rs);
      const dw = toTorchLayout(grads[m.weight.name]!, m.depthwise ? 'depthwise' : 'oihw');
      expectClose(await dw.data(), ref.dw, 1e-4, 'dL/dweight');
      if (m.bias) expectClose(await grads[m.bias.name]!.data(), ref.db, 1e-4, 'dL/dbias');
      tf.dispose([value, dw, ...Object.values(grads)]);
      await expectNoLeak(() => tf.variableGrads(() => tf.sum(tf.mul(m.apply(x), r)) as tf.Scalar, vars));
      tf.dispose([x, r]);
      m.dispose();
    });
  }

  for (const c of cases) {
    it(`input gradient equals the analytic one: ${c.name}`, async () => {
      const m = new Conv2d({ ...c.opts, seed: 1 });
      const { w } = loadDyadic(m, 31);
      const nc = naiveOf(m, c.x);
      const xs = fill(
        c.x.reduce((a, v) => a * v, 1),
        dyadic(3),
      );
      const os = convOut(nc);
      const rs = fill(
        os.reduce((a, v) => a * v, 1),
        dyadic(17),
      );
      const x = tf.tensor4d(xs, c.x);
      const r = tf.tensor4d(rs, os);
      const f = (xx: tf.Tensor) => tf.sum(tf.mul(m.apply(xx), r));
      const dx = tf.grad(f)(x);
      expectClose(await dx.data(), naiveConv2dGrads(nc, xs, w, rs).dx, 1e-4, 'dL/dx');
      tf.dispose([dx]);
      await expectNoLeak(() => tf.grad(f)(x));
      tf.dispose([x, r]);
      m.dispose();
    });
  }

  it('weight gradient of a depthwise conv matches finite differences', async () => {
    const m = new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, padding: 1, groups: 2, seed: 4 });
    const x = tf.tensor4d(fill(2 * 4 * 4, dyadic(8)), [1, 4, 4, 2]);
    const r = tf.tensor4d(fill(2 * 4 * 4, dyadic(9)), [1, 4, 4, 2]);
    const loss = () => tf.sum(tf.mul(m.apply(x), r)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, [m.weight]);
    const g = await grads[m.weight.name]!.data();
    const w0 = await m.weight.data();
    const h = 1 / 64;
    for (const idx of [0, 7, 13]) {
      const plus = Float32Array.from(w0);
      plus[idx]! += h;
      const minus = Float32Array.from(w0);
      minus[idx]! -= h;
      m.weight.assign(tf.tensor(plus, m.weight.shape));
      const lp = (await loss().data())[0]!;
      m.weight.assign(tf.tensor(minus, m.weight.shape));
      const lm = (await loss().data())[0]!;
      expect((lp - lm) / (2 * h)).toBeCloseTo(g[idx]!, 3);
    }
    tf.dispose([value, x, r, ...Object.values(grads)]);
    m.dispose();
  });

  it('throws ShapeError naming the module, with expected and actual shapes', () => {
    class Net extends Module {
      readonly block = this.child(
        'block',
        new Sequential(new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3 })),
      );
      forward(x: tf.Tensor): tf.Tensor {
        return this.block.apply(x);
      }
    }
    const net = new Net();
    const bad = tf.zeros([1, 4, 4, 2]);
    expect(() => net.apply(bad)).toThrow(ShapeError);
    expect(() => net.apply(bad)).toThrow(
      'Conv2d(block.0): expected input of shape [*, *, *, 3], got [1, 4, 4, 2]',
    );
    const rank3 = tf.zeros([4, 4, 3]);
    expect(() => net.apply(rank3)).toThrow(/Conv2d\(block\.0\).*got \[4, 4, 3\]/);
    const tiny = tf.zeros([1, 2, 2, 3]);
    expect(() => net.apply(tiny)).toThrow(/Conv2d\(block\.0\): input \[1, 2, 2, 3\] is too small/);
    tf.dispose([bad, rank3, tiny]);
    net.dispose();
  });

  it('rejects bad options with ConfigError', () => {
    expect(() => new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, groups: 2 })).toThrow(
      ConfigError,
    );
    expect(
      () => new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, stride: 2, padding: 'same' }),
    ).toThrow(/'same' needs stride 1/);
    expect(() => new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 0 })).toThrow(ConfigError);
  });

  it('resolves padding like torch', () => {
    expect(resolvePadding('same', [3, 3], [1, 1], [1, 1], 't')).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(resolvePadding('same', [4, 5], [1, 1], [1, 2], 't')).toEqual([
      [1, 2],
      [4, 4],
    ]);
    expect(resolvePadding('valid', [3, 3], [2, 2], [1, 1], 't')).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(resolvePadding([2, 1], [3, 3], [2, 2], [1, 1], 't')).toEqual([
      [2, 2],
      [1, 1],
    ]);
  });

  it('does not leak (forward)', async () => {
    const m = new Conv2d({
      inChannels: 4,
      outChannels: 6,
      kernelSize: 3,
      padding: 1,
      groups: 2,
      dilation: 2,
      seed: 1,
    });
    const x = tf.ones([1, 6, 6, 4]);
    await expectNoLeak(() => m.apply(x));
    x.dispose();
    m.dispose();
  });
});

describe('conv2dNhwc', () => {
  it('runs a module geometry with other weights', async () => {
    const m = new Conv2d({
      inChannels: 2,
      outChannels: 4,
      kernelSize: 3,
      padding: 1,
      groups: 2,
      stride: 2,
      seed: 2,
    });
    const x = tf.tensor4d(fill(2 * 5 * 5 * 2, dyadic(1)), [2, 5, 5, 2]);
    const a = m.apply(x);
    const b = conv2dNhwc(x, m.weight, { ...m.functionalOptions(), bias: m.bias });
    expectClose(await b.data(), await a.data(), 1e-6, 'functional vs module');
    const x3 = tf.zeros([1, 5, 5, 3]);
    expect(() => conv2dNhwc(x3, m.weight, { depthwise: true, recordAs: 'f' })).toThrow(
      'conv2dNhwc(f): expected input of shape [*, *, *, 2], got [1, 5, 5, 3]',
    );
    tf.dispose([x, x3, a, b]);
    m.dispose();
  });

  it('treats a [kh, kw, 1, C·m] weight with groups = C as depthwise', async () => {
    const x = tf.tensor4d(fill(3 * 4 * 4, dyadic(2)), [1, 4, 4, 3]);
    const wd = tf.tensor4d(fill(3 * 3 * 3 * 2, dyadic(3)), [3, 3, 3, 2]);
    const wc = tf.reshape(wd, [3, 3, 1, 6]);
    const a = conv2dNhwc(x, wd, { depthwise: true, padding: 1 });
    const b = conv2dNhwc(x, wc, { groups: 3, padding: 1 });
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, wd, wc, a, b]);
  });
});

interface Case1d {
  name: string;
  opts: ConstructorParameters<typeof Conv1d>[0];
  x: [number, number, number];
}

const cases1d: Case1d[] = [
  {
    name: 'kernel 1 (matmul fast path)',
    opts: { inChannels: 6, outChannels: 5, kernelSize: 1 },
    x: [3, 7, 6],
  },
  {
    name: 'kernel 1 without bias',
    opts: { inChannels: 4, outChannels: 8, kernelSize: 1, bias: false },
    x: [2, 5, 4],
  },
  {
    name: 'kernel 3, padding 1, stride 2',
    opts: { inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, stride: 2 },
    x: [2, 9, 3],
  },
  {
    name: 'kernel 3, dilation 2, groups 2, padding [2, 1]',
    opts: { inChannels: 4, outChannels: 2, kernelSize: 3, dilation: 2, groups: 2, padding: [2, 1] },
    x: [1, 8, 4],
  },
  {
    name: 'depthwise kernel 3 (groups = in)',
    opts: { inChannels: 3, outChannels: 6, kernelSize: 3, groups: 3, padding: 'same' },
    x: [1, 6, 3],
  },
];

describe('Conv1d', () => {
  for (const c of cases1d) {
    const nc = (m: Conv1d): NaiveConv => ({
      xShape: [c.x[0], 1, c.x[1], c.x[2]],
      wShape: [m.outChannels, m.inChannels / m.groups, 1, m.kernelSize],
      stride: [1, m.stride],
      pad: [[0, 0], m.padding],
      dilation: [1, m.dilation],
      groups: m.groups,
    });
    it(`matches a naive torch conv1d, with torch layout [O, I/g, k]: ${c.name}`, async () => {
      const m = new Conv1d({ ...c.opts, seed: 5 });
      const torchShape = [m.outChannels, m.inChannels / m.groups, m.kernelSize];
      expect(m.stateShapes().get('weight')).toEqual(torchShape);
      const w = fill(
        torchShape.reduce((a, b) => a * b, 1),
        dyadic(41),
      );
      const b = m.bias ? fill(m.outChannels, dyadic(42)) : null;
      const wt = tf.tensor(w, torchShape);
      const bt = b ? tf.tensor1d(b) : null;
      m.loadStateDict(bt ? { weight: wt, bias: bt } : { weight: wt });
      const xs = fill(
        c.x.reduce((a, v) => a * v, 1),
        dyadic(43),
      );
      const x = tf.tensor3d(xs, c.x);
      const y = m.apply(x);
      const os = convOut(nc(m));
      expect(y.shape).toEqual([os[0], os[2], os[3]]);
      expectClose(await y.data(), naiveConv2d(nc(m), xs, w, b), 1e-5, c.name);
      const sd = m.stateDict({ layout: 'torch' });
      expect(Array.from(await sd.get('weight')!.data())).toEqual(Array.from(w));

      const os1 = [os[0], os[2], os[3]];
      const rs = fill(
        os1.reduce((a, v) => a * v, 1),
        dyadic(44),
      );
      const r = tf.tensor(rs, os1);
      const ref = naiveConv2dGrads(nc(m), xs, w, rs);
      const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(m.apply(xx), r)))(x);
      expectClose(await dx.data(), ref.dx, 1e-4, 'dL/dx');
      dx.dispose();
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.apply(x), r)) as tf.Scalar, [m.weight]);
      const dw = toTorchLayout(grads[m.weight.name]!, 'conv1d');
      expectClose(await dw.data(), ref.dw, 1e-4, 'dL/dweight');
      tf.dispose([value, dw, ...Object.values(grads)]);
      await expectNoLeak(() => m.apply(x));
      tf.dispose([wt, ...(bt ? [bt] : []), x, y, r, ...sd.values()]);
      m.dispose();
    });
  }

  it('throws ShapeError naming the module', () => {
    const m = new Conv1d({ inChannels: 4, outChannels: 2, kernelSize: 1 });
    const x = tf.zeros([2, 4]);
    expect(() => m.apply(x)).toThrow('Conv1d: expected input of shape [*, *, 4], got [2, 4]');
    x.dispose();
    m.dispose();
  });
});
