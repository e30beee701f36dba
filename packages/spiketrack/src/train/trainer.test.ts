import { BatchNormBase } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNoLeak, onWebGPU } from '../../../../test-support/helpers';
import { SpikeTrackModel } from '../model/model';
import { movingSquare } from './moving-square.test-helper';
import { type TrainingSequence, TrainingSampler } from './sampler';
import { batchTensors, Trainer, type TrainerOptions, TrainingError, type TrainingLoss } from './trainer';

const config = {
  dims: [8, 8, 16, 16] as const,
  numHeads: 2,
  resolution: 32,
  templates: 1,
  decoderChannel: 16,
};

/** A textured frame with a bright square moving diagonally. */
function sequence(name: string, n: number): TrainingSequence {
  return movingSquare(name, n, {
    start: [20, 24, 14, 12],
    color: [240, 200, 40],
    background: (x, y) => ((x * 7 + y * 13) % 50) + 30,
  });
}

/** L1 between the predicted (cx, cy, w, h) and the target, a loss that needs no other module. */
const l1Loss: TrainingLoss = (out, { boxes }) => {
  const [x, y, w, h] = tf.split(boxes, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const target = tf.concat([tf.add(x, tf.div(w, 2)), tf.add(y, tf.div(h, 2)), w, h], 1);
  const total = tf.mean(tf.abs(tf.sub(out.predBoxes, target))) as tf.Scalar;
  return { total, parts: { l1: total } };
};

function setup(seed = 1, loss: TrainingLoss = l1Loss) {
  const model = new SpikeTrackModel({ config, seed });
  const sampler = new TrainingSampler([sequence('a', 20), sequence('b', 12)], {
    numTemplates: 1,
    resolution: 32,
    seed: 5,
  });
  return new Trainer({ model, sampler, loss, batchSize: 2, lr: 1e-3, stepsPerEpoch: 2, lrDropEpoch: 1 });
}

/** {@link setup}, calibrated: the frozen BatchNorms take the statistics of a batch first. */
async function calibrated(seed = 1, loss: TrainingLoss = l1Loss): Promise<Trainer<SpikeTrackModel>> {
  const t = setup(seed, loss);
  await t.calibrate();
  return t;
}

/** A trainer on `base`'s model and sampler (with the L1 loss, batch 2) with other options; disposes `base`. */
function retrained(
  base: Trainer<SpikeTrackModel>,
  opts: Partial<TrainerOptions<SpikeTrackModel>>,
): Trainer<SpikeTrackModel> {
  const t = new Trainer<SpikeTrackModel>({
    model: base.model,
    sampler: base.sampler,
    loss: l1Loss,
    batchSize: 2,
    ...opts,
  });
  base.dispose();
  return t;
}

async function params(m: SpikeTrackModel): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [k, v] of m.namedParameters()) out.set(k, Array.from(await v.data()));
  return out;
}

// Training steps of even this small model take seconds on cpu; SwiftShader is far slower.
describe.skipIf(onWebGPU())('Trainer', { timeout: 180_000 }, () => {
  it('explodes from the default initialization unless calibrated', async () => {
    const raw = setup(7);
    await expect(raw.trainStep()).rejects.toThrow(/the gradient norm is Infinity/);
    const report = await raw.calibrate();
    expect(report.modules.length).toBeGreaterThan(50);
    const log = await raw.trainStep();
    expect(Number.isFinite(log.gradNorm)).toBe(true);
    raw.dispose();
    raw.model.dispose();
  });

  const disposers: (() => void)[] = [];
  afterAll(() => {
    for (const d of disposers) d();
  });

  it('groups the encoder at 0.1× the rate, and drops the rate on schedule', async () => {
    const t = await calibrated();
    disposers.push(() => {
      t.dispose();
      t.model.dispose();
    });
    expect(t.optimizer.groupLr(1) / t.optimizer.groupLr(0)).toBeCloseTo(0.1, 12);
    const logs = [await t.trainStep()];
    t.step = 2; // the first step of epoch 1
    logs.push(await t.trainStep());
    expect(logs.map((l) => l.lr)).toEqual([1e-3, 1e-3 * 0.1]);
    expect(logs.map((l) => l.epoch)).toEqual([0, 1]);
    for (const l of logs) {
      expect(Number.isFinite(l.loss)).toBe(true);
      expect(l.parts.l1).toBeCloseTo(l.loss, 6);
      expect(l.gradNorm).toBeGreaterThan(0);
    }
    // The head trains: its last size conv changed.
    expect(t.optimizer.stepOf('decoder.conv5_size.weight')).toBe(2);
  });

  it('re-calibrates the frozen BatchNorms every recalibrateEvery steps, and only then', async () => {
    const stat = async (t: Trainer<SpikeTrackModel>) => {
      const sd = t.model.stateDict();
      const v = Array.from(await (sd.get('encoder.downsample3.encode_bn.running_mean') as tf.Tensor).data());
      tf.dispose([...sd.values()]);
      return v;
    };
    const base = await calibrated(4);
    const t = retrained(base, { lr: 1e-2, recalibrateEvery: 2 });
    const s0 = await stat(t);
    await t.trainStep(); // step 0: no re-calibration
    await t.trainStep(); // step 1
    expect(await stat(t)).toEqual(s0);
    await t.trainStep(); // step 2: re-calibrated first, to the moved weights
    expect(await stat(t)).not.toEqual(s0);
    expect(() => new Trainer({ model: t.model, sampler: t.sampler, recalibrateEvery: -1 })).toThrow(
      /recalibrateEvery must be a non-negative integer/,
    );
    t.dispose();
    t.model.dispose();
  });

  it('trains with the reference loss by default, logging its parts', async () => {
    const boosted = await calibrated(6);
    const t = new Trainer({ model: boosted.model, sampler: boosted.sampler, batchSize: 2 });
    boosted.dispose();
    const log = await t.trainStep();
    expect(Object.keys(log.parts).sort()).toEqual(['focal', 'giou', 'l1', 'mean_iou']);
    const { giou = Number.NaN, l1 = Number.NaN, focal = Number.NaN, mean_iou: iou } = log.parts;
    expect(log.loss).toBeCloseTo(2 * giou + 5 * l1 + focal, 4);
    expect(iou).toBeGreaterThanOrEqual(0);
    expect(iou).toBeLessThanOrEqual(1);
    t.dispose();
    t.model.dispose();
  });

  it("with normStats 'running' trains the BatchNorms in eval mode: fixed statistics, the eval-mode loss", async () => {
    const norms = (m: SpikeTrackModel) =>
      [...m.namedModules()].filter(([, x]) => x instanceof BatchNormBase) as [string, BatchNormBase][];
    const stats = async (m: SpikeTrackModel) => {
      const out: number[] = [];
      for (const [, n] of norms(m)) {
        const sd = n.stateDict();
        for (const k of ['running_mean', 'running_var']) out.push(...(await (sd.get(k) as tf.Tensor).data()));
        tf.dispose([...sd.values()]);
      }
      return out;
    };
    for (const mode of ['batch', 'running'] as const) {
      const base = await calibrated(7);
      const t = retrained(base, { normStats: mode });
      expect(norms(t.model).length).toBeGreaterThan(0);
      // the eval-mode loss of step 0's batch (samples 0 and 1)
      t.model.eval();
      const b = batchTensors([await t.sampler.sample(0), await t.sampler.sample(1)], 32);
      const evalLoss = tf.tidy(
        () =>
          l1Loss(t.model.forward(b.templates, b.search), {
            ...b,
            resolution: 32,
          }).total.dataSync()[0] as number,
      );
      tf.dispose([b.templates, b.search, b.boxes]);
      const before = await stats(t.model);
      const weights = async () =>
        (await Promise.all(norms(t.model).map(([, n]) => (n.weight as tf.Variable).data()))).flatMap((a) =>
          Array.from(a),
        );
      const weightBefore = await weights();
      const log = await t.trainStep();
      const after = await stats(t.model);
      // gradients reach the BatchNorms' weights in both modes
      expect(await weights()).not.toEqual(weightBefore);
      if (mode === 'running') {
        expect(after).toEqual(before);
        expect(log.loss).toBeCloseTo(evalLoss, 5);
        expect(norms(t.model).every(([, n]) => !n.training)).toBe(true);
      } else {
        expect(after).not.toEqual(before);
        expect(Math.abs(log.loss - evalLoss)).toBeGreaterThan(1e-6);
      }
      t.dispose();
      t.model.dispose();
    }
    const m = new SpikeTrackModel({ config, seed: 1 });
    const sampler = new TrainingSampler([sequence('a', 20)], { numTemplates: 1, resolution: 32, seed: 5 });
    expect(() => new Trainer({ model: m, sampler, normStats: 'frozen' as never })).toThrow(
      /normStats must be one of batch, running, got "frozen"/,
    );
    m.dispose();
  });

  it('lowers the loss of a batch it steps on', async () => {
    const c = await calibrated(2);
    c.dispose();
    // Only the head's last size and offset convs train here: the box is smooth in them, so a small
    // step must lower the loss. (A step of the spiking layers flips spikes and can move the
    // argmax cell, and the loss of a quantized network need not fall then.)
    for (const [k, v] of c.model.namedParameters()) {
      v.trainable = /^decoder\.conv5_(size|offset)\./.test(k);
    }
    const t = new Trainer({ model: c.model, sampler: c.sampler, loss: l1Loss, batchSize: 2, lr: 1e-4 });
    expect([...t.optimizer.parameterNames].sort()).toEqual([
      'decoder.conv5_offset.bias',
      'decoder.conv5_offset.weight',
      'decoder.conv5_size.bias',
      'decoder.conv5_size.weight',
    ]);
    const samples = await t.batch(0);
    const evalLoss = async () => {
      const { templates, search, boxes } = batchTensors(samples, 32);
      const v = tf.tidy(
        () => l1Loss(t.model.forward(templates, search), { boxes, resolution: 32 }).total.dataSync()[0],
      );
      tf.dispose([templates, search, boxes]);
      return v as number;
    };
    t.model.train();
    const before = await evalLoss();
    await t.trainStep(); // step 0 is batch 0
    t.model.train();
    expect(await evalLoss()).toBeLessThan(before);
    t.dispose();
    t.model.dispose();
  });

  it('resumes bit for bit from its state', async () => {
    const straight = await calibrated(3);
    for (let i = 0; i < 2; i++) await straight.trainStep();

    const first = await calibrated(3);
    await first.trainStep();
    const { tensors, metadata } = first.state();
    expect(metadata['spiketrack.trainer.step']).toBe('1');
    first.dispose();
    first.model.dispose();

    const resumed = setup(99); // other initial weights: the state overrides them
    await resumed.loadState(tensors, metadata, 'state.safetensors');
    tf.dispose([...tensors.values()]);
    expect(resumed.step).toBe(1);
    await resumed.trainStep();
    const a = await params(straight.model);
    const b = await params(resumed.model);
    for (const [k, v] of a) expect(b.get(k), k).toEqual(v);
    for (const t of [straight, resumed]) {
      t.dispose();
      t.model.dispose();
    }
  });

  it('stops on a non-finite loss without touching the weights, and does not leak', async () => {
    const nanLoss: TrainingLoss = (out) => {
      const total = tf.mul(tf.sum(out.predBoxes), Number.NaN) as tf.Scalar;
      return { total, parts: {} };
    };
    const t = await calibrated(4, nanLoss);
    const before = await params(t.model);
    await expect(t.trainStep()).rejects.toThrow(TrainingError);
    await expect(t.trainStep()).rejects.toThrow(/step 0: the loss is NaN .*last saved checkpoint is intact/);
    const after = await params(t.model);
    for (const [k, v] of before) expect(after.get(k), k).toEqual(v);
    t.dispose();
    t.model.dispose();

    const ok = await calibrated(5);
    await ok.trainStep(); // creates the optimizer's moments
    await expectNoLeak(() => ok.trainStep(), 1);
    ok.dispose();
    ok.model.dispose();
  });
});
