import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../core/errors';
import { formatShape } from '../core/shape';
import { defaultSurrogate, type SurrogateFn } from '../surrogates/surrogate';

/**
 * What happens to the membrane after a spike:
 * - `hard`: `V = H·(1 − S) + V_reset·S` (SpikingJelly's default, `v_reset = 0`);
 * - `soft`: `V = H − V_th·S` (SpikingJelly's `v_reset = None`);
 * - `none`: `V = H`.
 */
export type ResetMode = 'hard' | 'soft' | 'none';

/** Reset modes, for validation and UIs. */
export const RESET_MODES: readonly ResetMode[] = ['hard', 'soft', 'none'];

/** The result of one single-step neuron call: the spikes of this step and the new state. */
export interface StepResult<S> {
  spikes: tf.Tensor;
  state: S;
}

/** Membrane state of IF, LIF, PLIF and I-LIF neurons: `v`, shaped like one time step of input. */
export interface MembraneState {
  v: tf.Tensor;
}

/** Identity in value, zero gradient. */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: unknown[]) => {
  const x = args[0] as tf.Tensor;
  return {
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
  };
}) as (x: tf.Tensor) => tf.Tensor;

// ---------------------------------------------------------------------------------------------
// Option validation (ConfigError)

/** A finite number, or ConfigError. */
export function checkFinite(where: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(`${where}: ${what} must be a finite number, got ${String(v)}`);
  }
  return v;
}

/** A finite number > 0, or ConfigError. */
export function checkPositive(where: string, what: string, v: unknown): number {
  const n = checkFinite(where, what, v);
  if (!(n > 0)) throw new ConfigError(`${where}: ${what} must be > 0, got ${n}`);
  return n;
}

/** An integer D >= 1, or ConfigError. */
export function checkLevels(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`${where}: levels D must be an integer >= 1, got ${String(v)}`);
  }
  return v;
}

/** A time constant τ >= 1, or ConfigError. */
export function checkTau(where: string, v: unknown, what = 'tau'): number {
  const n = checkFinite(where, what, v);
  if (!(n >= 1)) {
    throw new ConfigError(`${where}: ${what} must be >= 1 (the membrane keeps 1 − 1/τ of itself), got ${n}`);
  }
  return n;
}

/** A known reset mode, or ConfigError. */
export function checkReset(where: string, v: unknown): ResetMode {
  if (!RESET_MODES.includes(v as ResetMode)) {
    throw new ConfigError(
      `${where}: unknown reset '${String(v)}' (expected one of ${RESET_MODES.join(', ')})`,
    );
  }
  return v as ResetMode;
}

/** A surrogate function (default sigmoid(4)), or ConfigError. */
export function checkSurrogate(where: string, v: unknown): SurrogateFn {
  if (v === undefined) return defaultSurrogate;
  if (typeof v !== 'function') {
    throw new ConfigError(
      `${where}: surrogate must be a surrogate function (e.g. surrogate.sigmoid()), got ${typeof v}`,
    );
  }
  return v as SurrogateFn;
}

/** A boolean (default `dflt`), or ConfigError. */
export function checkBool(where: string, what: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(`${where}: ${what} must be a boolean, got ${String(v)}`);
  return v;
}

/** An integer time axis (default 0), or ConfigError. */
export function checkTimeAxis(where: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ConfigError(`${where}: timeAxis must be an integer (0 = first, -1 = last), got ${String(v)}`);
  }
  return v;
}

/** A threshold: a positive number, or a tensor (learnable, broadcast against one time step). */
export function checkThreshold(where: string, v: unknown): number | tf.Tensor {
  if (v === undefined) return 1;
  if (v instanceof tf.Tensor) return v;
  return checkPositive(where, 'vThreshold', v);
}

/**
 * Resolves `vReset`: its value is used only by hard reset (and as the rest potential the leak pulls
 * toward). With soft or no reset, SpikingJelly's `v_reset = None`, the rest is 0.
 */
export function checkVReset(where: string, reset: ResetMode, v: unknown): number {
  if (v === undefined) return 0;
  const n = checkFinite(where, 'vReset', v);
  if (reset !== 'hard' && n !== 0) {
    throw new ConfigError(`${where}: vReset = ${n} only applies to reset 'hard', got reset '${reset}'`);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Shapes (ShapeError)

/** Normalizes a time axis for rank `rank`, or throws a ShapeError. */
export function resolveTimeAxis(where: string, x: tf.Tensor, axis: number): number {
  if (x.rank < 1) {
    throw new ShapeError(`${where}: expected input with a time axis (rank >= 1), got a scalar of shape []`);
  }
  const a = axis < 0 ? axis + x.rank : axis;
  if (a < 0 || a >= x.rank) {
    throw new ShapeError(
      `${where}: timeAxis ${axis} is out of range for input of rank ${x.rank} with shape ${formatShape(x.shape)}`,
    );
  }
  if (x.shape[a] === 0) {
    throw new ShapeError(
      `${where}: expected at least one time step on axis ${a}, got shape ${formatShape(x.shape)}`,
    );
  }
  return a;
}

/** Throws unless `p` (a parameter tensor) broadcasts to `shape` without changing it. */
export function assertBroadcastsTo(
  where: string,
  what: string,
  p: tf.Tensor,
  shape: readonly number[],
): void {
  const ok =
    p.rank <= shape.length && p.shape.every((d, i) => d === 1 || d === shape[shape.length - p.rank + i]);
  if (!ok) {
    throw new ShapeError(
      `${where}: ${what} of shape ${formatShape(p.shape)} does not broadcast to one time step of shape ${formatShape(shape)}`,
    );
  }
}

/** Throws unless a state tensor has the shape of one time step of input. */
export function assertStateShape(where: string, what: string, s: tf.Tensor, x: tf.Tensor): void {
  if (!(s instanceof tf.Tensor)) {
    throw new ShapeError(`${where}: state.${what} must be a tensor of shape ${formatShape(x.shape)}`);
  }
  if (s.rank !== x.rank || s.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(
      `${where}: state.${what} has shape ${formatShape(s.shape)} but the input step has shape ${formatShape(x.shape)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Scanning over time

function permToFront(rank: number, axis: number): number[] {
  return [axis, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis)];
}

function permFromFront(rank: number, axis: number): number[] {
  const p = permToFront(rank, axis);
  const inv = new Array<number>(rank);
  p.forEach((src, dst) => {
    inv[src] = dst;
  });
  return inv;
}

/**
 * Runs `step` over the time axis of `x` (moved to the front when it is not axis 0) and stacks the
 * spikes back on that axis. `step` receives the input of step `t` and the previous state (null at
 * t = 0). Not tidy itself: callers wrap it.
 */
export function scanTime<S>(
  x: tf.Tensor,
  axis: number,
  step: (xt: tf.Tensor, state: S | null, t: number) => StepResult<S>,
): tf.Tensor {
  const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
  const front = axis === 0 ? xf : tf.transpose(xf, permToFront(x.rank, axis));
  // tfjs's Unpack gradient fails for a single output (it stacks a lone tensor), so T = 1 reshapes.
  const steps = front.shape[0] === 1 ? [tf.reshape(front, front.shape.slice(1))] : tf.unstack(front, 0);
  let state: S | null = null;
  const out: tf.Tensor[] = [];
  for (let t = 0; t < steps.length; t++) {
    const r = step(steps[t]!, state, t);
    out.push(r.spikes);
    state = r.state;
  }
  const y = out.length === 1 ? tf.expandDims(out[0]!, 0) : tf.stack(out, 0);
  return axis === 0 ? y : tf.transpose(y, permFromFront(x.rank, axis));
}

/** `x` as float32 (a cast when needed). */
export function asFloat(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}

/** Checks that `x` is a tensor, naming `where`. */
export function assertTensor(where: string, x: unknown, what = 'input'): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    throw new ShapeError(
      `${where}: expected ${what} to be a tf.Tensor, got ${x === null ? 'null' : typeof x}`,
    );
  }
}
