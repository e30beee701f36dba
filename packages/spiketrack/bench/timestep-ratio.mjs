#!/usr/bin/env node
// The per-frame T = 3 / T = 1 ratio of one backbone, measured interleaved: the T = 1 and the T = 3
// model live in one process and their frames alternate, so that the host's slow and fast minutes
// fall on both alike (timed in separate processes minutes apart, the ratio moves by ±0.2 on this
// project's shared 2-core machines). Random weights, eval mode, the fast path (trackFrame on
// cached templates). Prints `RESULT <json>`; bench/run.mjs collects it. Uses the built package.
//
// node bench/timestep-ratio.mjs <backend> <t1-config> <t3-config>
// <backend>: wasm, wasm-mt (XNNPACK's threads, one per core), cpu, …
import * as tf from '@tensorflow/tfjs-core';
import { SpikeTrackModel } from 'spiketrack';
import { selectBenchBackend } from './select-bench-backend.mjs';

const [backend = 'wasm', t1 = 'tiny_256_t1', t3 = 'tiny_256_t3'] = process.argv.slice(2);
/** Alternating pairs of frames after the warm-up pairs. */
const PAIRS = Number(process.env.SPIKETRACK_BENCH_PAIRS ?? 15);
const WARMUP_PAIRS = 5;

try {
  await selectBenchBackend(backend);
} catch (e) {
  console.log(`unavailable: ${e.message.split('\n')[0]}`);
  process.exit(0);
}

/** A function that runs (and times) one frame of `config` on fixed random inputs. */
function frameOf(config) {
  const model = new SpikeTrackModel({ config, seed: 1 });
  model.eval();
  const { resolution: R, templates: T } = model.config;
  const templates = tf.randomNormal([T, 1, R, R, 3], 0, 1, 'float32', 2);
  const search = tf.randomNormal([1, R, R, 3], 0, 1, 'float32', 3);
  const cache = model.encodeTemplates(templates);
  return async () => {
    const t0 = performance.now();
    const out = model.trackFrame(search, cache);
    await out.scoreMap.data();
    tf.dispose(out);
    return performance.now() - t0;
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const one = frameOf(t1);
const three = frameOf(t3);
for (let i = 0; i < WARMUP_PAIRS; i++) {
  await one();
  await three();
}
const a = [];
const b = [];
for (let i = 0; i < PAIRS; i++) {
  a.push(await one());
  b.push(await three());
}
console.log(
  `RESULT ${JSON.stringify({ backend, t1, t3, pairs: PAIRS, t1Ms: median(a), t3Ms: median(b), ratio: median(b) / median(a), t1SamplesMs: a, t3SamplesMs: b })}`,
);
process.exit(0);
