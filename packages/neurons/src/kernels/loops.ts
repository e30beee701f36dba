/**
 * The fused neuron loops in plain JavaScript, over float32 arrays laid out `[T, N]` (time-major,
 * neuron `n` of step `t` at `t·N + n`). Every arithmetic result passes through `Math.fround`, so
 * each step is the float32 operation the composite tfjs ops perform (float64 arithmetic followed by
 * one rounding to float32 is exact for +, −, ×, ÷ of float32 operands).
 *
 * Used by the `cpu` kernels, and by the `wasm` kernels for what the SIMD code does not cover.
 */
import type { ResetMode } from '../neurons/common';
import type { FusedOutput } from './names';

const fr = Math.fround;
/** 2^23: adding it to a float32 in [0, 2^23) and rounding to float32 rounds half to even. */
const TWO23 = 8388608;

/**
 * Whether `v` is a power of two (2^-126 … 2^127), so that `a / v` and `a · (1/v)` are the same
 * float32 for every `a` (both are the exact quotient, rounded once), and the product is cheaper.
 */
export function isPowerOfTwo(v: number): boolean {
  if (!(v > 0) || !Number.isFinite(v)) return false;
  const e = Math.log2(v);
  return Number.isInteger(e) && e >= -126 && e <= 127 && 2 ** e === v;
}

/** Largest D for which the 2^23 rounding trick is exact (the clamped value stays below 2^22). */
export const MAX_FUSED_LEVELS = 2 ** 22;

/**
 * How a backend's `clipByValue(x, 0, D)` treats NaN and −0 (it decides the spike for those):
 * - `'cpu'`: NaN and −0 pass through (tfjs-backend-cpu: `x > max ? max : x < min ? min : x`);
 * - `'wasm'`: NaN and −0 become +0 (tfjs-backend-wasm, XNNPACK's clamp: `0 < x ? x : 0`).
 */
export type ClampFlavor = 'cpu' | 'wasm';

/**
 * NI-LIF over `[T, N]`: `mem_0 = x_0`, `mem_t = (mem_{t−1} − s_{t−1})·k_{t−1} + x_t`,
 * `s_t = round_half_even(clamp(mem_t, 0, D))/D`, for neurons `start ≤ n < end`.
 * `k` holds `sigmoid(decay)` as the backend computed it. Writes spikes or membranes into `y`.
 */
export function niLifLoop(
  x: Float32Array,
  y: Float32Array,
  k: Float32Array | null,
  steps: number,
  neurons: number,
  levels: number,
  flavor: ClampFlavor,
  output: FusedOutput,
  start = 0,
  end = neurons,
): void {
  const D = levels;
  const spikes = output === 'spikes';
  const cpu = flavor === 'cpu';
  const decay = k ?? new Float32Array(0);
  const inverse = isPowerOfTwo(D) ? 1 / D : 0;
  for (let n = start; n < end; n++) {
    let mem = x[n]!;
    let s = 0;
    for (let t = 0; t < steps; t++) {
      const i = t * neurons + n;
      if (t > 0) mem = fr(fr(fr(mem - s) * decay[t - 1]!) + x[i]!);
      let c: number;
      let r: number;
      if (cpu) {
        c = mem > D ? D : mem < 0 ? 0 : mem;
        // tfjs-backend-cpu's round keeps −0 and NaN; c > 0 excludes both.
        r = c > 0 ? fr(c + TWO23) - TWO23 : c;
      } else {
        c = 0 < mem ? mem : 0;
        c = c < D ? c : D;
        r = fr(c + TWO23) - TWO23;
      }
      s = inverse ? fr(r * inverse) : fr(r / D);
      y[i] = spikes ? s : mem;
    }
  }
}

/** LIF parameters as float32 values, and the structural choices. */
export interface LifLoopConfig {
  tau: number;
  vThreshold: number;
  /** The rest potential: V_reset for hard reset, else 0 (also the initial membrane). */
  rest: number;
  vReset: number;
  reset: ResetMode;
  decayInput: boolean;
  /** The composite skips `V − V_rest` (and starts from zeros) when V_rest is 0 as a number. */
  restZero: boolean;
  /** The composite skips `+ S·V_reset` when V_reset is 0 as a number. */
  vResetZero: boolean;
}

/** Rounds the numeric fields of a LIF configuration to float32 (as `tf.scalar` does). */
export function lifLoopConfig(
  tau: number,
  vThreshold: number,
  reset: ResetMode,
  vReset: number,
  decayInput: boolean,
): LifLoopConfig {
  const rest = reset === 'hard' ? vReset : 0;
  return {
    tau: fr(tau),
    vThreshold: fr(vThreshold),
    // zerosLike gives +0 where V_rest is −0
    rest: rest === 0 ? 0 : fr(rest),
    vReset: fr(vReset),
    reset,
    decayInput,
    restZero: rest === 0,
    vResetZero: vReset === 0,
  };
}

/**
 * LIF over `[T, N]`, in the composite's operation order:
 * `H = V + (X − (V − V_rest))/τ` (or `V − (V − V_rest)/τ + X`), `S = (H − V_th ≥ 0)`, then the reset
 * (`H·(1 − S) [+ S·V_reset]`, `H − S·V_th`, or none). Writes spikes, or the charges `H`, into `y`.
 */
export function lifLoop(
  x: Float32Array,
  y: Float32Array,
  steps: number,
  neurons: number,
  c: LifLoopConfig,
  output: FusedOutput,
  start = 0,
  end = neurons,
): void {
  const { tau, vThreshold: vth, rest, vReset, decayInput, restZero, vResetZero } = c;
  const hard = c.reset === 'hard';
  const soft = c.reset === 'soft';
  const spikes = output === 'spikes';
  const inverse = isPowerOfTwo(tau) ? 1 / tau : 0;
  for (let n = start; n < end; n++) {
    let v = rest;
    for (let t = 0; t < steps; t++) {
      const i = t * neurons + n;
      const xi = x[i]!;
      const vRel = restZero ? v : fr(v - rest);
      const h = decayInput
        ? fr(v + (inverse ? fr(fr(xi - vRel) * inverse) : fr(fr(xi - vRel) / tau)))
        : fr(fr(v - (inverse ? fr(vRel * inverse) : fr(vRel / tau))) + xi);
      const s = fr(h - vth) >= 0 ? 1 : 0;
      y[i] = spikes ? s : h;
      if (hard) {
        v = fr(h * (1 - s));
        if (!vResetZero) v = fr(v + fr(s * vReset));
      } else if (soft) {
        v = fr(h - fr(s * vth));
      } else {
        v = h;
      }
    }
  }
}

/**
 * NI-LIF's straight-through gradient over `[from, to)`: `out = dy / D` where `0 ≤ x ≤ D`, else
 * `(dy / D) · 0` (−0 for a negative quotient, NaN for a non-finite one), the float32 values of the
 * composite `mul(div(dy, D), mask)`.
 */
export function niLifGradLoop(
  dy: Float32Array,
  x: Float32Array,
  out: Float32Array,
  levels: number,
  from = 0,
  to = out.length,
): void {
  for (let i = from; i < to; i++) {
    const q = fr((dy[i] as number) / levels);
    const m = x[i] as number;
    out[i] = m >= 0 && m <= levels ? q : q * 0;
  }
}
