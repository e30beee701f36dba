/**
 * The TrackingNetwork interface: a network that is not a SpikeTrackModel (a one-layer spiking
 * encoder, a template gain, and the center head with LIF neurons) runs in the Tracker, trains with
 * the Trainer (state and resume included), and is measured by trackerEnergy, without leaks.
 */
import { ConfigError, LIF, Module } from '@spiketrack/neurons';
import { SpikingDownsample } from '@spiketrack/spike-transformer';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, onWebGPU } from '../../../../test-support/helpers';
import { trackerEnergy } from '../energy/tracker-energy';
import type { RgbImage } from '../frames/rgb-image';
import { CenterPredictor, type HeadOutput } from '../head/center-predictor';
import type { Box } from '../tracker/box';
import { Tracker } from '../tracker/tracker';
import { TrainingSampler, type TrainingSequence } from '../train/sampler';
import { Trainer } from '../train/trainer';
import { SpikeTrackModel } from './model';
import {
  assertTrackingNetwork,
  isTrackingNetwork,
  type TemplateInput,
  type TemplateState,
  type TrackingNetwork,
  toSearchTensor,
  toTemplateTensor,
} from './tracking-network';

/** The mean template feature map, owned. */
class MeanTemplate implements TemplateState {
  constructor(readonly features: tf.Tensor) {}
  dispose(): void {
    this.features.dispose();
  }
}

/** A minimal spiking tracker: a stride-16 spiking conv, the search gated by the templates, the head. */
class TinyNet
  extends Module<[TemplateInput, tf.Tensor], HeadOutput>
  implements TrackingNetwork<MeanTemplate>
{
  readonly config = { name: 'tiny-net', resolution: 32, templates: 2 } as const;
  readonly encoder: SpikingDownsample;
  readonly decoder: CenterPredictor;

  constructor(seed: number) {
    super();
    this.encoder = this.child(
      'encoder',
      new SpikingDownsample({ inChannels: 3, outChannels: 8, kernelSize: 16, stride: 16, padding: 0, seed }),
    );
    this.decoder = this.child(
      'decoder',
      new CenterPredictor({ inplanes: 8, channel: 8, featSize: 2, neuron: { type: 'lif' }, seed: seed + 1 }),
    );
  }

  private templateFeatures(templates: TemplateInput): tf.Tensor {
    const t = toTemplateTensor(templates, `${this.label}: templates`);
    return tf.mean(this.encoder.apply(t), 0, true);
  }

  private head(search: tf.Tensor, features: tf.Tensor): HeadOutput {
    const s = this.encoder.apply(toSearchTensor(search, this.label));
    return this.decoder.apply(tf.mul(s, tf.sigmoid(features)));
  }

  forward(templates: TemplateInput, search: tf.Tensor): HeadOutput {
    return this.head(search, this.templateFeatures(templates));
  }

  encodeTemplates(templates: TemplateInput): MeanTemplate {
    return new MeanTemplate(tf.tidy(() => this.templateFeatures(templates)));
  }

  trackFrame(search: tf.Tensor, cache: MeanTemplate): HeadOutput {
    return tf.tidy(
      () => this.head(search, cache.features) as unknown as tf.TensorContainer,
    ) as unknown as HeadOutput;
  }
}

const W = 80;
const H = 64;
const boxAt = (i: number): Box => [24 + 2 * i, 18 + i, 16, 12];
function frame(i: number): RgbImage {
  const [x, y, w, h] = boxAt(i);
  const data = new Uint8Array(W * H * 3);
  for (let r = 0; r < H; r++)
    for (let c = 0; c < W; c++) {
      const inside = c >= x && c < x + w && r >= y && r < y + h;
      for (let k = 0; k < 3; k++)
        data[(r * W + c) * 3 + k] = inside ? 220 - 30 * k : (r * 5 + c * 11 + k * 40) % 100;
    }
  return { width: W, height: H, data };
}
const sequence: TrainingSequence = { name: 's', length: 12, box: boxAt, visible: () => true, frame };

describe('TrackingNetwork', () => {
  it('SpikeTrackModel is one; other values are refused with what they lack', () => {
    const m = new SpikeTrackModel({ config: { base: 'tiny_256_t3', resolution: 32, templates: 1 } });
    expect(isTrackingNetwork(m)).toBe(true);
    m.dispose();
    expect(isTrackingNetwork({})).toBe(false);
    expect(() => assertTrackingNetwork({ config: {} }, 'X')).toThrow(
      /X: not a tracking network: no forward, apply/,
    );
    const net = new TinyNet(1);
    Object.defineProperty(net, 'config', { value: { resolution: 30, templates: 1 } });
    expect(() => assertTrackingNetwork(net, 'X')).toThrow(/resolution \(a positive multiple of 16\)/);
    net.dispose();
  });

  it.skipIf(onWebGPU())(
    'runs in the Tracker (template updates included) and in trackerEnergy, without leaks',
    async () => {
      const net = new TinyNet(3);
      await expect(Tracker.create({ model: {} as never })).rejects.toThrow(ConfigError);
      const tracker = await Tracker.create({ model: net, updateInterval: 1, updateThreshold: -1 });
      expect(tracker.model).toBe(net);
      await tracker.initialize(frame(0), boxAt(0));
      const r = await tracker.track(frame(1));
      expect(r.box.every(Number.isFinite)).toBe(true);
      expect(r.updated).toBe(true);
      let i = 2;
      await expectNoLeak(() => tracker.track(frame(i++)), 3);
      tracker.dispose();
      expect(net.isDisposed).toBe(false);

      const crop = () => tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 5);
      const templates = [crop(), crop()];
      const search = crop();
      const report = await trackerEnergy(net, { templates, search, interval: 10 });
      expect(report.config).toBe('tiny-net');
      expect(report.per_frame.dense_macs).toBeGreaterThan(0);
      expect(report.stages.map((s) => s.stage)).toContain('head');
      const lif = [...net.namedModules().values()].filter((m) => m instanceof LIF);
      expect(lif.length).toBe(13);
      await expectNoLeak(() => trackerEnergy(net, { templates, search }).then(() => undefined), 2);
      tf.dispose([...templates, search]);
      net.dispose();
    },
    120_000,
  );

  it.skipIf(onWebGPU())(
    'trains with the Trainer: calibration, a step that changes the weights, an exact resume',
    async () => {
      const make = (seed: number) => {
        const sampler = new TrainingSampler([sequence], { numTemplates: 2, resolution: 32, seed: 2 });
        return new Trainer({ model: new TinyNet(seed), sampler, batchSize: 2, lr: 1e-3 });
      };
      expect(
        () =>
          new Trainer({
            model: new TinyNet(1),
            sampler: new TrainingSampler([sequence], { numTemplates: 1, resolution: 32 }),
          }),
      ).toThrow(/the sampler gives 1 templates, the model takes 2/);
      const a = make(7);
      await a.calibrate();
      const weight = () => a.model.namedParameters().get('decoder.conv5_ctr.weight') as tf.Variable;
      const before = await weight().data();
      const log = await a.trainStep();
      expect(Number.isFinite(log.loss)).toBe(true);
      expect(Object.keys(log.parts)).toEqual(['giou', 'l1', 'focal', 'mean_iou']);
      const after = await weight().data();
      expect(Array.from(after)).not.toEqual(Array.from(before));
      const { tensors, metadata } = a.state();
      const b = make(99);
      await b.loadState(tensors, metadata);
      tf.dispose([...tensors.values()]);
      await a.trainStep();
      await b.trainStep();
      for (const [k, v] of a.model.stateDict()) {
        const w = b.model.stateDict().get(k) as tf.Tensor;
        expect(Array.from(await w.data()), k).toEqual(Array.from(await v.data()));
      }
      const steps = () => a.trainStep().then(() => undefined);
      await expectNoLeak(steps, 2);
      for (const t of [a, b]) {
        t.dispose();
        t.model.dispose();
      }
    },
    120_000,
  );
});
