/**
 * Backward passes of the fused kernels, written with tfjs ops as the backward recurrences of the
 * composite neurons (`niLif`, `lif`).
 *
 * They reproduce the composite's gradients exactly: the same ops on the same values, and, where a
 * tensor collects several contributions, the same order of accumulation as tfjs's tape (which
 * visits the consumers of a tensor in reverse order of their creation). The membranes the
 * recurrences need come from a second call of the fused kernel (`output: 'membrane'`).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type LifKernelAttrs,
  LIF_KERNEL,
  NI_LIF_GRAD_KERNEL,
  NI_LIF_KERNEL,
  type NiLifKernelAttrs,
} from './names';

function unstackSteps(t: tf.Tensor): tf.Tensor[] {
  return t.shape[0] === 1 ? [tf.reshape(t, t.shape.slice(1))] : tf.unstack(t);
}

function stackSteps(ts: tf.Tensor[], shape: number[]): tf.Tensor {
  return ts.length === 1 ? tf.reshape(ts[0]!, shape) : tf.stack(ts);
}

/** `sum` over every axis as the `Multiply` gradient reduces a broadcast scalar (none for rank 0). */
function sumAll(t: tf.Tensor): tf.Tensor {
  if (t.rank === 0) return t;
  return tf.reshape(
    tf.sum(
      t,
      Array.from({ length: t.rank }, (_, i) => i),
    ),
    [],
  );
}

/** The straight-through mask of the quantizer: `0 ≤ m ≤ D`, as float32. */
function inside(m: tf.Tensor, levels: number): tf.Tensor {
  return tf.cast(tf.logicalAnd(tf.greaterEqual(m, 0), tf.lessEqual(m, levels)), 'float32');
}

/**
 * `(dy / D) · mask(0 ≤ m ≤ D)`: one {@link NI_LIF_GRAD_KERNEL} where the backend has it (cpu, wasm),
 * else the composite ops (the same float32 values).
 */
function throughQuantizer(dy: tf.Tensor, m: tf.Tensor, levels: number): tf.Tensor {
  const sameShape = dy.shape.length === m.shape.length && dy.shape.every((d, i) => d === m.shape[i]);
  if (
    sameShape &&
    dy.dtype === 'float32' &&
    m.dtype === 'float32' &&
    tf.getKernel(NI_LIF_GRAD_KERNEL, tf.getBackend())
  ) {
    return tf
      .engine()
      .runKernel(NI_LIF_GRAD_KERNEL, { dy, x: m }, { levels } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.mul(tf.div(dy, tf.scalar(levels)), inside(m, levels));
}

/**
 * Gradients of the fused NI-LIF with respect to `x` (`[T, …]`) and `decayLogits`, given the saved
 * spikes and the upstream gradient `dy`. Not tidy: the caller wraps it.
 *
 * The recurrence (`g_t = dL/dmem_t`, `q_t` the quantizer's mask):
 * `g_t = g_{t+1}·σ(a_t) + (dy_t/D)·q_t`, `dx_t = g_t`,
 * `dσ(a_t) = Σ g_{t+1}·(mem_t − s_t)`, then the sigmoid's gradient.
 */
export function niLifBackward(
  x: tf.Tensor,
  decayLogits: tf.Tensor,
  spikes: tf.Tensor,
  dy: tf.Tensor,
  attrs: NiLifKernelAttrs,
): [tf.Tensor, tf.Tensor] {
  const steps = x.shape[0]!;
  if (steps === 1) {
    // mem_0 = x_0; the decay logits are connected but unused (zero gradient).
    const dx = throughQuantizer(dy, x, attrs.levels);
    return [dx, tf.zerosLike(decayLogits)];
  }
  const mem = tf.engine().runKernel(NI_LIF_KERNEL, { x, decayLogits }, {
    levels: attrs.levels,
    output: 'membrane',
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const sig = tf.sigmoid(decayLogits);
  const mems = unstackSteps(mem);
  const ss = unstackSteps(spikes);
  const dys = unstackSteps(dy);
  const dxs = new Array<tf.Tensor>(steps);
  const dk = new Array<tf.Tensor>(steps - 1);
  let g: tf.Tensor | null = null;
  for (let t = steps - 1; t >= 0; t--) {
    // The spike also feeds the next step's (gradient-stopped) reset: it adds a zero.
    const ds = t < steps - 1 ? tf.add(dys[t]!, 0) : dys[t]!;
    const dmem = throughQuantizer(ds, mems[t]!, attrs.levels);
    if (g) {
      const k = tf.reshape(tf.slice(sig, [t], [1]), []);
      dk[t] = sumAll(tf.mul(g, tf.sub(mems[t]!, ss[t]!)));
      g = tf.add(tf.mul(g, k), dmem);
    } else {
      g = dmem;
    }
    dxs[t] = g;
  }
  // The slices' gradients are zero-padded and summed (last step first), then the sigmoid's.
  const K = decayLogits.shape[0]!;
  let dsig: tf.Tensor | null = null;
  for (let t = steps - 2; t >= 0; t--) {
    const p = tf.pad(tf.reshape(dk[t]!, [1]), [[t, K - t - 1]]);
    dsig = dsig ? tf.add(dsig, p) : p;
  }
  const dLogits = tf.mul(dsig!, tf.mul(sig, tf.sub(tf.scalar(1), sig)));
  return [stackSteps(dxs, x.shape), dLogits];
}

/**
 * Gradient of the fused LIF with respect to `x` (`[T, …]`). Not tidy.
 *
 * Per step, from the last: the spike's gradient (the output's, plus the reset's unless detached),
 * the surrogate `dz = ds·g(H − V_th)`, the charge's `dH = R + dz` (R: the reset's share of the next
 * step's `dV`), then `dX` and `dV_{t−1}` through the charge.
 */
export function lifBackward(x: tf.Tensor, spikes: tf.Tensor, dy: tf.Tensor, a: LifKernelAttrs): tf.Tensor {
  const steps = x.shape[0]!;
  const charge = tf.engine().runKernel(LIF_KERNEL, { x }, {
    ...a,
    output: 'membrane',
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const hs = unstackSteps(charge);
  const ss = unstackSteps(spikes);
  const dys = unstackSteps(dy);
  const { tau, vThreshold: vth, reset, vReset, detachReset, surrogate } = a;
  const restZero = (reset === 'hard' ? vReset : 0) === 0;
  const dxs = new Array<tf.Tensor>(steps);
  let dv: tf.Tensor | null = null; // dL/dV_t from step t + 1
  for (let t = steps - 1; t >= 0; t--) {
    const h = hs[t]!;
    const s = ss[t]!;
    let ds = dys[t]!;
    let fromReset: tf.Tensor | null = null;
    if (dv && reset === 'none') {
      fromReset = dv;
    } else if (dv && reset === 'soft') {
      fromReset = dv;
      // V = H − S·V_th
      ds = tf.add(ds, detachReset ? tf.zerosLike(ds) : tf.mul(tf.neg(dv), vth));
    } else if (dv && reset === 'hard') {
      // V = H·(1 − S) [+ S·V_reset]
      fromReset = tf.mul(dv, tf.sub(1, s));
      if (detachReset) {
        ds = tf.add(ds, tf.zerosLike(ds));
      } else {
        if (vReset !== 0) ds = tf.add(ds, tf.mul(dv, vReset));
        ds = tf.add(ds, tf.neg(tf.mul(dv, h)));
      }
    }
    const dz = tf.mul(ds, surrogate.derivative(tf.sub(h, vth)));
    const dh: tf.Tensor = fromReset ? tf.add(fromReset, dz) : dz;
    if (a.decayInput) {
      // H = V + (X − (V − V_rest))/τ
      const dd = tf.div(dh, tau);
      dxs[t] = dd;
      dv = tf.add(dh, tf.neg(dd));
    } else {
      // H = (V − (V − V_rest)/τ) + X
      dxs[t] = dh;
      dv = tf.add(dh, tf.div(tf.neg(dh), tau));
    }
  }
  // The initial membrane zerosLike(x_0) passes a zero gradient back to x_0.
  if (restZero) dxs[0] = tf.add(dxs[0]!, tf.zerosLike(dxs[0]!));
  return stackSteps(dxs, x.shape);
}
