#!/usr/bin/env node
/**
 * Trains the custom tracker (tracker.mjs) with spiketrack's `Trainer` on the synthetic training
 * suite (`syntheticTrainingSequences`, rendered in memory; `synthetic-v1`, the evaluation suite,
 * is held out). Resumable: rerun the same command and it continues from `<out>/state.safetensors`.
 *
 *   node train.mjs --out runs/custom [--steps 600] [--batch 8] [--lr 5e-4] [--seed 1]
 *                  [--recalibrate-every 0] [--backend wasm|cpu|webgpu|auto] [--config '{"resolution":64}']
 *                  [--workers 1] [--norm-stats batch|running]
 *
 * `--norm-stats running` trains the BatchNorms in eval mode, with their running statistics fixed
 * (`Trainer({ normStats: 'running' })`): the network then trains exactly as it tracks. Given on a
 * resumed run, it switches from that step on (recorded in `run.json`).
 *
 * `--workers N` shares each batch between this thread and N − 1 worker threads (data parallel,
 * `createWorkerShards` of `spiketrack/node`): each builds the network through this folder's
 * `createModel({ config })`.
 *
 * Writes `<out>/model.safetensors` (the weights, native layout, with the configuration in its
 * metadata, for `spiketrack eval --tracker ./tracker.mjs --checkpoint`), `state.safetensors`
 * (weights, AdamW moments, step) and `metrics.jsonl` (one line per step).
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { saveModuleSafetensors } from '@spiketrack/neurons';
import { readTensorFile, selectBackend, writeSafetensorsFile } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import { NORM_STATS_MODES, syntheticTrainingSequences, Trainer, TrainingSampler } from 'spiketrack';
import { createWorkerShards } from 'spiketrack/node';
import { CONFIG_METADATA, CustomTracker } from './tracker.mjs';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    steps: { type: 'string', default: '600' },
    batch: { type: 'string', default: '8' },
    lr: { type: 'string', default: '5e-4' },
    'encoder-lr-scale': { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    // with frozen backbone norms ({"norm":"frozen"}), re-set their statistics every N steps
    'recalibrate-every': { type: 'string', default: '0' },
    backend: { type: 'string', default: 'wasm' },
    config: { type: 'string', default: '{}' },
    'checkpoint-every': { type: 'string', default: '50' },
    workers: { type: 'string', default: '1' },
    'norm-stats': { type: 'string' },
  },
});
if (!values.out) {
  console.error(
    'usage: node train.mjs --out DIR [--steps N] [--batch B] [--lr LR] [--seed S] [--recalibrate-every N] [--backend NAME] [--config JSON]',
  );
  process.exit(2);
}
const out = values.out;
const steps = Number(values.steps);
const seed = Number(values.seed);
const checkpointEvery = Number(values['checkpoint-every']);
const statePath = join(out, 'state.safetensors');
const runPath = join(out, 'run.json');
await mkdir(out, { recursive: true });

// The run's settings are fixed by its first start: a resume reads them back.
const run = existsSync(runPath)
  ? JSON.parse(await readFile(runPath, 'utf8'))
  : {
      config: JSON.parse(values.config),
      batch: Number(values.batch),
      lr: Number(values.lr),
      encoderLrScale: Number(values['encoder-lr-scale']),
      recalibrateEvery: Number(values['recalibrate-every']),
      normStats: values['norm-stats'] ?? 'batch',
      seed,
    };
if (!existsSync(runPath)) await writeFile(runPath, `${JSON.stringify(run, null, 2)}\n`);

const normStats = values['norm-stats'] ?? run.normStats ?? 'batch';
if (!NORM_STATS_MODES.includes(normStats)) {
  console.error(`--norm-stats must be one of ${NORM_STATS_MODES.join(', ')}; got '${normStats}'`);
  process.exit(2);
}

const { backend } = await selectBackend(values.backend);
const model = new CustomTracker(run.config, { seed: run.seed });
const { resolution, templates } = model.config;
const sampler = new TrainingSampler(syntheticTrainingSequences(), {
  numTemplates: templates,
  resolution,
  seed: run.seed,
});
const workers = Number(values.workers);
if (!Number.isInteger(workers) || workers < 1 || workers > run.batch) {
  console.error(
    `--workers must be an integer from 1 to the batch size (${run.batch}), got '${values.workers}'`,
  );
  process.exit(2);
}
const shards = await createWorkerShards({
  workers: workers - 1,
  model: {
    kind: 'module',
    path: fileURLToPath(new URL('./tracker.mjs', import.meta.url)),
    options: { config: run.config },
  },
  data: { kind: 'synthetic' },
  sampler: sampler.options,
  backend,
});
const trainer = new Trainer({
  model,
  sampler,
  shards,
  batchSize: run.batch,
  lr: run.lr,
  encoderLrScale: run.encoderLrScale,
  recalibrateEvery: run.recalibrateEvery ?? 0,
  normStats,
});
console.error(
  `custom tracker ${model.config.name}: R ${resolution}, T ${templates}, ${model.numParameters()} parameters, backend ${backend}, ${workers} thread(s)`,
);

if (existsSync(statePath)) {
  const state = await readTensorFile(statePath);
  try {
    await trainer.loadState(state.tensors, state.metadata, statePath);
  } finally {
    tf.dispose([...state.tensors.values()]);
  }
  console.error(`resumed at step ${trainer.step}`);
  if (normStats !== (run.normStats ?? 'batch')) {
    run.normStatsChanges = [
      ...(run.normStatsChanges ?? []),
      { step: trainer.step, from: run.normStats ?? 'batch', to: normStats },
    ];
    console.error(`norm statistics from step ${trainer.step}: ${run.normStats ?? 'batch'} → ${normStats}`);
    run.normStats = normStats;
    await writeFile(runPath, `${JSON.stringify(run, null, 2)}\n`);
  }
} else {
  // From scratch: set the frozen BatchNorms' statistics from a batch, so that the spiking layers fire.
  const r = await trainer.calibrate();
  console.error(`calibrated ${r.modules.length} frozen BatchNorms`);
}

async function save() {
  const s = trainer.state();
  try {
    await writeSafetensorsFile(statePath, s.tensors, { metadata: s.metadata });
  } finally {
    tf.dispose([...s.tensors.values()]);
  }
  const bytes = await saveModuleSafetensors(model, {
    layout: 'native',
    metadata: {
      [CONFIG_METADATA]: JSON.stringify(model.config),
      'custom-tracker.step': String(trainer.step),
    },
  });
  await writeFile(join(out, 'model.safetensors.tmp'), bytes);
  await rename(join(out, 'model.safetensors.tmp'), join(out, 'model.safetensors'));
}

while (trainer.step < steps) {
  const log = await trainer.trainStep();
  const line = {
    step: log.step,
    lr: log.lr,
    loss: log.loss,
    ...log.parts,
    grad_norm: log.gradNorm,
    samples_per_s: log.samplesPerSecond,
  };
  await appendFile(join(out, 'metrics.jsonl'), `${JSON.stringify(line)}\n`);
  if (log.step % 10 === 0 || trainer.step === steps) {
    console.error(
      `step ${log.step}: loss ${log.loss.toFixed(3)}, mean IoU ${(log.parts.mean_iou ?? 0).toFixed(3)}, ${log.samplesPerSecond.toFixed(1)} samples/s`,
    );
  }
  if (trainer.step % checkpointEvery === 0 || trainer.step === steps) await save();
}
if (!existsSync(join(out, 'model.safetensors'))) await save();
trainer.dispose();
await Promise.all(shards.map((s) => s.dispose()));
model.dispose();
console.error(`done: ${join(out, 'model.safetensors')} (step ${trainer.step})`);
