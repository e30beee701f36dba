import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors';
import { formatShape } from '../core/shape';
import {
  assertTensor,
  checkBool,
  checkReset,
  checkSurrogate,
  checkTau,
  checkThreshold,
  checkTimeAxis,
  checkVReset,
  resolveTimeAxis,
} from '../neurons/common';
import { type LifOptions, lifImpl, type MultiStepOptions, runMulti } from '../neurons/functional';
import { type NiLifOptions, niLifImpl, niLifOptions } from '../neurons/ni-lif';
import type { SurrogateName } from '../surrogates/surrogate';
import { MAX_FUSED_LEVELS } from './loops';
import { LIF_KERNEL, type LifKernelAttrs, NI_LIF_KERNEL, type NiLifKernelAttrs } from './names';
import { hasFusedKernel } from './register';

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

/** Runs a time-first kernel on `x` with time on `axis` (transposing around it, as the composite). */
function onTimeAxis(x: tf.Tensor, axis: number, run: (front: tf.Tensor) => tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const front = axis === 0 ? xf : tf.transpose(xf, permToFront(x.rank, axis));
    const y = run(front);
    return axis === 0 ? y : tf.transpose(y, permFromFront(x.rank, axis));
  });
}

// =============================================================================================
// NI-LIF

function checkDecay(where: string, decayLogits: unknown, x: tf.Tensor, axis: number): void {
  assertTensor(where, decayLogits, 'decayLogits');
  if (decayLogits.rank !== 1) {
    throw new ShapeError(
      `${where}: expected decayLogits of shape [maxSteps − 1], got ${formatShape(decayLogits.shape)}`,
    );
  }
  const steps = x.shape[axis]!;
  const supported = decayLogits.shape[0]! + 1;
  if (steps > supported) {
    throw new ShapeError(
      `${where}: input has T = ${steps} time steps on axis ${axis} (shape ${formatShape(x.shape)}), but the ${decayLogits.shape[0]} decay logits support at most T = ${supported}`,
    );
  }
}

/**
 * NI-LIF ({@link niLif}) as one fused kernel: a single pass over `x` for all T steps instead of
 * about ten tfjs ops per step. Same arguments, and the same results bit for bit: spikes
 * `s_t = round(clamp(mem_t, 0, D))/D` with `mem_0 = x_0`, `mem_t = (mem_{t−1} − s_{t−1})·σ(a_{t−1}) + x_t`,
 * and gradients to `x` and `decayLogits` equal to the composite's (straight-through quantizer inside
 * `[0, D]`, reset detached).
 *
 * Runs on the `cpu`, `wasm` and `webgpu` backends (registering the kernels on first use, see
 * {@link registerFusedNeuronKernels}); elsewhere, or with non-float32 `decayLogits`, it calls
 * {@link niLif}. Tidy.
 */
export function niLifFused(x: tf.Tensor, decayLogits: tf.Tensor, opts: NiLifOptions = {}): tf.Tensor {
  return niLifFusedImpl('niLifFused', x, decayLogits, opts);
}

/** {@link niLifFused} with errors naming `where` (a module's label). */
export function niLifFusedImpl(
  where: string,
  x: tf.Tensor,
  decayLogits: tf.Tensor,
  opts: NiLifOptions = {},
): tf.Tensor {
  const { levels, timeAxis } = niLifOptions(where, opts);
  assertTensor(where, x);
  const axis = resolveTimeAxis(where, x, timeAxis);
  checkDecay(where, decayLogits, x, axis);
  if (!hasFusedKernel(NI_LIF_KERNEL) || decayLogits.dtype !== 'float32' || levels > MAX_FUSED_LEVELS) {
    return niLifImpl(where, x, decayLogits, opts);
  }
  const attrs: NiLifKernelAttrs = { levels, output: 'spikes' };
  return onTimeAxis(
    x,
    axis,
    (front) =>
      tf
        .engine()
        .runKernel(
          NI_LIF_KERNEL,
          { x: front, decayLogits },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
  );
}

// =============================================================================================
// LIF

const BUILT_IN_SURROGATES: readonly SurrogateName[] = [
  'atan',
  'sigmoid',
  'fastSigmoid',
  'triangle',
  'rect',
  'straightThrough',
];

/** The fused LIF's attributes, or null where only the composite applies. Validates like `lif`. */
function lifAttrsFor(where: string, opts: LifOptions & MultiStepOptions): LifKernelAttrs | null {
  // Validation (ConfigError) exactly as the composite does it.
  lifImpl(where, opts);
  checkTimeAxis(where, opts.timeAxis);
  const reset = checkReset(where, opts.reset ?? 'hard');
  const vth = checkThreshold(where, opts.vThreshold);
  const s = checkSurrogate(where, opts.surrogate);
  // A threshold tensor is learnable (its gradient is the composite's business); a surrogate we do
  // not know might not be a Heaviside step forward.
  if (vth instanceof tf.Tensor) return null;
  if (!BUILT_IN_SURROGATES.includes(s.name) || typeof s.derivative !== 'function') return null;
  return {
    tau: checkTau(where, opts.tau ?? 2),
    decayInput: checkBool(where, 'decayInput', opts.decayInput, true),
    vThreshold: vth,
    reset,
    vReset: checkVReset(where, reset, opts.vReset),
    detachReset: checkBool(where, 'detachReset', opts.detachReset, false),
    surrogate: s,
    output: 'spikes',
  };
}

/**
 * LIF ({@link lif}) as one fused kernel over all T steps: same options (hard, soft or no reset,
 * `decayInput`, `tau`, `vReset`, `detachReset`, `surrogate`, `timeAxis`), the same spikes bit for
 * bit, and the same gradient (the surrogate's derivative, through the same reset).
 *
 * The fused path needs a numeric `vThreshold` and a built-in surrogate (`surrogate.sigmoid()`, …);
 * with a threshold tensor or a custom surrogate, and on backends other than `cpu`, `wasm` and
 * `webgpu`, it calls {@link lif}. Tidy.
 */
export function lifFused(x: tf.Tensor, opts: LifOptions & MultiStepOptions = {}): tf.Tensor {
  return lifFusedImpl('lifFused', x, opts);
}

/** {@link lifFused} with errors naming `where` (a module's label). */
export function lifFusedImpl(
  where: string,
  x: tf.Tensor,
  opts: LifOptions & MultiStepOptions = {},
): tf.Tensor {
  const attrs = lifAttrsFor(where, opts);
  assertTensor(where, x);
  const axis = resolveTimeAxis(where, x, checkTimeAxis(where, opts.timeAxis));
  if (!attrs || !hasFusedKernel(LIF_KERNEL)) {
    const n = lifImpl(where, opts);
    return runMulti(where, x, opts, n.params, n.step);
  }
  return onTimeAxis(
    x,
    axis,
    (front) =>
      tf.engine().runKernel(LIF_KERNEL, { x: front }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
  );
}
