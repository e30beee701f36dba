import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../../test-support/helpers';
import { ConfigError } from '../core/errors';
import { Module } from '../core/module';
import type { SpikeSource } from '../core/spike-source';
import { LIF, NILIF } from '../neurons/modules';
import { FiringRateMonitor } from './firing-rate-monitor';

/** Emits normalized integer spikes round(clamp(x, 0, 4)) / 4 on [T, ...] input (a stateless quantizer). */
class Quantizer extends Module implements SpikeSource {
  readonly spikeCountScale = 4;
  readonly maxSpikesPerStep = 4;
  outputTimeAxis: number | null = 0;
  forward(x: tf.Tensor): tf.Tensor {
    return tf.div(tf.round(tf.clipByValue(x, 0, 4)), 4);
  }
}

class Net extends Module<[tf.Tensor, tf.Tensor]> {
  readonly a = this.child('a', new Quantizer());
  readonly b = this.child('b', new Quantizer());
  forward(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    const s = this.a.apply(x);
    this.b.apply(y);
    return this.b.apply(s);
  }
}

describe('FiringRateMonitor', () => {
  it('records the mean integer spike count per time step, per call, as plain JSON', async () => {
    const net = new Net();
    const mon = new FiringRateMonitor(net);
    expect(mon.paths).toEqual(['a', 'b']);
    // T = 2 steps of 4 elements: step 0 counts [0,1,2,3] (mean 1.5), step 1 counts [4,4,0,0] (mean 2)
    const x = tf.tensor2d([
      [0.2, 1, 2.4, 3],
      [9, 4, -1, 0.4],
    ]);
    // one step of 2 elements: counts [2, 4]
    const y = tf.tensor2d([[2, 7]]);
    net.apply(x, y).dispose();
    const report = await mon.report();
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(report.a!.per_step).toEqual([1.5, 2]);
    expect(report.a!.mean).toBeCloseTo(1.75, 12);
    expect(report.a!.calls).toBe(1);
    // b: first on y (one step: 3), then on a's output (counts [0,1,2,3] -> s/4 -> round(s/4): 0,0,0,1 ; [1,1,0,0])
    expect(report.b!.calls).toBe(2);
    expect(report.b!.per_step).toEqual([3, 0.25, 0.5]);
    // element-weighted: (3*2 + 0.25*4 + 0.5*4) / 10
    expect(report.b!.mean).toBeCloseTo(0.9, 12);
    expect(report.b!.neuron_steps).toBe(10);

    mon.reset();
    expect((await mon.report()).a!.per_step).toEqual([]);
    mon.detach();
    net.apply(x, y).dispose();
    expect((await mon.report()).a!.calls).toBe(0);
    tf.dispose([x, y]);
    net.dispose();
  });

  it('treats a single-step call as one step', async () => {
    const q = new Quantizer();
    q.outputTimeAxis = null;
    const mon = new FiringRateMonitor(q);
    const x = tf.tensor1d([1, 2, 3, 6]);
    q.apply(x).dispose();
    const r = await mon.report();
    expect(r.Quantizer!.per_step).toEqual([2.5]);
    mon.detach();
    x.dispose();
    q.dispose();
  });

  it('leaks no tensors once reported, and rejects trees without neurons', async () => {
    const net = new Net();
    const mon = new FiringRateMonitor(net);
    const x = tf.ones([3, 5]);
    await expectNoLeak(async () => {
      net.apply(x, x).dispose();
      await mon.report();
    });
    mon.detach();
    x.dispose();
    net.dispose();
    class Plain extends Module {
      forward(x: tf.Tensor) {
        return x;
      }
    }
    expect(() => new FiringRateMonitor(new Plain())).toThrow(ConfigError);
  });

  it('reads NI-LIF and LIF modules: counts = spikes x D per step, and single steps', async () => {
    const ni = new NILIF();
    const lifN = new LIF({ tau: 2 });
    const mon = new FiringRateMonitor(ni);
    const monL = new FiringRateMonitor(lifN);
    const x = tf.randomUniform([3, 2, 4, 4, 5], -1, 6, 'float32', 7);
    const s = ni.apply(x);
    const expected = await tf.tidy(() => tf.mean(tf.mul(s, 4), [1, 2, 3, 4])).data();
    const sl = lifN.apply(x);
    const expectedL = await tf.tidy(() => tf.mean(sl, [1, 2, 3, 4])).data();
    const { spikes, state } = ni.step(tf.ones([2, 3]));
    const r = await mon.report();
    expect(r.NILIF!.per_step.slice(0, 3)).toEqual(Array.from(expected));
    expect(r.NILIF!.per_step[3]).toBe(1); // one step of ones: round(clamp(1, 0, 4)) = 1 spike
    expect(r.NILIF!.calls).toBe(2);
    expect((await monL.report()).LIF!.per_step).toEqual(Array.from(expectedL));
    tf.dispose([x, s, sl, spikes, ...Object.values(state).filter((v) => v instanceof tf.Tensor)]);
    mon.detach();
    monL.detach();
    ni.dispose();
    lifN.dispose();
  });
});
