#!/usr/bin/env node
// One run of the model benchmark: one backend, one configuration, in its own process (so the peak
// RSS is this configuration's). Randomly initialized weights (the latency does not depend on
// them), eval mode, normalized random images. Measures, each after warm-up runs (up to 3 s):
// - `model.encodeTemplates(templates)` (the template refresh),
// - `model.trackFrame(search, cache)` (the per-frame fast path),
// - `model.apply(templates, search)` (the full `forward`, both branches),
// with the peak of `tf.memory()` bytes inside each call (tf.profile), the process's peak RSS, the
// dense MACs of one trackFrame call (@spiketrack/energy's countOps), and a large 3×3 conv2d as the
// backend's attainable GFLOP/s. Prints `RESULT <json>`; bench/run.mjs collects it. Uses the built
// package (dist/).
//
// node bench/model.bench.mjs <backend> <config> [--no-count]
// <backend>: wasm, wasm-mt (wasm on XNNPACK's threads, one per core), wasm-2t (wasm with two-thread
// convolutions), cpu, webgpu, tensorflow
import { countOps } from '@spiketrack/energy';
import { wasmConvThreadsStats } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import { SpikeTrackModel } from 'spiketrack';
import { selectBenchBackend } from './select-bench-backend.mjs';

const [backend = 'wasm', configName = 'tiny_256_t1', ...flags] = process.argv.slice(2);
const countMacs = !flags.includes('--no-count');
/** Keep timing a call until this much time has passed (after the minimum number of runs). */
const MIN_MS = Number(process.env.SPIKETRACK_BENCH_MIN_MS ?? 2000);
/** A call whose warm-up took longer than this gets 2 timed runs instead of 3… */
const HEAVY_MS = 5000;
/** …and 1 past this (base-384's template refresh and forward, cpu's forward), to keep the bench short. */
const VERY_HEAVY_MS = 15000;
const MAX_RUNS = 15;
/**
 * Untimed runs after the profiled one until this much time has passed since the warm-up began (at
 * most MAX_WARMUP_RUNS in all): the first frames of a video run slower while V8 tiers up tfjs's
 * dispatch code and the wasm threads' caches fill (b256 T = 1 on two threads: 0.92, 0.72, 0.63,
 * 0.60 s, then 0.53–0.60 s), and a tracker's per-frame cost is the steady one.
 */
const WARMUP_MS = Number(process.env.SPIKETRACK_BENCH_WARMUP_MS ?? 3000);
const MAX_WARMUP_RUNS = 6;

try {
  await selectBenchBackend(backend);
} catch (e) {
  console.log(`unavailable: ${e.message.split('\n')[0]}`);
  process.exit(0);
}

const MiB = 2 ** 20;
const rssMiB = () => process.memoryUsage().rss / MiB;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Waits until every tensor of `out` (a tensor, a HeadOutput, or a TemplateCache) is computed. */
async function settle(out) {
  const tensors =
    out instanceof tf.Tensor ? [out] : out.memories ? out.memories.map((m) => m.kv) : Object.values(out);
  await Promise.all(tensors.map((t) => t.data()));
}

function release(out) {
  if (typeof out?.dispose === 'function') out.dispose();
  else tf.dispose(out);
}

/**
 * Times `call` (which returns what {@link settle} reads): one warm-up run under tf.profile (its
 * peak tensor bytes and per-kernel times), untimed runs until WARMUP_MS, then timed runs, at least 3 (2 or 1 for a call whose
 * warm-up took over HEAVY_MS or VERY_HEAVY_MS) and until MIN_MS has passed. `extraWarmup` runs after the profile
 * (e.g. the op count), as a second warm-up. Returns milliseconds and memory figures.
 */
async function measure(call, extraWarmup) {
  const w0 = performance.now();
  const profile = await tf.profile(async () => {
    const out = call();
    await settle(out);
    release(out);
  });
  const warmupMs = performance.now() - w0;
  const extra = extraWarmup ? await extraWarmup() : undefined;
  let warmupRuns = 1;
  while (warmupRuns < MAX_WARMUP_RUNS && performance.now() - w0 < WARMUP_MS) {
    const out = call();
    await settle(out);
    release(out);
    warmupRuns++;
  }
  const minRuns = warmupMs > VERY_HEAVY_MS ? 1 : warmupMs > HEAVY_MS ? 2 : 3;
  // Counted after the warm-up: first calls fill lasting caches (BatchNorm constants, embeddings).
  const before = tf.memory().numTensors;
  const threadsBefore = wasmConvThreadsStats();
  const samples = [];
  const start = performance.now();
  while (samples.length < minRuns || (performance.now() - start < MIN_MS && samples.length < MAX_RUNS)) {
    const t0 = performance.now();
    const out = call();
    await settle(out);
    samples.push(performance.now() - t0);
    release(out);
  }
  const threadsAfter = wasmConvThreadsStats();
  const kernels = new Map();
  for (const k of profile.kernels) {
    if (k.name === 'unnamed scope') continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = kernels.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
    e.calls++;
    e.ms += ms;
    kernels.set(k.name, e);
  }
  return {
    ms: median(samples),
    /** The fastest run: less affected than the median when other processes share the cores. */
    minMs: Math.min(...samples),
    samplesMs: samples,
    warmupMs,
    warmupRuns,
    peakTensorMiB: profile.peakBytes / MiB,
    kernels: profile.kernels.length,
    kernelMsByName: [...kernels.values()].sort((a, b) => b.ms - a.ms).slice(0, 8),
    /** Tensors the timed runs left behind (0 when the calls are tidy). */
    leakedTensors: tf.memory().numTensors - before,
    /**
     * wasm-2t: kernels split between the threads per timed run, and filter bytes copied to the
     * worker during the timed runs (0 when the weights stay cached from frame to frame).
     */
    threads:
      threadsBefore && threadsAfter
        ? {
            splitKernelsPerRun: (threadsAfter.splitKernels - threadsBefore.splitKernels) / samples.length,
            filterBytesSent: threadsAfter.filterBytesSent - threadsBefore.filterBytesSent,
          }
        : null,
    extra,
  };
}

/** The backend's attainable conv throughput: a large NHWC 3×3 conv2d (SAME), median GFLOP/s. */
async function convPeak() {
  // every wasm variant alike (the small shape is for the slow backends; it under-reads two threads)
  const [hw, c] = backend.startsWith('wasm') ? [64, 256] : [32, 128];
  const x = tf.randomNormal([1, hw, hw, c], 0, 1, 'float32', 11);
  const w = tf.randomNormal([3, 3, c, c], 0, 0.05, 'float32', 12);
  const m = await measure(() => tf.conv2d(x, w, 1, 'same'));
  tf.dispose([x, w]);
  const macs = hw * hw * c * c * 9;
  return {
    shape: `[1, ${hw}, ${hw}, ${c}] * [3, 3, ${c}, ${c}]`,
    ms: m.ms,
    gflops: (2 * macs) / (m.ms / 1000) / 1e9,
  };
}

const peak = await convPeak();

const b0 = performance.now();
const model = new SpikeTrackModel({ config: configName, seed: 1 });
model.eval();
const buildMs = performance.now() - b0;
const { resolution: R, templates: T, dims } = model.config;
const templates = tf.randomNormal([T, 1, R, R, 3], 0, 1, 'float32', 2);
const search = tf.randomNormal([1, R, R, 3], 0, 1, 'float32', 3);
const weights = tf.memory();

const encode = await measure(() => model.encodeTemplates(templates));
const cache = model.encodeTemplates(templates);
await settle(cache);
const resident = tf.memory();
const frame = await measure(
  () => model.trackFrame(search, cache),
  countMacs
    ? async () => (await countOps(model, () => model.trackFrame(search, cache))).totals.denseMacs
    : undefined,
);
const forward = await measure(() => model.apply(templates, search));

cache.dispose();
tf.dispose([templates, search]);
const rssAtEnd = rssMiB();
model.dispose();
const leftover = tf.memory().numTensors;

const { extra: frameMacs, ...frameRest } = frame;
const call = ({ extra: _extra, ...rest }) => rest;
const info = {
  backend,
  tfjsBackend: tf.getBackend(),
  config: configName,
  dims,
  resolution: R,
  templates: T,
  buildMs,
  convPeak: peak,
  encodeTemplates: call(encode),
  trackFrame: { ...frameRest, denseMacs: frameMacs ?? null },
  forward: call(forward),
  memory: {
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    rssAtEndMiB: rssAtEnd,
    weightsMiB: weights.numBytes / MiB,
    weightTensors: weights.numTensors,
    residentMiB: resident.numBytes / MiB,
    residentTensors: resident.numTensors,
    note: 'resident = tf.memory() with the model and one template cache; peakTensorMiB (per call) = the most tf.memory() bytes during that call (tf.profile), the resident ones included',
  },
  tensorsLeftAfterDispose: leftover,
};
console.log(`RESULT ${JSON.stringify(info)}`);
