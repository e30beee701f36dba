import {
  ConfigError,
  Conv2d,
  Identity,
  isRecordingOps,
  LIF,
  Linear,
  Module,
  NILIF,
  ShapeError,
} from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../test-support/helpers';
import { bruteConv } from './brute.test-helper';
import { countOps, OpCounter } from './count';

/**
 * Pixels → stem conv (real input: MACs) → NI-LIF (T steps) → conv (spikes: ACs) → mean pool →
 * linear (real input: MACs). Time-first `[T, B, H, W, C]`, convs on `[T·B, H, W, C]`.
 */
class SpikeNet extends Module {
  readonly stem = this.child(
    'stem',
    new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, seed: 1 }),
  );
  readonly lif = this.child('lif', new NILIF());
  readonly conv = this.child(
    'conv',
    new Conv2d({ inChannels: 4, outChannels: 5, kernelSize: 3, padding: 1, seed: 2 }),
  );
  readonly head = this.child('head', new Linear({ inFeatures: 5, outFeatures: 2, seed: 3 }));
  forward(x: tf.Tensor): tf.Tensor {
    const [t, b, h, w, c] = x.shape as number[] as [number, number, number, number, number];
    const f = this.stem.apply(tf.reshape(x, [t * b, h, w, c]));
    const [, fh, fw, fc] = f.shape as [number, number, number, number];
    const s = this.lif.apply(tf.mul(tf.reshape(f, [t, b, fh, fw, fc]), 3));
    const y = this.conv.apply(tf.reshape(s, [t * b, fh, fw, fc]));
    return this.head.apply(tf.mean(y, [1, 2]));
  }
}

/** Keeps a copy of a module's next outputs (for the brute-force counts). */
function capture(m: Module): { outputs: tf.Tensor[]; remove: () => void } {
  const outputs: tf.Tensor[] = [];
  const remove = m.onForward((_m, _in, out) => {
    outputs.push(tf.keep(tf.clone(out as tf.Tensor)));
  });
  return { outputs, remove };
}

describe('countOps on a spiking network', () => {
  it('charges the first layer and real-valued inputs as MACs, and counts ACs from NI-LIF spikes', async () => {
    const net = new SpikeNet();
    const T = 2;
    const x = tf.randomUniform([T, 1, 8, 8, 3], -1, 1, 'float32', 5);
    const cap = capture(net.lif);
    const report = await countOps(net, () => net.apply(x));
    cap.remove();
    const spikes = cap.outputs[0]!;
    const counts = Array.from(await spikes.data()).map((v) => v * 4);
    expect(counts.every((v) => Number.isInteger(v) && v >= 0 && v <= 4)).toBe(true);
    expect(counts.some((v) => v > 0 && v < 4)).toBe(true);

    expect(report.layers.map((l) => [l.path, l.kind, l.spiking, l.detection])).toEqual([
      ['stem', 'conv2d', false, 'values'],
      ['conv', 'conv2d', true, 'source'],
      ['head', 'linear', false, 'values'],
    ]);
    expect(report.timesteps).toBe(T);
    expect(report.spikeScales).toEqual([{ scale: 4, maxCount: 4 }]);
    const stem = report.layers[0]!;
    const conv = report.layers[1]!;
    const head = report.layers[2]!;
    // stem: 2·4·4 outputs × 4 channels × 3·3·3 taps, all MACs
    expect(stem).toMatchObject({ denseMacs: 2 * 16 * 4 * 27, macs: 2 * 16 * 4 * 27, acs: 0, paperAcs: 0 });
    expect(stem.inputRate).toBeNull();
    expect(stem.timesteps).toBe(T);
    expect(head).toMatchObject({ denseMacs: 2 * 5 * 2, macs: 2 * 5 * 2, acs: 0 });

    const brute = bruteConv(counts, [T, 4, 4, 4], {
      kernel: [3, 3],
      stride: [1, 1],
      padding: [
        [1, 1],
        [1, 1],
      ],
      dilation: [1, 1],
      groups: 1,
      outChannels: 5,
    });
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    expect(conv).toMatchObject({ calls: 1, timesteps: T, countScale: 4, macs: 0, spikingCalls: 1 });
    expect(conv.denseMacs).toBe(brute.macs);
    expect(conv.acs).toBe(brute.acs);
    expect(conv.inputRate).toBeCloseTo(mean, 12);
    expect(conv.paperAcs).toBeCloseTo(brute.macs * mean, 6);
    expect(report.totals).toMatchObject({
      calls: 3,
      denseMacs: stem.denseMacs + conv.denseMacs + head.denseMacs,
      macs: stem.macs + head.macs,
      acs: conv.acs,
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    tf.dispose([x, ...cap.outputs]);
    net.dispose();
  });

  it('detects normalized spikes of unknown origin from their values, and non-spikes', async () => {
    const net = new SpikeNet();
    // the same values, but not the neuron's tensor: detection from the values
    const spikes = tf.tensor4d(
      Array.from({ length: 2 * 4 * 4 * 4 }, (_, i) => (i * 7) % 5),
      [2, 4, 4, 4],
    );
    const normalized = tf.div(spikes, 4);
    const real = tf.add(normalized, 0.1);
    const report = await countOps(net, () => {
      tf.dispose([net.conv.apply(normalized), net.conv.apply(real), net.conv.apply(spikes)]);
    });
    const conv = report.layers[0]!;
    // the tree's only spike source is NI-LIF (scale 4, at most 4): the normalized call is spikes;
    // the shifted one is not on the grid, and the integer counts 0..4 give 4·v up to 16 > 4
    expect(conv).toMatchObject({
      path: 'conv',
      calls: 3,
      spiking: 'mixed',
      spikingCalls: 1,
      detection: 'values',
    });
    const brute = bruteConv(await spikes.data(), [2, 4, 4, 4], {
      kernel: [3, 3],
      stride: [1, 1],
      padding: [
        [1, 1],
        [1, 1],
      ],
      dilation: [1, 1],
      groups: 1,
      outChannels: 5,
    });
    expect(conv.acs).toBe(brute.acs);
    expect(conv.macs).toBe(2 * brute.macs);
    expect(conv.denseMacs).toBe(3 * brute.macs);
    // with levels, integer counts in [0, D] are spikes too (I-LIF style, scale 1)
    const withLevels = await countOps(net, () => net.conv.apply(spikes), { levels: 4 });
    expect(withLevels.layers[0]).toMatchObject({ spiking: true, countScale: 1, acs: brute.acs });
    tf.dispose([spikes, normalized, real]);
    net.dispose();
  });

  it('knows a neuron output by its origin, where the values alone are ambiguous', async () => {
    class Mixed extends Module {
      readonly binary = this.child('binary', new LIF());
      readonly ni = this.child('ni', new NILIF());
      readonly conv = this.child(
        'conv',
        new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 1, bias: false, seed: 1 }),
      );
      readonly conv2 = this.child(
        'conv2',
        new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 1, bias: false, seed: 1 }),
      );
      forward(x: tf.Tensor): tf.Tensor {
        // all NI-LIF counts are 0 or 4: values {0, 1}, like binary spikes
        const s = this.ni.apply(x);
        const flat = tf.reshape(s, [2, 2, 2, 2]);
        const a = this.conv.apply(flat);
        const b = this.conv2.apply(tf.mul(flat, 1)); // a new tensor: origin unknown
        return tf.add(a, b);
      }
    }
    const net = new Mixed();
    // step 1 fires wherever step 0 did (mem = (9 − 1)·σ(a) + 9 clamps to D), so every count is 0 or 4
    const x = tf.tensor5d([9, 0, 9, 9, 0, 0, 9, 0, 9, 9, 9, 9, 0, 9, 9, 0], [2, 1, 2, 2, 2]);
    const report = await countOps(net, () => net.apply(x));
    expect(report.spikeScales).toEqual([
      { scale: 1, maxCount: 1 },
      { scale: 4, maxCount: 4 },
    ]);
    const ones = 10; // values equal to 1 in the NI-LIF output
    const [conv, conv2] = report.layers;
    expect(conv).toMatchObject({ path: 'conv', detection: 'source', countScale: 4, acs: 4 * ones * 3 });
    expect(conv!.inputRate).toBeCloseTo((4 * ones) / 16, 12);
    // from the values alone, the smallest candidate scale wins: binary spikes
    expect(conv2).toMatchObject({ path: 'conv2', detection: 'values', countScale: 1, acs: ones * 3 });
    // an override settles it
    const fixed = await countOps(net, () => net.apply(x), { inputs: { conv2: 4 } });
    expect(fixed.layers[1]).toMatchObject({ detection: 'override', countScale: 4, acs: 4 * ones * 3 });
    tf.dispose(x);
    net.dispose();
  });

  it('linear: Σ counts × out_features', async () => {
    class Mlp extends Module {
      readonly lif = this.child('lif', new NILIF());
      readonly fc = this.child('fc', new Linear({ inFeatures: 6, outFeatures: 7, seed: 1 }));
      forward(x: tf.Tensor): tf.Tensor {
        return this.fc.apply(this.lif.apply(x));
      }
    }
    const net = new Mlp();
    const x = tf.randomUniform([3, 2, 6], -1, 5, 'float32', 2);
    const cap = capture(net.lif);
    const report = await countOps(net, () => net.apply(x));
    cap.remove();
    const counts = Array.from(await cap.outputs[0]!.data()).map((v) => v * 4);
    const sum = counts.reduce((a, b) => a + b, 0);
    expect(report.layers[0]).toMatchObject({
      path: 'fc',
      kind: 'linear',
      spiking: true,
      timesteps: 3,
      denseMacs: 3 * 2 * 6 * 7,
      acs: sum * 7,
    });
    expect(report.layers[0]!.paperAcs).toBeCloseTo(3 * 2 * 6 * 7 * (sum / 36), 8);
    tf.dispose([x, ...cap.outputs]);
    net.dispose();
  });

  it('per-layer overrides: force real, force spikes, explicit scale', async () => {
    const net = new SpikeNet();
    const x = tf.randomUniform([1, 1, 4, 4, 3], 0, 1, 'float32', 1);
    const forced = await countOps(net, () => net.apply(x), { inputs: { conv: false, stem: 2 } });
    const [stem, conv] = forced.layers;
    expect(conv).toMatchObject({ spiking: false, detection: 'override', acs: 0 });
    expect(conv!.macs).toBe(conv!.denseMacs);
    expect(stem).toMatchObject({ spiking: true, detection: 'override', countScale: 2, macs: 0 });
    expect(stem!.acs).toBeGreaterThan(0);
    // "true" on real values cannot find a scale: a typed error naming the layer
    const before = tf.memory().numTensors;
    await expect(countOps(net, () => net.apply(x), { inputs: { stem: true } })).rejects.toThrow(
      /inputs\['stem'\] declares the input spikes/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    net.dispose();
  });

  it('counts over several runs with OpCounter, async runs included', async () => {
    const net = new SpikeNet();
    const x = tf.randomUniform([2, 1, 4, 4, 3], -1, 1, 'float32', 3);
    const counter = new OpCounter(net);
    const y1 = await counter.measure(() => net.apply(x));
    const y2 = await counter.measure(async () => {
      await Promise.resolve();
      return net.apply(x);
    });
    const r = await counter.report();
    expect(r.layers.map((l) => l.calls)).toEqual([2, 2, 2]);
    const single = await countOps(net, () => net.apply(x));
    expect(r.totals.denseMacs).toBe(2 * single.totals.denseMacs);
    expect(r.totals.acs).toBe(2 * single.totals.acs);
    // nothing is recorded outside measure()
    tf.dispose(net.apply(x));
    expect((await counter.report()).totals.calls).toBe(6);
    counter.reset();
    expect((await counter.report()).layers).toEqual([]);
    counter.dispose();
    await expect(counter.report()).rejects.toThrow(ConfigError);
    tf.dispose([x, y1, y2]);
    net.dispose();
  });

  it('does not leak, and disposes what run returns', async () => {
    const net = new SpikeNet();
    const x = tf.randomUniform([2, 1, 4, 4, 3], -1, 1, 'float32', 4);
    await expectNoLeak(() => countOps(net, () => net.apply(x)));
    await expectNoLeak(() => countOps(net, () => ({ a: [net.apply(x)], b: net.apply(x) })));
    // a backward pass while counting: the forward records are the same, nothing stays behind
    const fwd = await countOps(net, () => net.apply(x));
    const bwd = await countOps(net, () => tf.grad((xx: tf.Tensor) => tf.sum(net.apply(xx)))(x));
    expect(bwd.totals).toEqual(fwd.totals);
    await expectNoLeak(() => countOps(net, () => tf.grad((xx: tf.Tensor) => tf.sum(net.apply(xx)))(x)));
    await expectNoLeak(async () => {
      const c = new OpCounter(net).start();
      tf.dispose(net.apply(x));
      c.dispose(); // pending tensors released unread
    });
    // a failing run stops recording and releases everything
    const before = tf.memory().numTensors;
    await expect(
      countOps(net, () => {
        tf.dispose(net.apply(x));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    net.dispose();
  });

  it('leaves no hook and no recorder behind: a detached model runs as if never counted', async () => {
    const net = new SpikeNet();
    const x = tf.randomUniform([2, 1, 4, 4, 3], -1, 1, 'float32', 6);
    // Forward hooks are private state of Module; read their number to prove they are gone.
    const hooks = () =>
      [...net.namedModules()].reduce(
        (n, [, m]) => n + (m as unknown as { _hooks: unknown[] })._hooks.length,
        0,
      );
    expect(hooks()).toBe(0);
    const counter = new OpCounter(net);
    expect(hooks()).toBe(1); // one on the NI-LIF (spike provenance)
    tf.dispose(await counter.measure(() => net.apply(x)));
    expect(isRecordingOps()).toBe(false);
    counter.dispose();
    counter.dispose(); // idempotent
    expect(hooks()).toBe(0);
    expect(isRecordingOps()).toBe(false);
    // countOps detaches too, also when the run throws
    await countOps(net, () => net.apply(x));
    await expect(countOps(net, () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(hooks()).toBe(0);
    expect(isRecordingOps()).toBe(false);
    tf.dispose(x);
    net.dispose();
  });

  it('rejects bad arguments with typed errors', async () => {
    const root = new Identity();
    const run = () => undefined;
    await expect(countOps({} as Module, run)).rejects.toThrow(/OpCounter: root must be a Module/);
    await expect(countOps(root, 3 as unknown as () => void)).rejects.toThrow(ConfigError);
    await expect(countOps(root, run, { levels: 0 })).rejects.toThrow(/levels must be an integer/);
    await expect(countOps(root, run, { timesteps: 1.5 })).rejects.toThrow(/timesteps/);
    await expect(countOps(root, run, { tolerance: -1 })).rejects.toThrow(/tolerance/);
    await expect(countOps(root, run, { spikeScales: [{ scale: 0, maxCount: 1 }] })).rejects.toThrow(
      /spike scale/,
    );
    await expect(countOps(root, run, { inputs: { a: 'yes' as unknown as boolean } })).rejects.toThrow(
      /inputs\['a'\]/,
    );
    await expect(countOps(root, run, { inputs: { a: { other: -2 } } })).rejects.toThrow(ConfigError);
    const empty = await countOps(root, run);
    expect(empty).toMatchObject({ layers: [], totals: { calls: 0, denseMacs: 0, acs: 0 }, timesteps: 1 });
    // an inconsistent record is a ShapeError naming its path
    const counter = new OpCounter(root);
    const input = tf.zeros([2, 3]);
    expect(() =>
      counter.record({
        kind: 'linear',
        path: 'bad.fc',
        input,
        weightShape: [3, 4],
        outputShape: [3, 4],
        stride: [1, 1],
        padding: [
          [0, 0],
          [0, 0],
        ],
        dilation: [1, 1],
        groups: 1,
      }),
    ).toThrow(ShapeError);
    counter.dispose();
    input.dispose();
    root.dispose();
  });
});
