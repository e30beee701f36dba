import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../core/errors';
import { formatShape } from '../core/shape';
import { multiSpike } from '../surrogates/quantize';
import {
  assertStateShape,
  assertTensor,
  checkLevels,
  checkTimeAxis,
  resolveTimeAxis,
  type StepResult,
  scanTime,
  stopGradient,
} from './common';
import { type MultiStepOptions, runSingle } from './functional';

/** Options of NI-LIF (SpikeTrack's `mem_update`). */
export interface NiLifOptions extends MultiStepOptions {
  /** Quantization levels D (default 4): spikes are `round(clamp(mem, 0, D))/D`. */
  levels?: number;
}

/** State of NI-LIF between single steps: the membrane, the last (normalized) spikes, the step index. */
export interface NiLifState {
  v: tf.Tensor;
  spikes: tf.Tensor;
  /** How many steps have run (the next step uses `decayLogits[step − 1]`). */
  step: number;
}

/** `logit(0.25) = −ln 3`, the reference's initial decay logit (`sigmoid(−ln 3) = 1/4`). */
export const NI_LIF_DECAY_INIT = -Math.log(3);

function checkDecay(where: string, decayLogits: tf.Tensor): void {
  assertTensor(where, decayLogits, 'decayLogits');
  if (decayLogits.rank !== 1) {
    throw new ShapeError(
      `${where}: expected decayLogits of shape [maxSteps − 1], got ${formatShape(decayLogits.shape)}`,
    );
  }
}

function checkSteps(
  where: string,
  steps: number,
  decayLogits: tf.Tensor,
  shape: readonly number[],
  axis: number,
) {
  const supported = decayLogits.shape[0]! + 1;
  if (steps > supported) {
    throw new ShapeError(
      `${where}: input has T = ${steps} time steps on axis ${axis} (shape ${formatShape(shape)}), but the ${decayLogits.shape[0]} decay logits support at most T = ${supported}`,
    );
  }
}

/** Resolves NI-LIF options (exported for the module). */
export function niLifOptions(where: string, opts: NiLifOptions) {
  if (opts === null || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object`);
  return { levels: checkLevels(where, opts.levels ?? 4), timeAxis: checkTimeAxis(where, opts.timeAxis) };
}

/**
 * Identity on `y` whose gradient also reaches `decayLogits` as zeros. A step that does not use the
 * decay (the first) still connects it, so `tf.grads`/`variableGrads` give a zero gradient at T = 1
 * (as the reference records) instead of throwing "no connection".
 */
const attachDecay = tf.customGrad((...args: unknown[]) => {
  const y = args[0] as tf.Tensor;
  const d = args[1] as tf.Tensor;
  return {
    value: tf.clone(y),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [tf.clone(dy as tf.Tensor), tf.zerosLike(d)],
  };
}) as (y: tf.Tensor, d: tf.Tensor) => tf.Tensor;

/** One NI-LIF step, not tidy. `decay` is `sigmoid(decayLogits)` (computed once per call). */
function niLifStepCore(
  where: string,
  x: tf.Tensor,
  state: NiLifState | null | undefined,
  decay: () => tf.Tensor,
  levels: number,
  connect: tf.Tensor | null,
): StepResult<NiLifState> {
  let mem: tf.Tensor;
  let step: number;
  if (state) {
    assertStateShape(where, 'v', state.v, x);
    assertStateShape(where, 'spikes', state.spikes, x);
    step = state.step;
    if (!Number.isInteger(step) || step < 1) {
      throw new ConfigError(`${where}: state.step must be an integer >= 1, got ${String(step)}`);
    }
    const d = decay();
    if (step > d.shape[0]!) {
      throw new ShapeError(
        `${where}: step ${step + 1} needs decay logit ${step - 1}, but only ${d.shape[0]} exist (at most T = ${d.shape[0]! + 1})`,
      );
    }
    const k = tf.reshape(tf.slice(d, [step - 1], [1]), []);
    mem = tf.add(tf.mul(tf.sub(state.v, stopGradient(state.spikes)), k), x);
  } else {
    mem = tf.clone(x); // the state must not alias the caller's input
    step = 0;
  }
  const q = multiSpike(mem, levels);
  const s = connect && !state ? attachDecay(q, connect) : q;
  // The state holds its own handle on the spikes, so disposing one does not dispose the other.
  return { spikes: s, state: { v: mem, spikes: tf.clone(s), step: step + 1 } };
}

/** Multi-step NI-LIF with an explicit `where` (modules pass their label). */
export function niLifImpl(
  where: string,
  x: tf.Tensor,
  decayLogits: tf.Tensor,
  opts: NiLifOptions,
): tf.Tensor {
  const { levels, timeAxis } = niLifOptions(where, opts);
  assertTensor(where, x);
  checkDecay(where, decayLogits);
  const axis = resolveTimeAxis(where, x, timeAxis);
  checkSteps(where, x.shape[axis]!, decayLogits, x.shape, axis);
  return tf.tidy(() => {
    let sig: tf.Tensor | null = null;
    const decay = () => {
      sig ??= tf.sigmoid(decayLogits);
      return sig;
    };
    const connect = x.shape[axis] === 1 ? decayLogits : null;
    return scanTime<NiLifState>(x, axis, (xt, st) => niLifStepCore(where, xt, st, decay, levels, connect));
  });
}

/**
 * NI-LIF, SpikeTrack's normalized integer LIF (`mem_update`), multi-step over `[T, …]`:
 * `mem_0 = x_0`, `mem_t = (mem_{t−1} − s_{t−1})·σ(a_{t−1}) + x_t`, `s_t = round(clamp(mem_t, 0, D))/D`.
 *
 * The reset subtracts the normalized spike with its gradient stopped; the quantizer's gradient is
 * straight-through inside `[0, D]` (divided by D). `decayLogits` (`a`, shape `[Tmax − 1]`) limits
 * T to `Tmax`. Gradients flow to `x` and `decayLogits`.
 *
 * `opts.timeAxis` selects the time axis: `-1` for the GateModule layout `[N, C, T]` (the reference
 * guesses the layout from `x.shape[0] > 3`; this function never guesses).
 */
export function niLif(x: tf.Tensor, decayLogits: tf.Tensor, opts: NiLifOptions = {}): tf.Tensor {
  return niLifImpl('niLif', x, decayLogits, opts);
}

/** One NI-LIF step with an explicit `where`. */
export function niLifStepImpl(
  where: string,
  x: tf.Tensor,
  state: NiLifState | null | undefined,
  decayLogits: tf.Tensor,
  opts: Omit<NiLifOptions, 'timeAxis'>,
): StepResult<NiLifState> {
  const { levels } = niLifOptions(where, opts);
  checkDecay(where, decayLogits);
  return runSingle(where, x, [], (xf) =>
    niLifStepCore(where, xf, state, () => tf.sigmoid(decayLogits), levels, decayLogits),
  );
}

/**
 * NI-LIF, one step with explicit state (`null` for the first step, where `mem = x`). The state
 * counts steps, so step `t` uses `decayLogits[t − 1]`; a step beyond `Tmax` is a `ShapeError`.
 * Running it T times gives exactly {@link niLif} on the stacked input.
 */
export function niLifStep(
  x: tf.Tensor,
  state: NiLifState | null | undefined,
  decayLogits: tf.Tensor,
  opts: Omit<NiLifOptions, 'timeAxis'> = {},
): StepResult<NiLifState> {
  return niLifStepImpl('niLifStep', x, state, decayLogits, opts);
}
