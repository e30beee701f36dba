#!/usr/bin/env node
// End-to-end tracking speed on the synthetic suite: `Tracker.track` per frame, everything included
// (the frame's conversion, the `sample_target` crop and resize, the ImageNet normalization into the
// input tensor, the network on the cached templates, the post-processing and the template updates),
// per backend (wasm: tiny-256 T = 1 and T = 3; cpu: tiny-256 T = 3 only), and the NCC baseline
// (no tfjs). Random weights (seeded): the speed does not depend on them, the boxes do, so the
// accuracy here means nothing. Frames are the first sequences of synthetic-v1 (640 × 480), cut
// to a few frames each, rendered in memory before timing. Reports the share of crop + preprocess
// in a frame's time (the target: < 10 % on wasm for tiny-256). Uses the built package (dist/).
//
//   node bench/tracker.mjs                  # every case, one process each; writes bench/results/tracker.json
//   node bench/tracker.mjs --case wasm tiny_256_t3   # one case, prints RESULT <json>
//   SPIKETRACK_BENCH_BACKENDS=wasm node bench/tracker.mjs
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '..', '..', 'bench', 'results');
/** Sequences × frames per case (frame 0 initializes; the rest are timed after one warm-up frame). */
const PLAN = {
  wasm: { sequences: 3, frames: 12 },
  cpu: { sequences: 1, frames: 5 },
  ncc: { sequences: 3, frames: 40 },
};
const CASES = [
  ['wasm', 'tiny_256_t1'],
  ['wasm', 'tiny_256_t3'],
  ['cpu', 'tiny_256_t3'],
  ['ncc', 'ncc'],
];
const PARTS = ['frame', 'crop', 'preprocess', 'network', 'postprocess', 'templateUpdate', 'total'];

async function runCase(backend, configName) {
  const { SYNTHETIC_V1, SyntheticSequence, syntheticSuiteSequences, NccTracker, SpikeTrackModel, Tracker } =
    await import('spiketrack');
  const plan = PLAN[backend];
  const sequences = syntheticSuiteSequences(SYNTHETIC_V1)
    .slice(0, plan.sequences)
    .map((o) => new SyntheticSequence({ ...o, frames: plan.frames }));
  let tracker;
  let model = null;
  if (backend === 'ncc') {
    tracker = null;
  } else {
    const { selectBackend } = await import('@spiketrack/neurons/node');
    try {
      await selectBackend(backend);
    } catch (e) {
      return { backend, config: configName, skipped: e.message.split('\n')[0] };
    }
    model = new SpikeTrackModel({ config: configName, seed: 1 });
    tracker = await Tracker.create({ model });
  }
  const perFrame = [];
  let initMs = 0;
  let warm = false;
  for (const seq of sequences) {
    const frames = Array.from({ length: seq.length }, (_, i) => seq.frame(i));
    if (tracker === null) {
      const ncc = new NccTracker();
      const t0 = performance.now();
      ncc.initialize(frames[0].image, frames[0].box);
      initMs += performance.now() - t0;
      for (const f of frames.slice(1)) {
        const s = performance.now();
        ncc.track(f.image);
        perFrame.push({ total: performance.now() - s });
      }
      ncc.dispose();
      continue;
    }
    const t0 = performance.now();
    await tracker.initialize(frames[0].image, frames[0].box);
    initMs += performance.now() - t0;
    for (const f of frames.slice(1)) {
      const s = performance.now();
      const r = await tracker.track(f.image);
      const wallMs = performance.now() - s;
      // The very first frame compiles kernels and fills caches: a warm-up, not timed.
      if (!warm) {
        warm = true;
        continue;
      }
      perFrame.push({ ...r.timings, wallMs, updated: r.updated });
    }
  }
  tracker?.dispose();
  model?.dispose();
  const mean = Object.fromEntries(
    [...PARTS, 'wallMs']
      .filter((k) => perFrame[0]?.[k] !== undefined)
      .map((k) => [k, perFrame.reduce((a, f) => a + f[k], 0) / perFrame.length]),
  );
  const cropPreprocessShare =
    mean.crop === undefined
      ? null
      : perFrame.reduce((a, f) => a + f.crop + f.preprocess, 0) / perFrame.reduce((a, f) => a + f.total, 0);
  return {
    backend,
    config: configName,
    sequences: sequences.map((s) => s.name),
    framesPerSequence: plan.frames,
    timedFrames: perFrame.length,
    frameSize: [SYNTHETIC_V1.width, SYNTHETIC_V1.height],
    initializeMsMean: initMs / sequences.length,
    meanMs: mean,
    fps: 1000 / mean.total,
    cropPreprocessShare,
    templateUpdates: perFrame.filter((f) => f.updated).length,
  };
}

if (process.argv[2] === '--case') {
  const r = await runCase(process.argv[3], process.argv[4]);
  console.log(`RESULT ${JSON.stringify(r)}`);
  process.exit(0);
}

const backends = (process.env.SPIKETRACK_BENCH_BACKENDS ?? 'wasm,cpu,ncc').split(',').filter(Boolean);
const started = Date.now();
const loadStart = loadavg();
const results = [];
console.log('\n== tracker, end to end (synthetic-v1, 640x480, random weights)');
for (const [backend, config] of CASES.filter(([b]) => backends.includes(b))) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--case', backend, config], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 10 * 60_000,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) {
    const why = (r.stdout ?? '').trim().split('\n').pop() || `exit ${r.status ?? r.signal}`;
    console.log(`   ${backend} ${config}: failed: ${why}`);
    results.push({ backend, config, skipped: why });
    continue;
  }
  const res = JSON.parse(line.slice(7));
  results.push({ ...res, wallS: (Date.now() - t0) / 1000 });
  console.log(`   ${backend} ${config}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
const fmt = (x, d = 1) => (typeof x === 'number' ? x.toFixed(d) : '-');
console.table(
  results
    .filter((r) => !r.skipped)
    .map((r) => ({
      backend: r.backend,
      config: r.config,
      frames: r.timedFrames,
      fps: fmt(r.fps, 2),
      'frame ms': fmt(r.meanMs.total),
      'crop ms': fmt(r.meanMs.crop),
      'preprocess ms': fmt(r.meanMs.preprocess),
      'network ms': fmt(r.meanMs.network),
      'update ms': fmt(r.meanMs.templateUpdate),
      'crop+prep %': r.cropPreprocessShare === null ? '-' : fmt(100 * r.cropPreprocessShare),
    })),
);
const wasmShares = results
  .filter((r) => r.backend === 'wasm' && !r.skipped)
  .map((r) => r.cropPreprocessShare);
mkdirSync(resultsDir, { recursive: true });
const out = {
  benchmark:
    'spiketrack Tracker.track end to end (frame conversion, sample_target crop, normalization, network, post-processing, template updates) on synthetic-v1 frames; random weights (seed 1); and the NCC baseline',
  date: new Date().toISOString(),
  command:
    'cd packages/spiketrack && npm run build && node bench/tracker.mjs (also run at the end of npm run bench)',
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadavgAtStart: loadStart,
    loadavgAtEnd: loadavg(),
  },
  totalS: (Date.now() - started) / 1000,
  notes: [
    'fps = 1000 / mean Tracker.track total ms over the timed frames (the first tracked frame of a case is a warm-up); initialize is reported apart.',
    'The first sequences of synthetic-v1, cut to framesPerSequence frames each, rendered in memory before timing (no JPEG decoding).',
    'Random weights: the template-update decisions (score threshold) and the boxes differ from a trained model; the per-frame cost does not, except templateUpdate on the frames where an update happens.',
    'The machine may be shared with other processes: see the load averages.',
  ],
  target: {
    cropPreprocessShare: 'crop + preprocess < 10 % of a frame on wasm for tiny-256',
    met: wasmShares.length > 0 ? wasmShares.every((s) => s < 0.1) : null,
  },
  results,
};
writeFileSync(join(resultsDir, 'tracker.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(`\nwrote ${join(resultsDir, 'tracker.json')} (${(out.totalS / 60).toFixed(1)} min)`);
