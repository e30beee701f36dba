// Exact synaptic operations of convolutions against a brute-force count, at the borders and with
// stride, padding, dilation, depthwise and grouped convolutions.
import { Conv1d, Conv2d, type Conv2dPadding, conv2dNhwc, Module } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type BruteConv, bruteConv, randomCounts } from './brute.test-helper';
import { countOps } from './count';
import { axisFanout } from './geometry';

class Net extends Module {
  readonly conv: Conv2d;
  constructor(conv: Conv2d) {
    super();
    this.conv = this.child('conv', conv);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.conv.apply(x);
  }
}

interface Case {
  name: string;
  shape: [number, number, number, number];
  inChannels: number;
  outChannels: number;
  kernel: number | [number, number];
  stride?: number | [number, number];
  padding?: Conv2dPadding;
  dilation?: number | [number, number];
  groups?: number;
}

const cases: Case[] = [
  {
    name: '3×3, stride 2, padding 1',
    shape: [2, 7, 6, 3],
    inChannels: 3,
    outChannels: 4,
    kernel: 3,
    stride: 2,
    padding: 1,
  },
  {
    name: '3×3, stride 2, no padding (last row unread)',
    shape: [1, 6, 6, 2],
    inChannels: 2,
    outChannels: 3,
    kernel: 3,
    stride: 2,
  },
  {
    name: 'asymmetric padding, 2×3 kernel, stride [2, 1]',
    shape: [1, 5, 6, 2],
    inChannels: 2,
    outChannels: 2,
    kernel: [2, 3],
    stride: [2, 1],
    padding: [
      [0, 1],
      [2, 0],
    ],
  },
  {
    name: 'dilation 2, padding same',
    shape: [1, 7, 7, 2],
    inChannels: 2,
    outChannels: 3,
    kernel: 3,
    padding: 'same',
    dilation: 2,
  },
  {
    name: 'dilation [2, 1], stride 1, padding [1, 2]',
    shape: [1, 6, 5, 2],
    inChannels: 2,
    outChannels: 2,
    kernel: 3,
    dilation: [2, 1],
    padding: [1, 2],
  },
  {
    name: 'depthwise 7×7, padding 3 (×2 multiplier)',
    shape: [1, 6, 6, 3],
    inChannels: 3,
    outChannels: 6,
    kernel: 7,
    padding: 3,
    groups: 3,
  },
  {
    name: 'depthwise 3×3, stride 2, padding 1',
    shape: [2, 5, 5, 4],
    inChannels: 4,
    outChannels: 4,
    kernel: 3,
    stride: 2,
    padding: 1,
    groups: 4,
  },
  {
    name: 'grouped (2 groups), 3×3, padding 1',
    shape: [1, 5, 4, 4],
    inChannels: 4,
    outChannels: 6,
    kernel: 3,
    padding: 1,
    groups: 2,
  },
];

describe('exact ACs of Conv2d', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const conv = new Conv2d({
        inChannels: c.inChannels,
        outChannels: c.outChannels,
        kernelSize: c.kernel,
        stride: c.stride ?? 1,
        padding: c.padding ?? 0,
        dilation: c.dilation ?? 1,
        groups: c.groups ?? 1,
        seed: 1,
      });
      const net = new Net(conv);
      const size = c.shape.reduce((a, b) => a * b, 1);
      const counts = randomCounts(size, 4, size + 7, 0.6);
      // NI-LIF style: counts normalized by D = 4
      const x = tf.tensor4d(
        counts.map((v) => v / 4),
        c.shape,
      );
      const report = await countOps(net, () => net.apply(x), { levels: 4 });
      const g: BruteConv = {
        kernel: conv.kernelSize,
        stride: conv.stride,
        padding: conv.padding,
        dilation: conv.dilation,
        groups: conv.groups,
        outChannels: c.outChannels,
      };
      const brute = bruteConv(counts, c.shape, g);
      expect(report.layers).toHaveLength(1);
      const l = report.layers[0]!;
      expect(l).toMatchObject({
        path: 'conv',
        kind: (c.groups ?? 1) > 1 && c.groups === c.inChannels ? 'depthwiseConv2d' : 'conv2d',
        calls: 1,
        spiking: true,
        countScale: 4,
        detection: 'values',
        macs: 0,
      });
      expect(l.denseMacs).toBe(brute.macs);
      expect(l.acs).toBe(brute.acs);
      const total = counts.reduce((a, b) => a + b, 0);
      expect(l.inputRate).toBeCloseTo(total / size, 12);
      expect(l.paperAcs).toBeCloseTo((brute.macs * total) / size, 6);
      tf.dispose(x);
      net.dispose();
    });
  }

  it('equals a conv of the count map with a ones kernel of the same geometry, summed', async () => {
    // the textbook form of the count, computed with tfjs as an independent check
    const conv = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: 1, seed: 2 });
    const net = new Net(conv);
    const counts = randomCounts(1 * 6 * 5 * 2, 4, 11, 0.5);
    const x = tf.tensor4d(
      counts.map((v) => v / 4),
      [1, 6, 5, 2],
    );
    const report = await countOps(net, () => net.apply(x), { levels: 4 });
    const viaConv = tf.tidy(() =>
      tf.sum(conv2dNhwc(tf.mul(x, 4), tf.ones([3, 3, 2, 3]), { stride: 2, padding: 1 })),
    );
    expect(report.layers[0]!.acs).toBe((await viaConv.data())[0]);
    tf.dispose([x, viaConv]);
    net.dispose();
  });

  it('conv2dNhwc with groups = in channels in the conv layout (a folded depthwise conv)', async () => {
    class Folded extends Module {
      readonly w = tf.keep(tf.ones([3, 3, 1, 4]));
      forward(x: tf.Tensor): tf.Tensor {
        return conv2dNhwc(x, this.w, {
          groups: 2,
          padding: [
            [1, 0],
            [0, 1],
          ],
          stride: 2,
          recordAs: 'dw.folded',
        });
      }
      protected override onDispose(): void {
        this.w.dispose();
      }
    }
    const net = new Folded();
    const counts = randomCounts(1 * 5 * 5 * 2, 1, 5, 0.5);
    const x = tf.tensor4d(counts, [1, 5, 5, 2]);
    const report = await countOps(net, () => net.apply(x));
    const brute = bruteConv(counts, [1, 5, 5, 2], {
      kernel: [3, 3],
      stride: [2, 2],
      padding: [
        [1, 0],
        [0, 1],
      ],
      dilation: [1, 1],
      groups: 2,
      outChannels: 4,
    });
    const l = report.layers[0]!;
    expect(l).toMatchObject({ path: 'dw.folded', kind: 'depthwiseConv2d', spiking: true, countScale: 1 });
    expect(l.denseMacs).toBe(brute.macs);
    expect(l.acs).toBe(brute.acs);
    tf.dispose(x);
    net.dispose();
  });
});

describe('exact ACs of Conv1d', () => {
  for (const [name, opts] of [
    ['kernel 3, stride 2, padding 1', { kernelSize: 3, stride: 2, padding: 1 }],
    [
      'kernel 3, dilation 2, padding [0, 2], 2 groups',
      { kernelSize: 3, dilation: 2, padding: [0, 2], groups: 2 },
    ],
    ['pointwise (one matrix product)', { kernelSize: 1 }],
  ] as const) {
    it(name, async () => {
      const conv = new Conv1d({ inChannels: 4, outChannels: 6, seed: 3, ...opts } as ConstructorParameters<
        typeof Conv1d
      >[0]);
      class Net1 extends Module {
        readonly c = this.child('mlp', conv);
        forward(x: tf.Tensor): tf.Tensor {
          return this.c.apply(x);
        }
      }
      const net = new Net1();
      const counts = randomCounts(2 * 7 * 4, 4, 9, 0.5);
      const x = tf.tensor3d(counts, [2, 7, 4]);
      const report = await countOps(net, () => net.apply(x), { levels: 4 });
      // a conv1d is a 1×k conv2d on [N, 1, L, C]
      const brute = bruteConv(counts, [2, 1, 7, 4], {
        kernel: [1, conv.kernelSize],
        stride: [1, conv.stride],
        padding: [[0, 0], conv.padding],
        dilation: [1, conv.dilation],
        groups: conv.groups,
        outChannels: 6,
      });
      const l = report.layers[0]!;
      expect(l).toMatchObject({ path: 'mlp', kind: 'conv1d', spiking: true, countScale: 1 });
      expect(l.denseMacs).toBe(brute.macs);
      expect(l.acs).toBe(brute.acs);
      tf.dispose(x);
      net.dispose();
    });
  }
});

describe('axisFanout', () => {
  it('counts the windows that read each index', () => {
    // size 5, kernel 3, stride 2, padding 1 → outputs read [-1,0,1], [1,2,3], [3,4,5]
    expect(Array.from(axisFanout(5, 3, 3, 2, 1, 1))).toEqual([1, 2, 1, 2, 1]);
    // no padding, stride 2: the last index is never read
    expect(Array.from(axisFanout(6, 2, 3, 2, 1, 0))).toEqual([1, 1, 2, 1, 1, 0]);
    // dilation 2, padding 2 ('same'): taps at -2, 0, +2
    expect(Array.from(axisFanout(4, 4, 3, 1, 2, 2))).toEqual([2, 2, 2, 2]);
  });
});
