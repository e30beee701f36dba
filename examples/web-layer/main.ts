import { LIF, NILIF, selectBackend } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs';

const status = document.querySelector('#status') as HTMLElement;
const out = document.querySelector('#out') as HTMLElement;
try {
  const { backend, adapter } = await selectBackend('webgpu'); // throws, saying why, without an adapter
  // Input currents for 24 neurons over 8 time steps, time first: [T, N]. Seeded, so reproducible.
  const x = tf.randomUniform([8, 24], -0.5, 2.5, 'float32', 7);
  const layers = {
    'NI-LIF (spike counts 0-4)': new NILIF({ maxSteps: 8 }),
    'LIF (tau 2)': new LIF({ tau: 2 }),
  };
  const spikes: Record<string, number[][]> = {};
  for (const [name, layer] of Object.entries(layers)) {
    const s = layer.apply(x); // spikes: NI-LIF in {0, 1/4, ..., 1}, LIF in {0, 1}
    spikes[name] = (await s.array()) as number[][];
    s.dispose();
    out.textContent += `${name}\n${spikes[name].map((row) => row.map((v) => ' ▂▄▆█'[Math.round(v * 4)]).join('')).join('\n')}\n\n`;
  }
  status.textContent = `backend: ${backend} (${adapter ?? 'unknown adapter'})`;
  Object.assign(globalThis, { webLayer: { backend, adapter, spikes } });
} catch (e) {
  status.textContent = `Error: ${(e as Error).message}`;
  Object.assign(globalThis, { webLayer: { error: (e as Error).message } });
}
