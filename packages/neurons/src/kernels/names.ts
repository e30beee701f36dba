import type { ResetMode } from '../neurons/common';
import type { SurrogateFn } from '../surrogates/surrogate';

/** Kernel name of the fused multi-step NI-LIF (inputs `x` `[T, …]`, `decayLogits` `[Tmax − 1]`). */
export const NI_LIF_KERNEL = 'SpiketrackNiLif';

/**
 * Kernel name of NI-LIF's straight-through gradient (inputs `dy`, `x` of one shape; attribute
 * `levels`): `dy / D` where `0 ≤ x ≤ D`, else `(dy / D) · 0`. It is the composite
 * `mul(div(dy, D), cast(logicalAnd(x ≥ 0, x ≤ D)))` in one pass, bit for bit; backward passes use
 * it where the backend has it.
 */
export const NI_LIF_GRAD_KERNEL = 'SpiketrackNiLifGrad';

/** Kernel name of the fused multi-step LIF (input `x` `[T, …]`). */
export const LIF_KERNEL = 'SpiketrackLif';

/**
 * What a fused kernel writes: the spikes (the differentiable forward), or the membrane of every
 * step (NI-LIF: `mem_t`; LIF: the charge `H_t` before the reset), which the backward pass reads.
 */
export type FusedOutput = 'spikes' | 'membrane';

/** Attributes of {@link NI_LIF_KERNEL}. */
export interface NiLifKernelAttrs {
  /** Quantization levels D. */
  levels: number;
  output: FusedOutput;
}

/** Attributes of {@link LIF_KERNEL}. All numbers are used in float32, as the composite ops do. */
export interface LifKernelAttrs {
  tau: number;
  decayInput: boolean;
  vThreshold: number;
  reset: ResetMode;
  /** V_reset (0 unless `reset` is `'hard'`). */
  vReset: number;
  /** Backward only. */
  detachReset: boolean;
  /** Backward only: its `derivative` gives the surrogate gradient. */
  surrogate: SurrogateFn;
  output: FusedOutput;
}
