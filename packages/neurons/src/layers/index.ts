/**
 * `@spiketrack/neurons/layers`: spiking neurons as tfjs-layers layers on Keras's `[batch, time, …]`
 * input, for `tf.sequential` / `tf.model`. Importing this entry registers the classes for
 * serialization (`SpikeIF`, `SpikeLIF`, `SpikeALIF`, `SpikeILIF`, `SpikeNILIF`), so that
 * `model.save` and `tf.loadLayersModel` round-trip. Needs `@tensorflow/tfjs-layers` (or `@tensorflow/tfjs`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SPIKING_LAYER_CLASSES } from './neuron-layers';

for (const cls of SPIKING_LAYER_CLASSES) tf.serialization.registerClass(cls);

export {
  type FireLayerArgs,
  SPIKING_LAYER_CLASSES,
  SpikeALIF,
  type SpikeALIFArgs,
  SpikeIF,
  SpikeILIF,
  type SpikeILIFArgs,
  SpikeLIF,
  type SpikeLIFArgs,
  SpikeNILIF,
  type SpikeNILIFArgs,
} from './neuron-layers';
export { SpikingLayer, type SpikingLayerArgs } from './spiking-layer';
