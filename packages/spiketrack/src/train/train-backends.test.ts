/**
 * Training runs on every backend with the same code: one calibrated step of a small network on
 * this backend takes the same loss and gradient norm as on cpu, and changes the same parameters.
 * On WebGPU it runs only with SPIKETRACK_TRAIN_WEBGPU=1: on SwiftShader (CI's software Vulkan) the
 * step and its calibration take 2.5–10 minutes (4 on 2026-12-04, passing), too long for every CI run. (It found that one
 * `addN` over all gradient norms failed on WebGPU; `clipGradNorm`'s own test covers that now. A
 * run of `spiketrack train --backend webgpu` on a real GPU found that the step read the gradient
 * norm with `dataSync()`, which WebGPU in Node cannot do for a tensor on the GPU; it reads it
 * asynchronously now.)
 */
import type { BackendName } from '@spiketrack/neurons';
import { selectBackend } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { SpikeTrackModel } from '../model/model';
import { movingSquare } from './moving-square.test-helper';
import { type TrainingSequence, TrainingSampler } from './sampler';
import { Trainer } from './trainer';

/** A bright square drifting over a textured background. */
function drifting(name: string, n: number): TrainingSequence {
  return movingSquare(name, n, {
    start: [18, 22, 16, 12],
    color: [230, 60, 90],
    background: (x, y) => ((x * 11 + y * 5) % 60) + 40,
  });
}

interface StepResult {
  loss: number;
  gradNorm: number;
  changed: string[];
}

/** One calibrated step with the reference loss; which parameters it moved. */
async function oneStep(): Promise<StepResult> {
  const model = new SpikeTrackModel({
    config: { dims: [8, 8, 16, 16], numHeads: 2, resolution: 32, templates: 1, decoderChannel: 16 },
    seed: 3,
  });
  const sampler = new TrainingSampler([drifting('a', 16), drifting('b', 10)], {
    numTemplates: 1,
    resolution: 32,
    seed: 9,
  });
  const trainer = new Trainer({ model, sampler, batchSize: 2 });
  try {
    await trainer.calibrate();
    const before = new Map<string, Float32Array>();
    for (const [k, v] of model.namedParameters()) before.set(k, (await v.data()) as Float32Array);
    const log = await trainer.trainStep();
    const changed: string[] = [];
    for (const [k, v] of model.namedParameters()) {
      const a = before.get(k) as Float32Array;
      const b = (await v.data()) as Float32Array;
      if (a.some((x, i) => x !== b[i])) changed.push(k);
    }
    return { loss: log.loss, gradNorm: log.gradNorm, changed };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

describe('training on every backend', { timeout: 600_000 }, () => {
  const skip =
    testBackend() === 'cpu' || (testBackend() === 'webgpu' && process.env.SPIKETRACK_TRAIN_WEBGPU !== '1');
  it.skipIf(skip)('takes the step cpu takes', async () => {
    const backend = tf.getBackend() as BackendName;
    const here = await oneStep();
    await selectBackend('cpu');
    let cpu: StepResult;
    try {
      cpu = await oneStep();
    } finally {
      await selectBackend(backend);
    }
    console.log(
      JSON.stringify({
        here: { ...here, changed: here.changed.length },
        cpu: { ...cpu, changed: cpu.changed.length },
      }),
    );
    expect(Number.isFinite(here.loss) && Number.isFinite(here.gradNorm)).toBe(true);
    // f32 sums in another order can move a membrane across a rounding edge: close, not equal
    expect(Math.abs(here.loss - cpu.loss)).toBeLessThanOrEqual(0.02 * Math.abs(cpu.loss));
    expect(Math.abs(here.gradNorm - cpu.gradNorm)).toBeLessThanOrEqual(0.05 * cpu.gradNorm);
    const common = here.changed.filter((k) => cpu.changed.includes(k));
    expect(common.length).toBeGreaterThanOrEqual(0.95 * cpu.changed.length);
    expect(cpu.changed.some((k) => k.startsWith('encoder.'))).toBe(true);
    expect(cpu.changed.some((k) => k.startsWith('decoder.'))).toBe(true);
  });
});
