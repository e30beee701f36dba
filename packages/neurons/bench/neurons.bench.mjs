#!/usr/bin/env node
// One backend's run of the neurons benchmark: multi-step LIF and NI-LIF over 1M neurons for
// T = 1..4, composite ops and fused kernels, against one tf.add over the same [T, 1M] tensor (the memory-bound floor).
// Prints `RESULT <json>`; bench/run.mjs collects it. Uses the built package (dist/).
import * as tf from '@tensorflow/tfjs-core';
import { lif, lifFused, niLif, niLifFused } from '@spiketrack/neurons';
import { selectBackend } from '@spiketrack/neurons/node';

const backend = process.argv[2] ?? 'wasm';
const NEURONS = 1_000_000;
const MIN_MS = Number(process.env.SPIKETRACK_BENCH_MIN_MS ?? 1500);

try {
  await selectBackend(backend);
} catch (e) {
  console.log(`unavailable: ${e.message.split('\n')[0]}`);
  process.exit(0);
}

/** Median ms per call of fn (which returns a tensor), synchronizing on a scalar read. */
async function time(fn) {
  const run = async () => {
    const y = fn();
    const s = tf.sum(y);
    await s.data();
    tf.dispose([y, s]);
  };
  await run(); // warm-up: shader compilation, kernel caches
  await run();
  const samples = [];
  const start = performance.now();
  while (performance.now() - start < MIN_MS || samples.length < 3) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const cases = [];
const decay = tf.fill([3], -Math.log(3));
for (let T = 1; T <= 4; T++) {
  const x = tf.randomUniform([T, NEURONS], -1, 5, 'float32', T);
  const floor = await time(() => tf.add(x, x));
  for (const [name, fn] of [
    ['LIF (hard reset, tau 2)', () => lif(x, { tau: 2 })],
    ['NI-LIF (D = 4)', () => niLif(x, decay)],
    ['LIF fused kernel (hard reset, tau 2)', () => lifFused(x, { tau: 2 })],
    ['NI-LIF fused kernel (D = 4)', () => niLifFused(x, decay)],
  ]) {
    const ms = await time(fn);
    cases.push({
      name,
      T,
      neurons: NEURONS,
      msPerCall: ms,
      neuronStepsPerSec: (T * NEURONS) / (ms / 1000),
      addFloorMs: floor,
      ratioToAdd: ms / floor,
    });
  }
  x.dispose();
}
decay.dispose();
const info = { backend, tfjsBackend: tf.getBackend(), cases };
console.log(`RESULT ${JSON.stringify(info)}`);
