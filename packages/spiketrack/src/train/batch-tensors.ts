/** A batch of training samples as the network's input tensors. */
import { ConfigError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingSample } from './sampler';

/** Stacks samples into the model's inputs: templates `[T, B, R, R, 3]`, search `[1, B, R, R, 3]`, boxes `[B, 4]`. */
export function batchTensors(
  samples: readonly TrainingSample[],
  resolution: number,
): {
  templates: tf.Tensor5D;
  search: tf.Tensor5D;
  boxes: tf.Tensor2D;
} {
  const B = samples.length;
  const T = (samples[0] as TrainingSample).templates.length;
  const px = resolution * resolution * 3;
  const tData = new Float32Array(T * B * px);
  const sData = new Float32Array(B * px);
  const bData = new Float32Array(B * 4);
  samples.forEach((s, b) => {
    if (s.templates.length !== T)
      throw new ConfigError(`batchTensors: sample ${b} has ${s.templates.length} templates, not ${T}`);
    s.templates.forEach((t, i) => {
      tData.set(t, (i * B + b) * px);
    });
    sData.set(s.search, b * px);
    bData.set(s.searchBox, b * 4);
  });
  return {
    templates: tf.tensor5d(tData, [T, B, resolution, resolution, 3]),
    search: tf.tensor5d(sData, [1, B, resolution, resolution, 3]),
    boxes: tf.tensor2d(bData, [B, 4]),
  };
}
