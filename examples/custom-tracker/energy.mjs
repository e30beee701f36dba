#!/usr/bin/env node
/**
 * Energy per frame of the custom tracker and of spiketrack's bundled model, measured the same way
 * (`TrackerOpCounter` of spiketrack, on `@spiketrack/energy`): the `Tracker` runs over the first
 * frames of held-out `synthetic-v1` sequences (rendered in memory), and the report is the search
 * path per frame plus the template branch amortized over 25 frames, at 45 nm.
 *
 *   node energy.mjs --checkpoint runs/custom/model.safetensors [--sequences 4] [--frames 30]
 *                   [--backend wasm] [--no-bundled] [--json energy.json]
 *
 * Without `--checkpoint` it measures the bundled model only.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { selectBackend } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import {
  loadBundledModel,
  loadCheckpoint,
  SyntheticSequence,
  syntheticSuiteSequences,
  Tracker,
  TrackerOpCounter,
} from 'spiketrack';
import { createModel } from './tracker.mjs';

const { values } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    sequences: { type: 'string', default: '4' },
    frames: { type: 'string', default: '30' },
    backend: { type: 'string', default: 'wasm' },
    'no-bundled': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
if (!values.checkpoint && values['no-bundled']) {
  console.error(
    'energy.mjs: nothing to measure: --no-bundled needs --checkpoint model.safetensors (the custom tracker)',
  );
  process.exit(2);
}
await selectBackend(values.backend);
const sequences = syntheticSuiteSequences().slice(0, Number(values.sequences));
const frames = Number(values.frames);

/** Runs the tracker over the sequences while counting, and returns the energy report. */
async function measure(model) {
  const meter = new TrackerOpCounter(model).instrument();
  const tracker = await Tracker.create({ model });
  try {
    for (const options of sequences) {
      const seq = new SyntheticSequence({ ...options, frames: Math.min(frames, options.frames) });
      const first = seq.frame(0);
      await tracker.initialize(first.image, first.box);
      for (let i = 1; i < seq.length; i++) await tracker.track(seq.frame(i).image);
    }
    return await meter.report({ interval: 25 });
  } finally {
    tracker.dispose();
    meter.dispose();
  }
}

/** The numbers the README reports, in µJ and G. */
function summary(name, report) {
  const pf = report.per_frame;
  return {
    name,
    resolution: report.resolution,
    templates: report.templates,
    dense_gmacs_per_frame: pf.dense_macs / 1e9,
    energy_uj_per_frame: pf.total.exact / 1e6,
    energy_paper_uj_per_frame: pf.total.paper / 1e6,
    ann_uj_per_frame: pf.total.ann / 1e6,
    ratio_to_ann: pf.ratio_to_ann.exact,
  };
}

const results = [];
if (values.checkpoint) {
  const custom = await createModel({ checkpoint: values.checkpoint });
  await loadCheckpoint(custom, values.checkpoint);
  custom.eval();
  results.push(summary(custom.config.name, await measure(custom)));
  custom.dispose();
}
if (!values['no-bundled']) {
  const bundled = await loadBundledModel();
  results.push(summary('spiketrack-synthetic-v1 (bundled)', await measure(bundled)));
  bundled.dispose();
}
console.log(
  `energy per frame (45 nm, template interval 25; ${sequences.length} synthetic-v1 sequences × ${frames} frames)`,
);
for (const r of results) {
  console.log(
    `${r.name}: R ${r.resolution}, ${r.dense_gmacs_per_frame.toFixed(3)} G dense MACs, ${r.energy_uj_per_frame.toFixed(2)} µJ (paper convention ${r.energy_paper_uj_per_frame.toFixed(2)} µJ; ANN ${r.ann_uj_per_frame.toFixed(2)} µJ, ratio ${r.ratio_to_ann?.toFixed(3)})`,
  );
}
if (values.json) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
if (tf.memory().numTensors > 0) console.error(`(${tf.memory().numTensors} tensors still held by tfjs)`);
