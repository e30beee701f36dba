#!/usr/bin/env node
// `npm run bench` for spiketrack: the model's latency and memory per backend and configuration
// (wasm on one thread, wasm-mt on XNNPACK's threads, one per core, and wasm-2t, wasm with its large
// convolutions split with a worker: every configuration; cpu and the others: tiny only), each case
// in its own process (see
// bench/model.bench.mjs), against the PyTorch reference on the same kind of machine. Prints the
// tables and writes bench/results/model.json at the repository root.
//
//   npm run bench                      # everything (about 15 min on 2 cores)
//   npm run bench -- tiny_256_t1       # some configurations only
//   SPIKETRACK_BENCH_BACKENDS=wasm-mt npm run bench   # some backends (the file keeps the others' results)
//   SPIKETRACK_BENCH_TRACKER=0 npm run bench   # the model only, not bench/tracker.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAME_TARGET_RATIO, PYTORCH_REFERENCE } from './reference.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '..', '..', 'bench', 'results');
const backends = (process.env.SPIKETRACK_BENCH_BACKENDS ?? 'wasm,wasm-mt,wasm-2t,cpu')
  .split(',')
  .filter(Boolean);
const ALL = Object.keys(PYTORCH_REFERENCE);
const TINY = ALL.filter((c) => c.startsWith('tiny_'));
const only = process.argv.slice(2);
const unknown = only.filter((c) => !ALL.includes(c));
if (unknown.length > 0) {
  console.error(`unknown configuration(s) ${unknown.join(', ')}; expected some of ${ALL.join(', ')}`);
  process.exit(2);
}
const pick = (configs) => (only.length > 0 ? configs.filter((c) => only.includes(c)) : configs);

/** T = 1 / T = 3 pairs whose per-frame ratio the reference also has. */
const T_PAIRS = [
  ['tiny', 'tiny_256_t1', 'tiny_256_t3'],
  ['small', 'spiketrack_s256_t1', 'spiketrack_s256_t3'],
  ['base', 'spiketrack_b256_t1', 'spiketrack_b256_t3'],
];

/** The tables' order of backends. */
const BACKEND_ORDER = ['wasm', 'wasm-mt', 'wasm-2t', 'cpu', 'webgpu', 'tensorflow'];
const backendOrder = (b) => (BACKEND_ORDER.includes(b) ? BACKEND_ORDER.indexOf(b) : BACKEND_ORDER.length);
const fmt = (x, digits = 2) => (x === null || x === undefined ? '-' : x.toFixed(digits));
const started = Date.now();
const loadStart = loadavg();
/** Dense MACs of one trackFrame per configuration (they depend on the shapes only). */
const macsByConfig = new Map();
const results = [];

for (const backend of backends) {
  const configs = pick(backend.startsWith('wasm') ? ALL : TINY);
  if (configs.length === 0) continue;
  console.log(`\n== ${backend}`);
  const rows = [];
  for (const config of configs) {
    const load1 = loadavg()[0];
    const args = [join(here, 'model.bench.mjs'), backend, config];
    if (macsByConfig.has(config)) args.push('--no-count');
    const t0 = Date.now();
    const r = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 20 * 60_000,
    });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) {
      const why = (r.stdout ?? '').trim().split('\n').pop() || `exit ${r.status ?? r.signal}`;
      console.log(`   ${config}: skipped: ${why}`);
      results.push({ backend, config, skipped: why });
      continue;
    }
    const res = JSON.parse(line.slice(7));
    if (res.trackFrame.denseMacs !== null) macsByConfig.set(config, res.trackFrame.denseMacs);
    const macs = macsByConfig.get(config) ?? null;
    const ref = PYTORCH_REFERENCE[config];
    const frameS = res.trackFrame.ms / 1000;
    const gflops = macs === null ? null : (2 * macs) / frameS / 1e9;
    const derived = {
      frameMs: res.trackFrame.ms,
      encodeTemplatesMs: res.encodeTemplates.ms,
      forwardMs: res.forward.ms,
      frameMinMs: res.trackFrame.minMs,
      encodeTemplatesMinMs: res.encodeTemplates.minMs,
      referenceFrameMs: ref.frameS * 1000,
      referenceRefreshMs: ref.refreshS * 1000,
      frameRatioToReference: frameS / ref.frameS,
      refreshRatioToReference: res.encodeTemplates.ms / 1000 / ref.refreshS,
      frameDenseMacs: macs,
      frameGflops: gflops,
      convPeakGflops: res.convPeak.gflops,
      fractionOfConvPeak: gflops === null ? null : gflops / res.convPeak.gflops,
      // The frame if every dense MAC ran at the conv peak: the limit of this backend on this machine.
      frameAtConvPeakMs: macs === null ? null : ((2 * macs) / (res.convPeak.gflops * 1e9)) * 1000,
      meetsFrameTarget: backend.startsWith('wasm') ? frameS / ref.frameS <= FRAME_TARGET_RATIO : null,
    };
    results.push({
      ...res,
      derived,
      date: new Date().toISOString(),
      loadavg1AtStart: load1,
      wallS: (Date.now() - t0) / 1000,
    });
    rows.push({
      config,
      T: res.templates,
      'frame ms': fmt(derived.frameMs, 0),
      'ref ms': fmt(derived.referenceFrameMs, 0),
      'x ref': fmt(derived.frameRatioToReference),
      'refresh ms': fmt(derived.encodeTemplatesMs, 0),
      'ref refresh': fmt(derived.referenceRefreshMs, 0),
      'x ref ': fmt(derived.refreshRatioToReference),
      'forward ms': fmt(derived.forwardMs, 0),
      'GFLOP/s': fmt(gflops, 1),
      'conv peak': fmt(derived.convPeakGflops, 1),
      '% peak': gflops === null ? '-' : fmt(100 * derived.fractionOfConvPeak, 0),
      'peak RSS MiB': fmt(res.memory.peakRssMiB, 0),
      'peak tf MiB': fmt(
        Math.max(res.encodeTemplates.peakTensorMiB, res.trackFrame.peakTensorMiB, res.forward.peakTensorMiB),
        0,
      ),
    });
    console.log(
      `   ${config}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s (load ${load1.toFixed(2)})`,
    );
  }
  if (rows.length > 0) console.table(rows);
}

// A run of some backends or configurations keeps the previous file's other results (each has
// its own date), so that one backend can be measured again without the rest.
const resultsFile = join(resultsDir, 'model.json');
const rerun = new Set(results.map((r) => `${r.backend} ${r.config}`));
const previous = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : null;
const kept = (previous?.results ?? []).filter((r) => !rerun.has(`${r.backend} ${r.config}`));
if (kept.length > 0) console.log(`\nkept ${kept.length} earlier result(s) of cases not run now`);
const all = [...kept, ...results].sort(
  (a, b) =>
    backendOrder(a.backend) - backendOrder(b.backend) || ALL.indexOf(a.config) - ALL.indexOf(b.config),
);

/** Per-frame T = 3 / T = 1 ratios, ours (wasm) against the reference's own. */
const frameMsOf = (backend, config) =>
  all.find((r) => r.backend === backend && r.config === config && !r.skipped)?.derived.frameMs ?? null;
const timestepScaling = [];
for (const backend of new Set(all.map((r) => r.backend))) {
  for (const [backbone, t1, t3] of T_PAIRS) {
    const [a, b] = [frameMsOf(backend, t1), frameMsOf(backend, t3)];
    if (a === null || b === null) continue;
    const reference = PYTORCH_REFERENCE[t3].frameS / PYTORCH_REFERENCE[t1].frameS;
    timestepScaling.push({
      backend,
      backbone,
      ours: b / a,
      reference,
      noWorseThanReference: b / a <= reference,
    });
  }
}
if (timestepScaling.length > 0) {
  console.log('\nper-frame T = 3 / T = 1');
  console.table(
    timestepScaling.map((s) => ({
      backend: s.backend,
      backbone: s.backbone,
      ours: fmt(s.ours),
      reference: fmt(s.reference),
      'no worse': s.noWorseThanReference,
    })),
  );
}

// The same ratios measured interleaved (bench/timestep-ratio.mjs: T = 1 and T = 3 frames alternate
// in one process), which the host's noise moves far less; the wasm variants only.
const interleaved = [];
const ratioBackends = backends.filter((b) => b === 'wasm' || b === 'wasm-mt');
for (const backend of ratioBackends) {
  for (const [backbone, t1, t3] of T_PAIRS) {
    if (pick([t1, t3]).length < 2) continue;
    const r = spawnSync(process.execPath, [join(here, 'timestep-ratio.mjs'), backend, t1, t3], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 10 * 60_000,
    });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) continue;
    const res = JSON.parse(line.slice(7));
    const reference = PYTORCH_REFERENCE[t3].frameS / PYTORCH_REFERENCE[t1].frameS;
    interleaved.push({ ...res, backbone, reference, noWorseThanReference: res.ratio <= reference });
  }
}
if (interleaved.length > 0) {
  console.log('\nper-frame T = 3 / T = 1, interleaved in one process');
  console.table(
    interleaved.map((s) => ({
      backend: s.backend,
      backbone: s.backbone,
      'T=1 ms': fmt(s.t1Ms, 0),
      'T=3 ms': fmt(s.t3Ms, 0),
      ours: fmt(s.ratio),
      reference: fmt(s.reference),
      'no worse': s.noWorseThanReference,
    })),
  );
}
const keptInterleaved = (previous?.timestepScalingInterleaved ?? []).filter(
  (r) => !interleaved.some((n) => n.backend === r.backend && n.backbone === r.backbone),
);

mkdirSync(resultsDir, { recursive: true });
const out = {
  benchmark:
    'spiketrack SpikeTrackModel: trackFrame (fast path), encodeTemplates (template refresh), forward (apply), peak memory; random weights, eval mode, batch 1',
  date: new Date().toISOString(),
  command:
    'npx turbo run bench --filter=spiketrack (or: cd packages/spiketrack && npm run bench, after a build)',
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadavgAtStart: loadStart,
    loadavgAtEnd: loadavg(),
  },
  totalS: (Date.now() - started) / 1000,
  note: [
    "Times are medians (and minima, *MinMs) of timed runs after warm-up runs: one under tf.profile (the peak tensor bytes, the per-kernel times), trackFrame's op count, then untimed runs until 3 s have passed (at most 6 in all; warmupRuns), so that the times are the steady per-frame ones.",
    'frameGflops = 2 * dense MACs of one trackFrame (@spiketrack/energy countOps) / its median time; convPeakGflops = a large 3x3 NHWC conv2d on the same backend in the same process.',
    'peakRssMiB = the process maximum RSS (one process per case); peakTensorMiB = the most tf.memory() bytes during a call.',
    'The machine may be shared with other processes: see the load averages (loadavg1AtStart per case).',
  ],
  reference: {
    what: 'PyTorch reference, 2-core machine, per frame on its fast path and per template refresh, seconds',
    configs: PYTORCH_REFERENCE,
  },
  targets: {
    frameRatioToReference: `wasm trackFrame <= ${FRAME_TARGET_RATIO}x the reference per frame`,
    timestepScaling: 'per-frame T=3/T=1 no worse than the reference (small 1.40x, base 1.46x)',
  },
  timestepScaling,
  timestepScalingInterleaved: [...keptInterleaved, ...interleaved],
  results: all,
};
writeFileSync(resultsFile, `${JSON.stringify(out, null, 2)}\n`);
console.log(`\nwrote ${resultsFile} (${(out.totalS / 60).toFixed(1)} min)`);

// End-to-end tracking speed on the synthetic suite (crop and preprocessing included): bench/tracker.mjs.
if (process.env.SPIKETRACK_BENCH_TRACKER !== '0')
  spawnSync(process.execPath, [join(here, 'tracker.mjs')], { stdio: 'inherit', timeout: 15 * 60_000 });
