import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors';
import { Module } from '../core/module';
import type { SpikeSource } from '../core/spike-source';
import { checkFinite, checkPositive, checkTimeAxis, type MembraneState, type StepResult } from './common';
import {
  type AlifOptions,
  type AlifState,
  alifImpl,
  type IfOptions,
  type ILifOptions,
  ifImpl,
  iLifImpl,
  type LifOptions,
  lifImpl,
  type PlifOptions,
  plifImpl,
  plifInitW,
  runMulti,
  runSingle,
} from './functional';
import { lifFusedImpl, niLifFusedImpl } from '../kernels/fused';
import { NI_LIF_DECAY_INIT, type NiLifState, niLifImpl, niLifOptions, niLifStepImpl } from './ni-lif';

/** Options every neuron module takes besides its dynamics. */
export interface NeuronModuleOptions {
  /** Time axis of the multi-step input (default 0, `[T, …]`; -1 = last). */
  timeAxis?: number;
}

/** A threshold that may be learned: adds a scalar parameter `v_threshold` initialised at `vThreshold`. */
export interface LearnableThresholdOptions {
  /** Firing threshold V_th (default 1). */
  vThreshold?: number;
  /** Make V_th a trainable parameter named `v_threshold` (shape `[]`). Default false. */
  learnThreshold?: boolean;
}

type Tensorish = number | tf.Tensor;

/** A neuron's functional form: its broadcast parameters (for shape checks) and one step. */
interface NeuronDynamics<S> {
  params: Parameters<typeof runSingle>[2];
  step: (xt: tf.Tensor, state: S | null) => StepResult<S>;
}

function walkState<S>(state: S, f: (t: tf.Tensor) => tf.Tensor): S {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state as Record<string, unknown>))
    out[k] = v instanceof tf.Tensor ? f(v) : v;
  return out as S;
}

/**
 * The base of the neuron modules: `forward(x)` (through `apply`) is the multi-step form on
 * `[T, …]`, {@link step} the single-step form with explicit state. Modules hold no membrane state
 * between calls (like the reference's `mem_update`): streaming callers keep the returned state and
 * pass it back, and dispose it when done.
 *
 * Implements {@link SpikeSource} for monitors and energy counting. Forward hooks see the spikes
 * tensor in both forms; `outputTimeAxis` tells them which form ran.
 */
export abstract class NeuronModule<S> extends Module<[tf.Tensor], tf.Tensor> implements SpikeSource {
  /** Multiply the output by this to get integer spike counts. */
  abstract readonly spikeCountScale: number;
  /** The most spikes one element can emit in one step. */
  abstract readonly maxSpikesPerStep: number;
  /** Time axis option of the multi-step form (as given; may be negative). */
  readonly timeAxis: number;
  private _outputTimeAxis: number | null = 0;
  private _pending: { state: S | null; result: StepResult<S> | null } | null = null;

  constructor(opts: NeuronModuleOptions = {}) {
    super();
    this.timeAxis = checkTimeAxis(new.target.name, opts.timeAxis);
  }

  /** Time axis of the last output: the multi-step time axis, or null after {@link step}. */
  get outputTimeAxis(): number | null {
    return this._outputTimeAxis;
  }

  /** The multi-step computation on `[T, …]` (time on {@link timeAxis}). */
  protected abstract multiStep(x: tf.Tensor): tf.Tensor;
  /** The single-step computation. */
  protected abstract singleStep(x: tf.Tensor, state: S | null): StepResult<S>;

  forward(x: tf.Tensor): tf.Tensor {
    const pending = this._pending;
    if (pending) {
      const r = this.singleStep(x, pending.state);
      // Keep the state past apply's tidy; step() hands it to the caller's scope.
      pending.result = { spikes: r.spikes, state: walkState(r.state, (t) => tf.keep(t)) };
      this._outputTimeAxis = null;
      return r.spikes;
    }
    const y = this.multiStep(x);
    this._outputTimeAxis = this.timeAxis < 0 ? this.timeAxis + x.rank : this.timeAxis;
    return y;
  }

  /**
   * One time step with explicit state (`null` or omitted for the first step). Runs through
   * {@link apply}, so forward hooks fire (with `outputTimeAxis` null). Returns this step's spikes
   * and the new state, both owned by the caller; the old state is not disposed.
   */
  step(x: tf.Tensor, state: S | null = null): StepResult<S> {
    this.assertAlive();
    const pending: { state: S | null; result: StepResult<S> | null } = { state, result: null };
    this._pending = pending;
    let spikes: tf.Tensor;
    try {
      spikes = this.apply(x);
    } finally {
      this._pending = null;
    }
    const kept = pending.result!.state;
    const newState = walkState(kept, (t) => {
      const c = tf.clone(t);
      t.dispose();
      return c;
    });
    return { spikes, state: newState };
  }
}

/** Base of the binary and integer neurons with an optional learnable threshold. */
abstract class ThresholdNeuron<S> extends NeuronModule<S> {
  /** The learnable threshold, when `learnThreshold` is set. */
  readonly vThresholdParam: tf.Variable | null;
  private readonly vThresholdValue: number;

  constructor(opts: NeuronModuleOptions & LearnableThresholdOptions) {
    super(opts);
    const where = new.target.name;
    this.vThresholdValue = checkPositive(where, 'vThreshold', opts.vThreshold ?? 1);
    const learn = opts.learnThreshold ?? false;
    if (typeof learn !== 'boolean') throw new ConfigError(`${where}: learnThreshold must be a boolean`);
    this.vThresholdParam = learn ? this.param('v_threshold', tf.scalar(this.vThresholdValue)) : null;
  }

  /** The threshold to pass to the functions: the parameter or the number. */
  protected get vth(): Tensorish {
    return this.vThresholdParam ?? this.vThresholdValue;
  }

  /** The neuron's functional form with the current threshold: its broadcast parameters and step. */
  protected abstract dynamics(): NeuronDynamics<S>;

  protected multiStep(x: tf.Tensor): tf.Tensor {
    const n = this.dynamics();
    return runMulti(this.label, x, { timeAxis: this.timeAxis }, n.params, n.step);
  }

  protected singleStep(x: tf.Tensor, state: S | null): StepResult<S> {
    const n = this.dynamics();
    return runSingle(this.label, x, n.params, (xf) => n.step(xf, state));
  }
}

// =============================================================================================

/** Options of the {@link IF} module. */
export type IFModuleOptions = Omit<IfOptions, 'vThreshold'> & LearnableThresholdOptions & NeuronModuleOptions;

/** Integrate-and-fire neuron module (binary spikes). See {@link ifNeuron}. */
export class IF extends ThresholdNeuron<MembraneState> {
  readonly spikeCountScale = 1;
  readonly maxSpikesPerStep = 1;
  private readonly opts: IfOptions;

  constructor(opts: IFModuleOptions = {}) {
    super(opts);
    this.opts = { ...opts, vThreshold: undefined };
    ifImpl(this.typeName, this.opts);
  }
  protected dynamics() {
    return ifImpl(this.label, { ...this.opts, vThreshold: this.vth });
  }
}

/** Options of the {@link LIF} module. */
export type LIFModuleOptions = Omit<LifOptions, 'vThreshold'> &
  LearnableThresholdOptions &
  NeuronModuleOptions & {
    /** Run the multi-step form as one fused kernel where possible (default true; bit-identical). */
    fused?: boolean;
  };

/** Leaky integrate-and-fire neuron module (binary spikes). See {@link lif}. */
export class LIF extends ThresholdNeuron<MembraneState> {
  readonly spikeCountScale = 1;
  readonly maxSpikesPerStep = 1;
  private readonly opts: LifOptions;
  /** Whether the multi-step form uses the fused kernel (where the options allow it). */
  readonly fused: boolean;

  constructor(opts: LIFModuleOptions = {}) {
    super(opts);
    this.fused = opts.fused ?? true;
    this.opts = { ...opts, vThreshold: undefined };
    delete (this.opts as { fused?: boolean }).fused;
    lifImpl(this.typeName, this.opts);
  }
  protected dynamics() {
    return lifImpl(this.label, { ...this.opts, vThreshold: this.vth });
  }
  protected override multiStep(x: tf.Tensor): tf.Tensor {
    if (this.fused) {
      // The fused kernel takes a numeric threshold; a learnable one runs the composite ops.
      return lifFusedImpl(this.label, x, { ...this.opts, vThreshold: this.vth, timeAxis: this.timeAxis });
    }
    return super.multiStep(x);
  }
}

/** Options of the {@link PLIF} module. */
export type PLIFModuleOptions = Omit<PlifOptions, 'vThreshold'> &
  LearnableThresholdOptions &
  NeuronModuleOptions & {
    /** Initial τ₀ > 1 (default 2): `w = −ln(τ₀ − 1)`. */
    initTau?: number;
  };

/** Parametric LIF module: a learnable scalar `w` (state-dict key `w`), `1/τ = sigmoid(w)`. See {@link plif}. */
export class PLIF extends ThresholdNeuron<MembraneState> {
  readonly spikeCountScale = 1;
  readonly maxSpikesPerStep = 1;
  /** The learnable `w`, shape `[]`. */
  readonly w: tf.Variable;
  private readonly opts: PlifOptions;

  constructor(opts: PLIFModuleOptions = {}) {
    super(opts);
    const { initTau, ...rest } = opts;
    this.opts = { ...rest, vThreshold: undefined };
    const w0 = plifInitW(checkFinite(this.typeName, 'initTau', initTau ?? 2));
    this.w = this.param('w', tf.scalar(w0));
    plifImpl(this.typeName, this.w, this.opts);
  }
  protected dynamics() {
    return plifImpl(this.label, this.w, { ...this.opts, vThreshold: this.vth });
  }
}

/** Options of the {@link ALIF} module. */
export type ALIFModuleOptions = Omit<AlifOptions, 'vThreshold'> &
  LearnableThresholdOptions &
  NeuronModuleOptions;

/** Adaptive LIF module (Bellec et al. 2018). See {@link alif}. */
export class ALIF extends ThresholdNeuron<AlifState> {
  readonly spikeCountScale = 1;
  readonly maxSpikesPerStep = 1;
  private readonly opts: AlifOptions;

  constructor(opts: ALIFModuleOptions = {}) {
    super(opts);
    this.opts = { ...opts, vThreshold: undefined };
    alifImpl(this.typeName, this.opts);
  }
  protected dynamics() {
    return alifImpl(this.label, { ...this.opts, vThreshold: this.vth });
  }
}

/** Options of the {@link ILIF} module. */
export type ILIFModuleOptions = Omit<ILifOptions, 'vThreshold'> &
  LearnableThresholdOptions &
  NeuronModuleOptions;

/**
 * Integer LIF module (SpikingJelly's `ILIFNode`): emits integer counts in `[0, D]`, so
 * `spikeCountScale = 1` and `maxSpikesPerStep = D`. See {@link iLif}.
 */
export class ILIF extends ThresholdNeuron<MembraneState> {
  readonly spikeCountScale = 1;
  readonly maxSpikesPerStep: number;
  private readonly opts: ILifOptions;

  constructor(opts: ILIFModuleOptions = {}) {
    super(opts);
    this.opts = { ...opts, vThreshold: undefined };
    this.maxSpikesPerStep = iLifImpl(this.typeName, this.opts).levels;
  }
  protected dynamics() {
    return iLifImpl(this.label, { ...this.opts, vThreshold: this.vth });
  }
}

/** Options of the {@link NILIF} module. */
export interface NILIFOptions extends NeuronModuleOptions {
  /**
   * The most time steps T_max (default 4, the reference's `time_step`): the module has
   * `T_max − 1` decay logits. Integer >= 1.
   */
  maxSteps?: number;
  /** Quantization levels D (default 4). */
  levels?: number;
  /** Initial decay logit (default `logit(0.25) = −ln 3`). */
  initDecay?: number;
  /**
   * Run the multi-step form as one fused kernel where the backend has it (cpu, wasm, webgpu;
   * default true). Results and gradients are bit-identical to the composite ops.
   */
  fused?: boolean;
}

/**
 * NI-LIF, SpikeTrack's normalized integer LIF (the reference's `mem_update`). Parameter `decay`
 * (shape `[maxSteps − 1]`, the state-dict key of the reference) holds the decay logits, so
 * `encoder.….spike1.decay` loads without mapping. Output spikes are `count/D`, so
 * `spikeCountScale = maxSpikesPerStep = D`. See {@link niLif}.
 *
 * `timeAxis: -1` runs the GateModule layout `[N, C, T]`.
 */
export class NILIF extends NeuronModule<NiLifState> {
  readonly spikeCountScale: number;
  readonly maxSpikesPerStep: number;
  /** Quantization levels D. */
  readonly levels: number;
  /** T_max: the most time steps this module can run. */
  readonly maxSteps: number;
  /** The decay logits `a`, shape `[maxSteps − 1]` (state-dict key `decay`). */
  readonly decay: tf.Variable;
  /** Whether the multi-step form uses the fused kernel. */
  readonly fused: boolean;

  constructor(opts: NILIFOptions = {}) {
    super(opts);
    const where = this.typeName;
    const { levels } = niLifOptions(where, { levels: opts.levels });
    const maxSteps = opts.maxSteps ?? 4;
    if (typeof maxSteps !== 'number' || !Number.isInteger(maxSteps) || maxSteps < 1) {
      throw new ConfigError(`${where}: maxSteps must be an integer >= 1, got ${String(maxSteps)}`);
    }
    const init = checkFinite(where, 'initDecay', opts.initDecay ?? NI_LIF_DECAY_INIT);
    this.levels = levels;
    this.maxSteps = maxSteps;
    this.spikeCountScale = levels;
    this.maxSpikesPerStep = levels;
    this.decay = this.param('decay', tf.fill([maxSteps - 1], init));
    this.fused = opts.fused ?? true;
  }

  protected multiStep(x: tf.Tensor): tf.Tensor {
    const opts = { levels: this.levels, timeAxis: this.timeAxis };
    return this.fused
      ? niLifFusedImpl(this.label, x, this.decay, opts)
      : niLifImpl(this.label, x, this.decay, opts);
  }
  protected singleStep(x: tf.Tensor, state: NiLifState | null): StepResult<NiLifState> {
    return niLifStepImpl(this.label, x, state, this.decay, { levels: this.levels });
  }
}
