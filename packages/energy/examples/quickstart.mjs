import { countOps, energy, formatEnergyTable } from '@spiketrack/energy';
import { Conv2d, Linear, Module, NILIF } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs';

// A small spiking network, time first [T, B, H, W, C]: pixels → conv → NI-LIF → conv → NI-LIF → linear.
class TinySNN extends Module {
  stem = this.child(
    'stem',
    new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, stride: 2, padding: 1, seed: 1 }),
  );
  lif1 = this.child('lif1', new NILIF());
  conv = this.child(
    'conv',
    new Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3, stride: 2, padding: 1, seed: 2 }),
  );
  lif2 = this.child('lif2', new NILIF());
  head = this.child('head', new Linear({ inFeatures: 16, outFeatures: 10, seed: 3 }));

  forward(x) {
    const [T, B] = x.shape;
    const merge = (t) => tf.reshape(t, [T * B, ...t.shape.slice(2)]); // convs run on [T·B, H, W, C]
    const split = (t) => tf.reshape(t, [T, B, ...t.shape.slice(1)]);
    const s1 = this.lif1.apply(split(this.stem.apply(merge(x))));
    const s2 = this.lif2.apply(split(tf.mul(this.conv.apply(merge(s1)), 4))); // a gain where a BatchNorm would be
    return tf.mean(this.head.apply(s2), [0, 2, 3]); // a linear readout per position, averaged
  }
}

const net = new TinySNN();
const image = tf.randomUniform([1, 1, 32, 32, 3], 0, 2, 'float32', 7);
const input = tf.tile(image, [4, 1, 1, 1, 1]); // the same image over T = 4 steps

// Run the forward pass once while counting: dense MACs, ACs from the actual spikes, firing rates.
const report = await countOps(net, () => net.apply(input));
const e = energy(report); // 45nm-fp32 (Horowitz, ISSCC 2014): E_MAC 4.6 pJ, E_AC 0.9 pJ
console.log(formatEnergyTable(e));
console.log(
  `SNN/ANN energy: ${e.exact.ratioToAnn.toFixed(3)} (exact), ${e.paper.ratioToAnn.toFixed(3)} (paper)`,
);
tf.dispose([image, input]);
net.dispose();
