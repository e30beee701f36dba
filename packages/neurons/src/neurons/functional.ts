import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors';
import { spikeCount } from '../surrogates/quantize';
import type { SurrogateFn } from '../surrogates/surrogate';
import {
  assertBroadcastsTo,
  assertStateShape,
  assertTensor,
  asFloat,
  checkBool,
  checkLevels,
  checkPositive,
  checkReset,
  checkSurrogate,
  checkTau,
  checkThreshold,
  checkTimeAxis,
  checkVReset,
  checkFinite,
  type MembraneState,
  type ResetMode,
  resolveTimeAxis,
  type StepResult,
  scanTime,
  stopGradient,
} from './common';

// =============================================================================================
// Option types

/** Options of the multi-step (`[T, …]`) forms. */
export interface MultiStepOptions {
  /** Which axis of the input is time (default 0; negative counts from the end, -1 = last). */
  timeAxis?: number;
}

/** Firing and reset options shared by the binary neurons (IF, LIF, PLIF, ALIF). */
export interface FireOptions {
  /**
   * Firing threshold V_th (default 1). A number > 0, or a tensor that broadcasts against one time
   * step (e.g. a learnable `tf.Variable` of shape `[]` or `[C]`); gradients flow into it.
   */
  vThreshold?: number | tf.Tensor;
  /** Reset after a spike (default `'hard'`; ALIF: `'soft'`). See {@link ResetMode}. */
  reset?: ResetMode;
  /**
   * Reset and rest potential V_reset for `reset: 'hard'` (default 0). With `'soft'` or `'none'`
   * the rest potential is 0 (SpikingJelly's `v_reset = None`) and a non-zero value is an error.
   */
  vReset?: number;
  /** Stop the gradient through the spike in the reset term (default false). */
  detachReset?: boolean;
  /** Surrogate gradient of the Heaviside firing (default `surrogate.sigmoid(4)`). */
  surrogate?: SurrogateFn;
}

/** Options of the IF neuron: `H_t = V_{t−1} + X_t`. */
export type IfOptions = FireOptions;

/** Options of the LIF neuron. */
export interface LifOptions extends FireOptions {
  /** Membrane time constant τ ≥ 1 (default 2). */
  tau?: number;
  /**
   * Whether the input is divided by τ too (default true):
   * `H = V + (X − (V − V_reset))/τ`; otherwise `H = V − (V − V_reset)/τ + X`.
   */
  decayInput?: boolean;
}

/** Options of the PLIF neuron (LIF with `1/τ = sigmoid(w)`, `w` given as a tensor). */
export interface PlifOptions extends FireOptions {
  /** As {@link LifOptions.decayInput} (default true). */
  decayInput?: boolean;
}

/** Options of the ALIF neuron (Bellec et al. 2018): LIF with an adaptive threshold. */
export interface AlifOptions extends LifOptions {
  /** Adaptation time constant τ_a > 0 (default 20): `ρ = exp(−1/τ_a)`. */
  tauAdapt?: number;
  /** Adaptation strength β (default 1.8): `θ_t = V_th + β·a_t`. */
  beta?: number;
}

/** Options of the I-LIF neuron (SpikingJelly's `ILIFNode`): integer spike counts. */
export interface ILifOptions {
  /** Membrane time constant τ ≥ 1 (default 2). */
  tau?: number;
  /** As {@link LifOptions.decayInput} (default true). */
  decayInput?: boolean;
  /** Threshold V_th (default 1): a number > 0, or a tensor (learnable). */
  vThreshold?: number | tf.Tensor;
  /** Maximum count per step D (default 4). */
  levels?: number;
  /** Stop the gradient through the count in the reset term (default false). */
  detachReset?: boolean;
}

/** State of the ALIF neuron: membrane `v`, adaptation `a`, and the last spikes. */
export interface AlifState {
  v: tf.Tensor;
  a: tf.Tensor;
  spikes: tf.Tensor;
}

// =============================================================================================
// Resolved parameters

interface Fire {
  vth: number | tf.Tensor;
  reset: ResetMode;
  vReset: number;
  detachReset: boolean;
  surrogate: SurrogateFn;
}

type Leak = { kind: 'none' } | { kind: 'tau'; tau: number } | { kind: 'rate'; rate: tf.Tensor };

function resolveFire(where: string, o: FireOptions, defaultReset: ResetMode): Fire {
  if (o === null || typeof o !== 'object') throw new ConfigError(`${where}: options must be an object`);
  const reset = checkReset(where, o.reset ?? defaultReset);
  return {
    vth: checkThreshold(where, o.vThreshold),
    reset,
    vReset: checkVReset(where, reset, o.vReset),
    detachReset: checkBool(where, 'detachReset', o.detachReset, false),
    surrogate: checkSurrogate(where, o.surrogate),
  };
}

/** The rest potential: V_reset for hard reset, else 0. Also the initial membrane. */
const restOf = (f: { reset: ResetMode; vReset: number }): number => (f.reset === 'hard' ? f.vReset : 0);

function initialMembrane(x: tf.Tensor, rest: number): tf.Tensor {
  return rest === 0 ? tf.zerosLike(x) : tf.fill(x.shape, rest);
}

/** Charge: `H_t` from `V_{t−1}` and `X_t`. */
function charge(x: tf.Tensor, v: tf.Tensor, leak: Leak, decayInput: boolean, rest: number): tf.Tensor {
  if (leak.kind === 'none') return tf.add(v, x);
  const scale = (t: tf.Tensor) => (leak.kind === 'tau' ? tf.div(t, leak.tau) : tf.mul(t, leak.rate));
  const vRel = rest === 0 ? v : tf.sub(v, rest);
  if (decayInput) return tf.add(v, scale(tf.sub(x, vRel)));
  return tf.add(tf.sub(v, scale(vRel)), x);
}

/** Reset: `V_t` from `H_t` and the spike (`theta` is the threshold subtracted by a soft reset). */
function resetMembrane(h: tf.Tensor, s: tf.Tensor, f: Fire, theta: number | tf.Tensor): tf.Tensor {
  if (f.reset === 'none') return h;
  const sr = f.detachReset ? stopGradient(s) : s;
  if (f.reset === 'soft') return tf.sub(h, tf.mul(sr, theta));
  const kept = tf.mul(h, tf.sub(1, sr));
  return f.vReset === 0 ? kept : tf.add(kept, tf.mul(sr, f.vReset));
}

/** One step of an IF/LIF/PLIF neuron (not tidy). */
function binaryStep(
  where: string,
  x: tf.Tensor,
  state: MembraneState | null | undefined,
  f: Fire,
  leak: Leak,
  decayInput: boolean,
): StepResult<MembraneState> {
  const rest = restOf(f);
  let v: tf.Tensor;
  if (state) {
    assertStateShape(where, 'v', state.v, x);
    v = state.v;
  } else {
    v = initialMembrane(x, rest);
  }
  const h = charge(x, v, leak, decayInput, rest);
  const s = f.surrogate(tf.sub(h, f.vth));
  return { spikes: s, state: { v: resetMembrane(h, s, f, f.vth) } };
}

/** Parameter tensors that must broadcast against one time step: `[name, tensor]`. */
type Broadcast = [string, number | tf.Tensor][];

function checkBroadcasts(where: string, params: Broadcast, stepShape: readonly number[]): void {
  for (const [name, p] of params) {
    if (p instanceof tf.Tensor) assertBroadcastsTo(where, name, p, stepShape);
  }
}

/** Runs a multi-step neuron over the time axis, tidy. */
export function runMulti<S>(
  where: string,
  x: tf.Tensor,
  opts: MultiStepOptions,
  params: Broadcast,
  step: (xt: tf.Tensor, st: S | null) => StepResult<S>,
): tf.Tensor {
  assertTensor(where, x);
  const axis = resolveTimeAxis(where, x, checkTimeAxis(where, opts.timeAxis));
  checkBroadcasts(
    where,
    params,
    x.shape.filter((_, i) => i !== axis),
  );
  return tf.tidy(() => scanTime<S>(x, axis, (xt, st) => step(xt, st)));
}

/** Runs one step of a neuron, tidy: returns the spikes and the new state. */
export function runSingle<S>(
  where: string,
  x: tf.Tensor,
  params: Broadcast,
  run: (x: tf.Tensor) => StepResult<S>,
): StepResult<S> {
  assertTensor(where, x);
  checkBroadcasts(where, params, x.shape);
  return tf.tidy(() => run(asFloat(x)) as unknown as tf.TensorContainer) as unknown as StepResult<S>;
}

// =============================================================================================
// IF

/** IF / LIF / PLIF implementation with an explicit `where` (modules pass their label). */
export function ifImpl(where: string, opts: IfOptions) {
  const f = resolveFire(where, opts, 'hard');
  const params: Broadcast = [['vThreshold', f.vth]];
  const step = (xt: tf.Tensor, st: MembraneState | null | undefined) =>
    binaryStep(where, xt, st, f, { kind: 'none' }, false);
  return { params, step };
}

/**
 * Integrate-and-fire, multi-step: `H_t = V_{t−1} + X_t`, `S_t = Θ(H_t − V_th)`, then the reset.
 * `x` is `[T, …]` (or time on `opts.timeAxis`); returns binary spikes shaped like `x`.
 */
export function ifNeuron(x: tf.Tensor, opts: IfOptions & MultiStepOptions = {}): tf.Tensor {
  const n = ifImpl('ifNeuron', opts);
  return runMulti('ifNeuron', x, opts, n.params, n.step);
}

/**
 * Integrate-and-fire, one step with explicit state (`null` to start at the rest potential).
 * Returns this step's spikes and the new state; the caller owns both, and still owns the old state.
 */
export function ifStep(
  x: tf.Tensor,
  state: MembraneState | null | undefined,
  opts: IfOptions = {},
): StepResult<MembraneState> {
  const n = ifImpl('ifStep', opts);
  return runSingle('ifStep', x, n.params, (xf) => n.step(xf, state));
}

// =============================================================================================
// LIF

/** LIF parameters and step function, errors naming `where`. */
export function lifImpl(where: string, opts: LifOptions) {
  const f = resolveFire(where, opts, 'hard');
  const leak: Leak = { kind: 'tau', tau: checkTau(where, opts.tau ?? 2) };
  const decayInput = checkBool(where, 'decayInput', opts.decayInput, true);
  const params: Broadcast = [['vThreshold', f.vth]];
  const step = (xt: tf.Tensor, st: MembraneState | null | undefined) =>
    binaryStep(where, xt, st, f, leak, decayInput);
  return { params, step };
}

/**
 * Leaky integrate-and-fire, multi-step. With `decayInput` (default):
 * `H_t = V_{t−1} + (X_t − (V_{t−1} − V_reset))/τ`; without: `H_t = V_{t−1} − (V_{t−1} − V_reset)/τ + X_t`.
 * Then `S_t = Θ(H_t − V_th)` (surrogate gradient) and the reset. Returns spikes shaped like `x`.
 */
export function lif(x: tf.Tensor, opts: LifOptions & MultiStepOptions = {}): tf.Tensor {
  const n = lifImpl('lif', opts);
  return runMulti('lif', x, opts, n.params, n.step);
}

/** Leaky integrate-and-fire, one step with explicit state (`null` to start). */
export function lifStep(
  x: tf.Tensor,
  state: MembraneState | null | undefined,
  opts: LifOptions = {},
): StepResult<MembraneState> {
  const n = lifImpl('lifStep', opts);
  return runSingle('lifStep', x, n.params, (xf) => n.step(xf, state));
}

// =============================================================================================
// PLIF

/** `w` for an initial τ₀ > 1: `w = −ln(τ₀ − 1)`, so that `sigmoid(w) = 1/τ₀` (τ₀ = 2 gives 0). */
export function plifInitW(tau0 = 2): number {
  const t = checkFinite('plifInitW', 'tau0', tau0);
  if (!(t > 1)) throw new ConfigError(`plifInitW: tau0 must be > 1 (sigmoid(w) = 1/τ₀ < 1), got ${t}`);
  return -Math.log(t - 1);
}

/** PLIF parameters and step function, errors naming `where`. */
export function plifImpl(where: string, w: tf.Tensor, opts: PlifOptions) {
  assertTensor(where, w, 'w');
  const f = resolveFire(where, opts, 'hard');
  const decayInput = checkBool(where, 'decayInput', opts.decayInput, true);
  const params: Broadcast = [
    ['vThreshold', f.vth],
    ['w', w],
  ];
  // sigmoid(w) is recomputed per step: cheap, and keeps each step self-contained inside tidy.
  const step = (xt: tf.Tensor, st: MembraneState | null | undefined) =>
    binaryStep(where, xt, st, f, { kind: 'rate', rate: tf.sigmoid(w) }, decayInput);
  return { params, step };
}

/**
 * Parametric LIF (Fang et al. 2021), multi-step: LIF with `1/τ = sigmoid(w)`, where `w` is a
 * (learnable) tensor of shape `[]` or broadcastable to one step. Gradients flow to `x` and `w`.
 */
export function plif(x: tf.Tensor, w: tf.Tensor, opts: PlifOptions & MultiStepOptions = {}): tf.Tensor {
  const n = plifImpl('plif', w, opts);
  return runMulti('plif', x, opts, n.params, n.step);
}

/** Parametric LIF, one step with explicit state (`null` to start). */
export function plifStep(
  x: tf.Tensor,
  state: MembraneState | null | undefined,
  w: tf.Tensor,
  opts: PlifOptions = {},
): StepResult<MembraneState> {
  const n = plifImpl('plifStep', w, opts);
  return runSingle('plifStep', x, n.params, (xf) => n.step(xf, state));
}

// =============================================================================================
// ALIF

/** ALIF parameters and step function, errors naming `where`. */
export function alifImpl(where: string, opts: AlifOptions) {
  const f = resolveFire(where, opts, 'soft');
  const leak: Leak = { kind: 'tau', tau: checkTau(where, opts.tau ?? 2) };
  const decayInput = checkBool(where, 'decayInput', opts.decayInput, true);
  const tauAdapt = checkPositive(where, 'tauAdapt', opts.tauAdapt ?? 20);
  const beta = checkFinite(where, 'beta', opts.beta ?? 1.8);
  const rho = Math.exp(-1 / tauAdapt);
  const params: Broadcast = [['vThreshold', f.vth]];
  const step = (x: tf.Tensor, state: AlifState | null | undefined): StepResult<AlifState> => {
    const rest = restOf(f);
    let v: tf.Tensor;
    let a: tf.Tensor;
    if (state) {
      assertStateShape(where, 'v', state.v, x);
      assertStateShape(where, 'a', state.a, x);
      assertStateShape(where, 'spikes', state.spikes, x);
      v = state.v;
      a = tf.add(tf.mul(state.a, rho), state.spikes);
    } else {
      v = initialMembrane(x, rest);
      a = tf.zerosLike(x);
    }
    const theta = tf.add(tf.mul(a, beta), f.vth);
    const h = charge(x, v, leak, decayInput, rest);
    const s = f.surrogate(tf.sub(h, theta));
    return { spikes: s, state: { v: resetMembrane(h, s, f, theta), a, spikes: tf.clone(s) } };
  };
  return { params, step };
}

/**
 * Adaptive LIF (Bellec et al. 2018), multi-step: LIF charge, threshold `θ_t = V_th + β·a_t` with
 * `a_t = ρ·a_{t−1} + S_{t−1}`, `ρ = exp(−1/τ_a)`; the reset (soft by default) subtracts `θ_t`.
 */
export function alif(x: tf.Tensor, opts: AlifOptions & MultiStepOptions = {}): tf.Tensor {
  const n = alifImpl('alif', opts);
  return runMulti('alif', x, opts, n.params, n.step);
}

/** Adaptive LIF, one step with explicit state `{ v, a, spikes }` (`null` to start from zeros). */
export function alifStep(
  x: tf.Tensor,
  state: AlifState | null | undefined,
  opts: AlifOptions = {},
): StepResult<AlifState> {
  const n = alifImpl('alifStep', opts);
  return runSingle('alifStep', x, n.params, (xf) => n.step(xf, state));
}

// =============================================================================================
// I-LIF

/** I-LIF parameters and step function, errors naming `where`. */
export function iLifImpl(where: string, opts: ILifOptions) {
  if (opts === null || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object`);
  const tau = checkTau(where, opts.tau ?? 2);
  const decayInput = checkBool(where, 'decayInput', opts.decayInput, true);
  const vth = checkThreshold(where, opts.vThreshold);
  const levels = checkLevels(where, opts.levels ?? 4);
  const detachReset = checkBool(where, 'detachReset', opts.detachReset, false);
  const params: Broadcast = [['vThreshold', vth]];
  const step = (x: tf.Tensor, state: MembraneState | null | undefined): StepResult<MembraneState> => {
    let v: tf.Tensor;
    if (state) {
      assertStateShape(where, 'v', state.v, x);
      v = state.v;
    } else {
      v = tf.zerosLike(x);
    }
    const h = charge(x, v, { kind: 'tau', tau }, decayInput, 0);
    const c = spikeCount(tf.div(h, vth), levels);
    const cr = detachReset ? stopGradient(c) : c;
    return { spikes: c, state: { v: tf.sub(h, tf.mul(cr, vth)) } };
  };
  return { params, step, levels };
}

/**
 * Integer LIF (SpikingJelly's `ILIFNode`), multi-step: LIF charge, then the count
 * `C_t = round(clamp(H_t/V_th, 0, D))` (straight-through gradient inside the range) and the reset
 * `V_t = H_t − C_t·V_th`. Returns integer counts (not normalized) shaped like `x`.
 */
export function iLif(x: tf.Tensor, opts: ILifOptions & MultiStepOptions = {}): tf.Tensor {
  const n = iLifImpl('iLif', opts);
  return runMulti('iLif', x, opts, n.params, n.step);
}

/** Integer LIF, one step with explicit state (`null` to start from 0). */
export function iLifStep(
  x: tf.Tensor,
  state: MembraneState | null | undefined,
  opts: ILifOptions = {},
): StepResult<MembraneState> {
  const n = iLifImpl('iLifStep', opts);
  return runSingle('iLifStep', x, n.params, (xf) => n.step(xf, state));
}
