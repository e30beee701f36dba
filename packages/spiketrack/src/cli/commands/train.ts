import { readTensorFile, writeSafetensorsFile } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { saveCheckpoint } from '../../checkpoint/save';
import { SPIKETRACK_CONFIG_NAMES, type SpikeTrackConfigName } from '../../config/index';
import { DATASET_FORMATS, type DatasetFormat } from '../../eval/types';
import { type SpikeTrackConfigInput, SpikeTrackModel } from '../../model/model';
import { readDataset } from '../../node/eval-files';
import { datasetTrainingSequences } from '../../node/training-data';
import { SyntheticSequence } from '../../synthetic/sequence';
import { SYNTHETIC_V1, syntheticSuiteSequences } from '../../synthetic/suite';
import { evaluateHeldOut, type HeldOutSequence } from '../../train/held-out';
import { type TrainingSequence, TrainingSampler } from '../../train/sampler';
import { syntheticTrainingSequences } from '../../train/synthetic-data';
import { NORM_STATS_MODES } from '../../train/norm-stats';
import { Trainer, TrainingError } from '../../train/trainer';
import type { GradientShard } from '../../train/gradient-shard';
import { createWorkerShards } from '../../node/train-runner/worker-shards';
import { writeFileAtomic } from '../../node/write-file-atomic';
import { BACKEND_HELP, BACKEND_OPTION, parseThreads, selectCliBackend } from '../backend';
import { type CliCommand, type CliValues, UsageError } from '../command';
import { intOption, oneOf, positiveNumberOption } from '../options';
import { ProgressBar } from '../progress';

const HELP = `Usage: spiketrack train --config NAME [options]

Trains a SpikeTrack network as the reference does: causal sampling of T templates and a search
frame (max gap 400), centre/scale jitter 3.5/0.5 of the search crop, grayscale 0.05, flip 0.5,
brightness 0.2; loss 2·GIoU + 5·L1 + 1·focal; AdamW lr 4e-4 (encoder 0.1×), weight decay 1e-4,
gradient-norm clip 0.1; step schedule. Deterministic by --seed, and resumable.

Writes into --out:
  state.safetensors   weights, optimizer state and step (every --checkpoint-every steps and at
                      the end; atomic, so a crash or a NaN stop keeps the last good one)
  model.safetensors   the weights alone, PyTorch layout (spiketrack track --checkpoint …)
  snapshots/model-STEP.safetensors
                      with --keep-every N: the weights at every N-th step, kept (average them
                      with spiketrack average for stochastic weight averaging)
  metrics.jsonl       one JSON line per step: step, epoch, lr, loss, giou, l1, focal, mean_iou,
                      grad_norm, samples_per_s
  eval.jsonl          one line per evaluation: step, success_auc, mean_iou
  run.json            the configuration and options (checked on --resume)

Options:
  --config NAME          ${SPIKETRACK_CONFIG_NAMES.join(', ')}, or a JSON object of
                         config fields on top of a base, e.g. '{"base":"tiny_256_t3","resolution":128,
                         "templates":1,"dims":[16,32,64,96]}'
  --resolution R         override the config's R (a multiple of 16)
  --templates T          override the config's T
  --data synthetic|DIR   training data: the synthetic generator (default; in memory) or a dataset
  --format NAME          the dataset's layout: ${DATASET_FORMATS.join(', ')}
  --steps N              optimizer steps (default 1000)
  --batch B              samples per step (default 8)
  --lr X                 base learning rate (default 4e-4)
  --encoder-lr-scale X   the encoder's rate as a multiple of --lr (default 0.1, the reference's,
                         for an ImageNet-pretrained backbone; 1 suits training from scratch)
  --steps-per-epoch N    for the schedule (default 1000)
  --lr-drop-epoch E      ×0.1 every E epochs (default: none)
  --recalibrate-every N  re-set the frozen BatchNorm statistics every N steps (default 0: never;
                         from scratch, without it the frozen statistics go stale, the residual
                         stream grows and the spiking layers saturate; 50 works)
  --norm-stats batch|running
                         what the batch-statistic BatchNorms normalize with while training: their
                         batch (default; torch's training mode) or their fixed running statistics
                         (eval mode: the network trains as it tracks; fine-tuning so removes the
                         train/eval gap of small batches)
  --seed N               seed of the initialization and the sampling (default 1)
  --init FILE            start from these weights, non-strict (e.g. a T=1 model for T=3, as the
                         reference's PRE_TRAINED)
  --skip-calibration     do not set the frozen BatchNorm statistics from a batch before training
                         (done by default unless --init or --resume: without it, a network trained
                         from scratch starts with silent layers and overflowing gradients)
  --out DIR              output folder (default ./spiketrack-train)
  --resume               continue the run in --out from its state.safetensors; the options must
                         be the run's (run.json)
  --amend                with --resume: change the schedule options (--lr, --encoder-lr-scale,
                         --recalibrate-every, --steps-per-epoch, --lr-drop-epoch, --norm-stats) from the resumed
                         step on; run.json records each change and its step under "amendments"
  --checkpoint-every N   steps between saves (default 50)
  --keep-every N         also keep the weights of every N-th step in snapshots/ (default 0: off)
  --eval-every N         steps between evaluations on held-out synthetic-v1 sequences (default 0: off)
  --eval-sequences K     how many (default 4), tracking --eval-frames frames each (default 30)
  --workers N            threads that share each batch (default 1): N − 1 worker threads, each
                         with its own tfjs backend, compute the gradients of their part of the
                         batch and this thread averages them (data parallel; up to N× samples/s on
                         N free cores). Batch-statistic BatchNorms then normalize each part over
                         its own samples. Not part of the run's identity: --resume may change it.
${BACKEND_HELP}
  -h, --help             this help

Exit codes: 0 done, 2 bad input, 1 training failed (e.g. a non-finite loss; the message says why).
`;

/** The options a resumed run may change with `--amend` (its schedule); the others are its identity. */
const AMENDABLE = [
  'lr',
  'encoderLrScale',
  'recalibrateEvery',
  'stepsPerEpoch',
  'lrDropEpoch',
  'normStats',
] as const;

/** A change of a run's schedule options, recorded in `run.json` under `amendments`. */
export interface RunAmendment {
  /** The first step trained with the new values. */
  readonly step: number;
  readonly from: Record<string, unknown>;
  readonly to: Record<string, unknown>;
}

/** The configuration of `--config` (+ `--resolution`, `--templates`). */
export function parseTrainConfig(values: CliValues): SpikeTrackConfigInput {
  const raw = values.config;
  if (typeof raw !== 'string' || raw.length === 0) throw new UsageError('--config is required');
  let config: Exclude<SpikeTrackConfigInput, string>;
  if (raw.trim().startsWith('{')) {
    try {
      config = JSON.parse(raw);
    } catch (e) {
      throw new UsageError(`--config: not valid JSON (${(e as Error).message})`);
    }
  } else if ((SPIKETRACK_CONFIG_NAMES as readonly string[]).includes(raw)) {
    config = { base: raw as SpikeTrackConfigName };
  } else {
    throw new UsageError(
      `--config must be one of ${SPIKETRACK_CONFIG_NAMES.join(', ')} or a JSON object; got '${raw}'`,
    );
  }
  if (values.resolution !== undefined)
    config = { ...config, resolution: intOption(values, 'resolution', 0, { min: 16 }) };
  if (values.templates !== undefined)
    config = { ...config, templates: intOption(values, 'templates', 0, { min: 1 }) };
  return config;
}

/** Rewrites a JSON-lines log keeping the lines whose `step` passes `keep` (no-op without the file). */
async function keepLogLines(path: string, keep: (step: number) => boolean): Promise<void> {
  if (!existsSync(path)) return;
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim().length > 0);
  const kept = lines.filter((l) => {
    try {
      return keep(Number(JSON.parse(l).step));
    } catch {
      return false;
    }
  });
  if (kept.length === lines.length) return;
  await writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
}

/** Held-out sequences: the first K of synthetic-v1, K frames each (rendered in memory). */
function heldOut(count: number, frames: number): HeldOutSequence[] {
  return syntheticSuiteSequences(SYNTHETIC_V1)
    .slice(0, count)
    .map((o) => {
      const seq = new SyntheticSequence({ ...o, frames });
      return {
        name: seq.name,
        groundTruth: Array.from({ length: seq.length }, (_, i) => seq.groundTruth(i)),
        frame: (i: number) => seq.frame(i).image,
      };
    });
}

async function trainingData(values: CliValues): Promise<TrainingSequence[]> {
  const data = String(values.data ?? 'synthetic');
  if (data === 'synthetic') return syntheticTrainingSequences();
  const format = values.format;
  if (typeof format !== 'string' || !(DATASET_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(
      `--format must be one of ${DATASET_FORMATS.join(', ')} with --data DIR; got '${String(format ?? '')}'`,
    );
  }
  if (!existsSync(data)) throw new UsageError(`--data: no such folder '${data}'`);
  return datasetTrainingSequences(await readDataset(data, format as DatasetFormat));
}

/** `spiketrack train`. */
export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'train a SpikeTrack network (synthetic data or a dataset), resumable',
  help: HELP,
  options: {
    config: { type: 'string' },
    resolution: { type: 'string' },
    templates: { type: 'string' },
    data: { type: 'string', default: 'synthetic' },
    format: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    'encoder-lr-scale': { type: 'string' },
    'recalibrate-every': { type: 'string' },
    'norm-stats': { type: 'string', default: 'batch' },
    'steps-per-epoch': { type: 'string' },
    'lr-drop-epoch': { type: 'string' },
    seed: { type: 'string' },
    init: { type: 'string' },
    out: { type: 'string', default: 'spiketrack-train' },
    resume: { type: 'boolean', default: false },
    amend: { type: 'boolean', default: false },
    'skip-calibration': { type: 'boolean', default: false },
    'checkpoint-every': { type: 'string' },
    'keep-every': { type: 'string' },
    'eval-every': { type: 'string' },
    'eval-sequences': { type: 'string' },
    'eval-frames': { type: 'string' },
    workers: { type: 'string' },
    ...BACKEND_OPTION,
  },
  async run(values, positionals, io) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const outDir = String(values.out);
    const statePath = join(outDir, 'state.safetensors');
    const runPath = join(outDir, 'run.json');
    const run = {
      config: parseTrainConfig(values),
      data: String(values.data),
      format: values.format ?? null,
      batch: intOption(values, 'batch', 8),
      lr: positiveNumberOption(values, 'lr', 4e-4),
      encoderLrScale: positiveNumberOption(values, 'encoder-lr-scale', 0.1),
      recalibrateEvery: intOption(values, 'recalibrate-every', 0, { min: 0 }),
      stepsPerEpoch: intOption(values, 'steps-per-epoch', 1000),
      lrDropEpoch: values['lr-drop-epoch'] === undefined ? null : intOption(values, 'lr-drop-epoch', 1),
      seed: intOption(values, 'seed', 1, { min: 0 }),
      normStats: oneOf(values, 'norm-stats', NORM_STATS_MODES),
    };
    const steps = intOption(values, 'steps', 1000);
    const threads = intOption(values, 'workers', 1);
    if (threads > run.batch)
      throw new UsageError(`--workers ${threads}: more threads than samples per step (--batch ${run.batch})`);
    const checkpointEvery = intOption(values, 'checkpoint-every', 50);
    const keepEvery = intOption(values, 'keep-every', 0, { min: 0 });
    const evalEvery = intOption(values, 'eval-every', 0, { min: 0 });
    const evalSeqs = heldOut(
      intOption(values, 'eval-sequences', 4),
      intOption(values, 'eval-frames', 30, { min: 2 }),
    );
    if (values.amend && !values.resume)
      throw new UsageError('--amend changes a resumed run: pass --resume too');
    let amendments: RunAmendment[] = [];
    let amending: Omit<RunAmendment, 'step'> | null = null;
    if (values.resume) {
      if (!existsSync(statePath) || !existsSync(runPath)) {
        throw new UsageError(`--resume: ${outDir} has no state.safetensors and run.json to resume from`);
      }
      const { amendments: past, ...saved } = JSON.parse(await readFile(runPath, 'utf8')) as Record<
        string,
        unknown
      >;
      amendments = Array.isArray(past) ? (past as RunAmendment[]) : [];
      // runs written before --norm-stats existed trained with batch statistics
      if (saved.normStats === undefined) saved.normStats = 'batch';
      const now = run as unknown as Record<string, unknown>;
      const identity = (r: Record<string, unknown>) =>
        JSON.stringify(Object.entries(r).filter(([k]) => !(AMENDABLE as readonly string[]).includes(k)));
      if (identity(saved) !== identity(now)) {
        throw new UsageError(
          `--resume: the options differ from the run in ${outDir} (run.json: ${JSON.stringify(saved)}; now: ${JSON.stringify(run)})`,
        );
      }
      const changed = AMENDABLE.filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(now[k]));
      if (changed.length > 0) {
        const what = changed.map((k) => `${k} ${JSON.stringify(saved[k])} → ${JSON.stringify(now[k])}`);
        if (!values.amend) {
          throw new UsageError(
            `--resume: the schedule options differ from the run in ${outDir} (${what.join(', ')}); pass --amend to change them from the resumed step on`,
          );
        }
        amending = {
          from: Object.fromEntries(changed.map((k) => [k, saved[k]])),
          to: Object.fromEntries(changed.map((k) => [k, now[k]])),
        };
      }
    } else if (existsSync(statePath)) {
      throw new UsageError(
        `${outDir} already holds a run (state.safetensors): pass --resume, or another --out`,
      );
    }
    const sequences = await trainingData(values);
    await selectCliBackend(values.backend, io, parseThreads(values.threads, 1));
    await mkdir(outDir, { recursive: true });
    // atomic: an interrupted amendment must not leave a truncated run.json that no resume can read
    const writeRun = () =>
      writeFileAtomic(
        runPath,
        `${JSON.stringify(amendments.length ? { ...run, amendments } : run, null, 2)}\n`,
      );
    if (!values.resume) await writeRun();

    const model = new SpikeTrackModel({ config: run.config, seed: run.seed });
    let trainer: Trainer | null = null;
    let shards: GradientShard[] = [];
    try {
      if (values.init !== undefined && !values.resume) {
        const init = await readTensorFile(String(values.init));
        try {
          const layout = init.metadata['spiketrack.layout'] === 'native' ? 'native' : 'torch';
          const report = model.loadStateDict(init.tensors, {
            strict: false,
            layout,
            source: String(values.init),
          });
          io.stderr.write(
            `init: ${report.loaded.length} tensors from ${String(values.init)}; kept the initialization of ${report.missing.length}, ignored ${report.unexpected.length}\n`,
          );
        } finally {
          tf.dispose([...init.tensors.values()]);
        }
      }
      const sampler = new TrainingSampler(sequences, {
        numTemplates: model.config.templates,
        resolution: model.config.resolution,
        seed: run.seed,
      });
      if (threads > 1) {
        shards = await createWorkerShards({
          workers: threads - 1,
          model: { kind: 'spiketrack', config: run.config },
          data:
            run.data === 'synthetic'
              ? { kind: 'synthetic' }
              : { kind: 'dataset', dir: run.data, format: run.format as DatasetFormat },
          sampler: sampler.options,
          backend: tf.getBackend(),
        });
        io.stderr.write(`data parallel: ${threads} threads (${threads - 1} workers on ${tf.getBackend()})\n`);
      }
      trainer = new Trainer({
        model,
        sampler,
        shards,
        batchSize: run.batch,
        lr: run.lr,
        encoderLrScale: run.encoderLrScale,
        recalibrateEvery: run.recalibrateEvery,
        normStats: run.normStats,
        stepsPerEpoch: run.stepsPerEpoch,
        ...(run.lrDropEpoch === null ? {} : { lrDropEpoch: run.lrDropEpoch }),
      });
      if (!values.resume && values.init === undefined && !values['skip-calibration']) {
        const r = await trainer.calibrate();
        io.stderr.write(`calibrated ${r.modules.length} frozen BatchNorms in ${r.passes} passes\n`);
      }
      if (values.resume) {
        const state = await readTensorFile(statePath);
        try {
          await trainer.loadState(state.tensors, state.metadata, statePath);
        } finally {
          tf.dispose([...state.tensors.values()]);
        }
        io.stderr.write(`resumed ${outDir} at step ${trainer.step}\n`);
        if (amending) {
          amendments = [...amendments, { step: trainer.step, ...amending }];
          io.stderr.write(
            `amended from step ${trainer.step}: ${Object.keys(amending.to)
              .map((k) => `${k} ${JSON.stringify(amending?.from[k])} → ${JSON.stringify(amending?.to[k])}`)
              .join(', ')}\n`,
          );
        }
        await writeRun();
        // lines written after the last checkpoint (a crash between saves) are re-done: drop them
        await keepLogLines(join(outDir, 'metrics.jsonl'), (step) => step < (trainer as Trainer).step);
        await keepLogLines(join(outDir, 'eval.jsonl'), (step) => step <= (trainer as Trainer).step);
      }
      /** Saves the checkpoint (state.safetensors, model.safetensors) and/or keeps a snapshot. */
      const save = async (checkpoint: boolean, snapshot: boolean) => {
        const step = (trainer as Trainer).step;
        if (checkpoint) {
          const s = (trainer as Trainer).state();
          try {
            await writeSafetensorsFile(statePath, s.tensors, { metadata: s.metadata });
          } finally {
            tf.dispose([...s.tensors.values()]);
          }
        }
        const bytes = await saveCheckpoint(model, { metadata: { 'spiketrack.trainer.step': String(step) } });
        if (checkpoint) await writeFileAtomic(join(outDir, 'model.safetensors'), bytes);
        if (snapshot) {
          await mkdir(join(outDir, 'snapshots'), { recursive: true });
          await writeFileAtomic(join(outDir, 'snapshots', `model-${step}.safetensors`), bytes);
        }
      };
      const bar = new ProgressBar(io.stderr, {
        total: Math.max(0, steps - trainer.step),
        label: 'train ',
        unit: 'steps',
        interactive: io.interactive,
      });
      while (trainer.step < steps) {
        let log: Awaited<ReturnType<Trainer['trainStep']>>;
        try {
          log = await trainer.trainStep();
        } catch (e) {
          if (e instanceof TrainingError) {
            bar.done();
            io.stderr.write(`spiketrack train: ${e.message}\n`);
            return 1;
          }
          throw e;
        }
        const { mean_iou, ...parts } = log.parts;
        await appendFile(
          join(outDir, 'metrics.jsonl'),
          `${JSON.stringify({ step: log.step, epoch: log.epoch, lr: log.lr, loss: log.loss, ...parts, mean_iou, grad_norm: log.gradNorm, samples_per_s: log.samplesPerSecond })}\n`,
        );
        bar.tick();
        const checkpoint = trainer.step % checkpointEvery === 0 || trainer.step === steps;
        const snapshot = keepEvery > 0 && trainer.step % keepEvery === 0;
        if (checkpoint || snapshot) await save(checkpoint, snapshot);
        if (evalEvery > 0 && (trainer.step % evalEvery === 0 || trainer.step === steps)) {
          const r = await evaluateHeldOut(model, evalSeqs);
          await appendFile(
            join(outDir, 'eval.jsonl'),
            `${JSON.stringify({ step: trainer.step, success_auc: r.successAuc, mean_iou: r.meanIou })}\n`,
          );
          io.stderr.write(
            `\nstep ${trainer.step}: held-out success AUC ${r.successAuc.toFixed(3)}, mean IoU ${r.meanIou.toFixed(3)}\n`,
          );
        }
      }
      bar.done();
      io.stdout.write(`trained ${trainer.step} steps; weights in ${join(outDir, 'model.safetensors')}\n`);
      return 0;
    } finally {
      trainer?.dispose();
      await Promise.all(shards.map((s) => s.dispose()));
      model.dispose();
    }
  },
};
