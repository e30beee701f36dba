import {
  AdamW,
  type CalibrateNormsOptions,
  type CalibrateNormsReport,
  calibrateFrozenNorms,
  clipGradNorm,
  ConfigError,
  SpikeTrackError,
  stepLr,
} from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { assertTrackingNetwork, type TrackingNetwork } from '../model/tracking-network';
import { batchGradients } from './batch-gradients';
import { batchTensors } from './batch-tensors';
import {
  combineGradients,
  exportWeights,
  type GradientShard,
  type ShardResult,
  splitBatch,
} from './gradient-shard';
import { NORM_STATS_MODES, type NormStatsMode, setTrainingMode } from './norm-stats';
import type { TrainingSample, TrainingSampler } from './sampler';
import { referenceTrainingLoss, type TrainingLoss } from './training-loss';

export { batchTensors } from './batch-tensors';
export { referenceTrainingLoss, type TrainingLoss, type TrainingTargets } from './training-loss';

/** Training went wrong in a way that stops it (a non-finite loss, a bad resume state). */
export class TrainingError extends SpikeTrackError {}

/** Options of {@link Trainer}; the defaults are SpikeTrack's (`experiments/spiketrack/*.yaml`). */
export interface TrainerOptions<M extends TrackingNetwork = TrackingNetwork> {
  /**
   * The network, trained in place (put in training mode by the trainer): a `SpikeTrackModel`, or
   * any {@link TrackingNetwork} (its `forward(templates, search)` is the training path).
   */
  model: M;
  sampler: TrainingSampler;
  /** The loss (default {@link referenceTrainingLoss}: 2·GIoU + 5·L1 + 1·focal). */
  loss?: TrainingLoss;
  /** Samples per step (default 8). */
  batchSize?: number;
  /** Base learning rate (default 4e-4). */
  lr?: number;
  /** AdamW weight decay (default 1e-4). */
  weightDecay?: number;
  /** Learning-rate scale of the encoder's parameters (default 0.1). */
  encoderLrScale?: number;
  /** Which parameters get `encoderLrScale` (default: names starting with `encoder.`). */
  isEncoderParameter?: (name: string) => boolean;
  /** Global gradient-norm clip (default 0.1). */
  gradClipNorm?: number;
  /** Steps per epoch, for the schedule (default 1000). */
  stepsPerEpoch?: number;
  /** The rate drops ×0.1 every this many epochs (default: never). */
  lrDropEpoch?: number;
  /**
   * Re-run {@link Trainer.calibrate} every this many steps (default 0: never, as the reference,
   * whose backbone is ImageNet-pretrained). From scratch, the frozen BatchNorms' statistics go stale
   * as the backbone's weights move: the residual stream grows until every NI-LIF saturates at D
   * and the network's output stops depending on its input. Re-calibrating keeps each frozen norm's
   * input normalized (statistics of a fixed batch, so a resumed run stays identical).
   */
  recalibrateEvery?: number;
  /**
   * What the batch-statistic BatchNorms normalize with (default `'batch'`, torch's training mode).
   * `'running'` keeps them in eval mode with fixed running statistics: the network trains as it
   * tracks, which removes the train/eval gap of small batches (see `norm-stats.ts`).
   */
  normStats?: NormStatsMode;
  /**
   * Data-parallel training: shards that compute the gradients of parts of each batch elsewhere (in
   * Node, `createWorkerShards` of `spiketrack/node`: worker threads, each with its own tfjs
   * backend). The batch is split evenly between this thread and the shards (fewer shards than
   * `batchSize`); the gradients are averaged by sample count, so the step is the full batch's,
   * except that batch-statistic BatchNorms normalize each part over its own samples (as PyTorch
   * DDP without SyncBatchNorm), and running statistics are updated from this thread's part only.
   * The trainer does not own them: dispose them after training.
   */
  shards?: readonly GradientShard[];
}

/** One step's log line. */
export interface StepLog {
  step: number;
  epoch: number;
  lr: number;
  loss: number;
  parts: Record<string, number>;
  gradNorm: number;
  samplesPerSecond: number;
}

/** Safetensors metadata keys of a trainer state. */
export const TRAINER_STATE_METADATA = {
  step: 'spiketrack.trainer.step',
  options: 'spiketrack.trainer.options',
} as const;

/**
 * Trains a SpikeTrack network (or any {@link TrackingNetwork}) as the reference's trainer does: batches from a
 * {@link TrainingSampler}, the tracking loss, gradients clipped to a global norm of 0.1, AdamW
 * (lr 4e-4, weight decay 1e-4) with the encoder at 0.1× the rate, and a step schedule.
 *
 * Deterministic and resumable: step `k` uses samples `k·B … k·B + B − 1` of the sampler's seed,
 * and {@link state} / {@link loadState} carry the weights, the optimizer's moments and the step,
 * so a resumed run continues bit for bit. A non-finite loss or gradient stops with a
 * {@link TrainingError} before anything is updated.
 */
export class Trainer<M extends TrackingNetwork = TrackingNetwork> {
  readonly model: M;
  readonly sampler: TrainingSampler;
  readonly optimizer: AdamW;
  readonly options: Required<
    Omit<TrainerOptions, 'model' | 'sampler' | 'loss' | 'lrDropEpoch' | 'shards'>
  > & {
    lrDropEpoch: number | null;
  };
  private readonly loss: TrainingLoss;
  private readonly params: Map<string, tf.Variable>;
  private readonly paramShapes = new Map<string, readonly number[]>();
  private readonly shards: readonly GradientShard[];
  /** The calibration samples by batch count (rendered once: recalibration reuses them). */
  private readonly calibrationSamples = new Map<number, TrainingSample[]>();
  /** Optimizer steps taken so far. */
  step = 0;

  constructor(opts: TrainerOptions<M>) {
    if (opts === null || typeof opts !== 'object')
      throw new ConfigError('Trainer: options must be an object');
    assertTrackingNetwork(opts.model, 'Trainer: model');
    this.model = opts.model;
    this.sampler = opts.sampler;
    this.loss = opts.loss ?? referenceTrainingLoss();
    this.options = {
      batchSize: opts.batchSize ?? 8,
      lr: opts.lr ?? 4e-4,
      weightDecay: opts.weightDecay ?? 1e-4,
      encoderLrScale: opts.encoderLrScale ?? 0.1,
      isEncoderParameter: opts.isEncoderParameter ?? ((n: string) => n.startsWith('encoder.')),
      gradClipNorm: opts.gradClipNorm ?? 0.1,
      stepsPerEpoch: opts.stepsPerEpoch ?? 1000,
      lrDropEpoch: opts.lrDropEpoch ?? null,
      recalibrateEvery: opts.recalibrateEvery ?? 0,
      normStats: opts.normStats ?? 'batch',
    };
    const o = this.options;
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
      throw new ConfigError(`Trainer: batchSize must be a positive integer, got ${o.batchSize}`);
    if (!Number.isInteger(o.stepsPerEpoch) || o.stepsPerEpoch < 1) {
      throw new ConfigError(`Trainer: stepsPerEpoch must be a positive integer, got ${o.stepsPerEpoch}`);
    }
    if (!Number.isInteger(o.recalibrateEvery) || o.recalibrateEvery < 0) {
      throw new ConfigError(
        `Trainer: recalibrateEvery must be a non-negative integer, got ${o.recalibrateEvery}`,
      );
    }
    if (!NORM_STATS_MODES.includes(o.normStats)) {
      throw new ConfigError(
        `Trainer: normStats must be one of ${NORM_STATS_MODES.join(', ')}, got ${JSON.stringify(o.normStats)}`,
      );
    }
    this.shards = [...(opts.shards ?? [])];
    if (this.shards.length >= o.batchSize) {
      throw new ConfigError(
        `Trainer: ${this.shards.length} gradient shards and this thread need at least ${this.shards.length + 1} samples per step, batchSize is ${o.batchSize}`,
      );
    }
    const T = this.model.config.templates;
    if (this.sampler.options.numTemplates !== T) {
      throw new ConfigError(
        `Trainer: the sampler gives ${this.sampler.options.numTemplates} templates, the model takes ${T}`,
      );
    }
    if (this.sampler.options.resolution !== this.model.config.resolution) {
      throw new ConfigError(
        `Trainer: the sampler crops ${this.sampler.options.resolution} px, the model takes ${this.model.config.resolution}`,
      );
    }
    this.params = this.model.trainableParameters();
    const encoder = new Map<string, tf.Variable>();
    const rest = new Map<string, tf.Variable>();
    for (const [name, v] of this.params) {
      (o.isEncoderParameter(name) ? encoder : rest).set(name, v);
      this.paramShapes.set(name, [...v.shape]);
    }
    this.optimizer = new AdamW([{ params: rest }, { params: encoder, lrScale: o.encoderLrScale }], {
      lr: o.lr,
      weightDecay: o.weightDecay,
    });
  }

  /** The learning rate of the step about to be taken. */
  get lr(): number {
    const o = this.options;
    const epoch = Math.floor(this.step / o.stepsPerEpoch);
    return o.lrDropEpoch === null ? o.lr : stepLr(epoch, { baseLr: o.lr, stepSize: o.lrDropEpoch });
  }

  /**
   * Data-dependent initialization for training from scratch: sets the encoder's frozen BatchNorm
   * statistics from `batches` batches of training samples ({@link calibrateFrozenNorms}), so that
   * the spiking layers are active from the first step. Without it (and without pretrained weights),
   * torch's default initialization leaves deep channels silent and the training-mode BatchNorms'
   * gradients overflow. The samples come from an index range that training never uses.
   */
  async calibrate(batches = 1, opts: CalibrateNormsOptions = {}): Promise<CalibrateNormsReport> {
    const B = this.options.batchSize;
    const R = this.model.config.resolution;
    let samples = this.calibrationSamples.get(batches);
    if (!samples) {
      samples = [];
      for (let i = 0; i < batches * B; i++) samples.push(await this.sampler.sample(0x7fffffff - i));
      this.calibrationSamples.set(batches, samples);
    }
    const { templates, search, boxes } = batchTensors(samples, R);
    boxes.dispose();
    this.model.eval();
    try {
      return await calibrateFrozenNorms(this.model, () => this.model.forward(templates, search), opts);
    } finally {
      tf.dispose([templates, search]);
      this.model.train();
    }
  }

  /** The samples of step `k` (deterministic). */
  async batch(k = this.step): Promise<TrainingSample[]> {
    const B = this.options.batchSize;
    return Promise.all(Array.from({ length: B }, (_, i) => this.sampler.sample(k * B + i)));
  }

  /** One optimizer step; returns its log line. */
  async trainStep(): Promise<StepLog> {
    const started = performance.now();
    const every = this.options.recalibrateEvery;
    if (every > 0 && this.step > 0 && this.step % every === 0) await this.calibrate(1, { maxPasses: 3 });
    const B = this.options.batchSize;
    const sizes = splitBatch(B, 1 + this.shards.length);
    const first = this.step * B;
    let next = first + (sizes[0] as number);
    const requests = this.shards.map((shard, i) => {
      const indices = Array.from({ length: sizes[i + 1] as number }, (_, j) => next + j);
      next += indices.length;
      return { shard, indices };
    });
    // the shards start first (they run while this thread computes its part)
    const weights = requests.length ? exportWeights(this.model) : new Map();
    const pending = requests.map(({ shard, indices }) =>
      shard.gradients({ step: this.step, indices, weights, normStats: this.options.normStats }),
    );
    // a failing shard must not leave a rejection unobserved while this thread works
    const settled = Promise.allSettled(pending);
    const samples = await Promise.all(
      Array.from({ length: sizes[0] as number }, (_, i) => this.sampler.sample(first + i)),
    );
    setTrainingMode(this.model, this.options.normStats);
    const local = batchGradients(this.model, this.loss, samples, this.params);
    const answers = await settled;
    const failed = answers.find((a) => a.status === 'rejected');
    if (failed) {
      local.dispose();
      throw (failed as PromiseRejectedResult).reason;
    }
    const results = answers.map((a) => (a as PromiseFulfilledResult<ShardResult>).value);
    let byName: Map<string, tf.Tensor>;
    try {
      byName = combineGradients({ count: samples.length, grads: local.grads }, results, this.paramShapes);
    } catch (e) {
      tf.dispose([local.value, ...local.parts]);
      throw e;
    }
    const partNames = local.partNames;
    const [localLoss, ...localParts] = await Promise.all([
      local.value.data(),
      ...local.parts.map((p) => p.data()),
    ]);
    tf.dispose([local.value, ...local.parts]);
    const mean = (own: number, key: string | null) =>
      (own * samples.length +
        results.reduce((a, r) => a + r.count * (key === null ? r.loss : (r.parts[key] ?? Number.NaN)), 0)) /
      B;
    const lossValue = mean((localLoss as Float32Array)[0] as number, null);
    const partValues = partNames.map((n, i) => mean((localParts[i] as Float32Array)[0] as number, n));
    const clipped = clipGradNorm(byName, this.options.gradClipNorm);
    tf.dispose([...byName.values()]);
    // read asynchronously: WebGPU in Node cannot read a GPU buffer synchronously
    const normValue = ((await clipped.totalNorm.data()) as Float32Array)[0] as number;
    clipped.totalNorm.dispose();
    if (!Number.isFinite(lossValue) || !Number.isFinite(normValue)) {
      tf.dispose([...clipped.grads.values()]);
      const where = samples.map((s) => `${s.source.sequence}#${s.source.searchFrame}`).join(', ');
      const others = results.length ? ` and ${B - samples.length} samples of the shards` : '';
      throw new TrainingError(
        `training stopped at step ${this.step}: the ${Number.isFinite(lossValue) ? 'gradient norm' : 'loss'} is ${Number.isFinite(lossValue) ? normValue : lossValue} (batch: ${where}${others}); nothing was updated, the last saved checkpoint is intact`,
      );
    }
    const lr = this.lr;
    this.optimizer.lr = lr;
    this.optimizer.step(clipped.grads);
    tf.dispose([...clipped.grads.values()]);
    const log: StepLog = {
      step: this.step,
      epoch: Math.floor(this.step / this.options.stepsPerEpoch),
      lr,
      loss: lossValue,
      parts: Object.fromEntries(partNames.map((n, i) => [n, partValues[i] as number])),
      gradNorm: normValue,
      samplesPerSecond: (this.options.batchSize * 1000) / (performance.now() - started),
    };
    this.step += 1;
    return log;
  }

  /**
   * The whole training state as new tensors with metadata, ready for `writeSafetensors`:
   * `model.<key>` (native layout), `optimizer.<param>.exp_avg|exp_avg_sq|step`, and the step.
   */
  state(): { tensors: Map<string, tf.Tensor>; metadata: Record<string, string> } {
    const tensors = new Map<string, tf.Tensor>();
    for (const [k, t] of this.model.stateDict()) tensors.set(`model.${k}`, t);
    for (const [k, t] of this.optimizer.stateDict()) tensors.set(`optimizer.${k}`, t);
    const { isEncoderParameter: _, ...plain } = this.options;
    return {
      tensors,
      metadata: {
        [TRAINER_STATE_METADATA.step]: String(this.step),
        [TRAINER_STATE_METADATA.options]: JSON.stringify(plain),
      },
    };
  }

  /** Restores a {@link state} (copies; the caller keeps the tensors). */
  async loadState(
    tensors: Map<string, tf.Tensor>,
    metadata: Record<string, string>,
    source = 'trainer state',
  ): Promise<void> {
    const step = Number(metadata[TRAINER_STATE_METADATA.step]);
    if (!Number.isInteger(step) || step < 0) {
      throw new TrainingError(
        `${source}: metadata '${TRAINER_STATE_METADATA.step}' is ${metadata[TRAINER_STATE_METADATA.step]}, not a step count`,
      );
    }
    const model = new Map<string, tf.Tensor>();
    const optimizer = new Map<string, tf.Tensor>();
    const other: string[] = [];
    for (const [k, t] of tensors) {
      if (k.startsWith('model.')) model.set(k.slice(6), t);
      else if (k.startsWith('optimizer.')) optimizer.set(k.slice(10), t);
      else other.push(k);
    }
    if (other.length)
      throw new TrainingError(`${source}: unexpected tensors ${other.slice(0, 5).join(', ')}`);
    this.model.loadStateDict(model, { layout: 'native', source });
    await this.optimizer.loadStateDict(optimizer, { source });
    this.step = step;
  }

  /** Frees the optimizer state (not the model). */
  dispose(): void {
    this.optimizer.dispose();
  }
}
