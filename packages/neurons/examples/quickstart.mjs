import * as tf from '@tensorflow/tfjs';
import { FiringRateMonitor, NILIF } from '@spiketrack/neurons';
import { SpikeLIF } from '@spiketrack/neurons/layers';

// A LIF layer inside a tf.sequential model. Keras layout: [batch, time, features].
const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: 16, inputShape: [8, 4] }),
    new SpikeLIF({ tau: 2, surrogate: 'atan' }),
    tf.layers.globalAveragePooling1d(),
    tf.layers.dense({ units: 2, activation: 'softmax' }),
  ],
});
model.predict(tf.randomUniform([3, 8, 4], 0, 2)).print();

// SpikeTrack's NI-LIF on a time-first [T, ...] tensor: integer spikes, normalized to {0, 1/4, ..., 1}.
const neuron = new NILIF();
const monitor = new FiringRateMonitor(neuron);
const spikes = neuron.apply(tf.randomUniform([3, 2, 5], -1, 6));
spikes.print();
console.log(await monitor.report()); // mean integer spike count per time step
