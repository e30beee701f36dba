import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ConfigError, ShapeError } from '../core/errors';
import { ADAMW_KERNEL, type AdamWKernelAttrs, registerAdamWKernel } from './adamw-kernel';

/** One group of parameters that share a learning-rate scale and a weight decay. */
export interface ParamGroup {
  /** The parameters, by name (e.g. `module.trainableParameters()`). */
  params: Map<string, tf.Variable>;
  /** This group's learning rate is `optimizer.lr · lrScale` (default 1). */
  lrScale?: number;
  /** Overrides the optimizer's weight decay for this group. */
  weightDecay?: number;
}

/** Options of {@link AdamW}; the defaults are `torch.optim.AdamW`'s. */
export interface AdamWOptions {
  /** Base learning rate (default 1e-3). */
  lr?: number;
  /** Coefficients of the running averages of the gradient and its square (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay (default 1e-2). */
  weightDecay?: number;
  /**
   * Update each parameter with one kernel where the backend has it (`cpu`, `wasm`; bit for bit the
   * composite update, in one pass instead of 14 elementwise kernels). Default true; false always
   * runs the composite tfjs ops.
   */
  fused?: boolean;
}

interface Slot {
  variable: tf.Variable;
  group: number;
  expAvg: tf.Variable | null;
  expAvgSq: tf.Variable | null;
  step: number;
}

function checkFinite(name: string, v: number, min = 0): void {
  if (!Number.isFinite(v) || v < min)
    throw new ConfigError(`AdamW: ${name} must be a finite number ≥ ${min}, got ${v}`);
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), with the update
 * of `torch.optim.AdamW` (no amsgrad), one step per call:
 *
 * ```
 * p ← p · (1 − lr·λ)
 * m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
 * p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * ```
 *
 * `t` counts the steps each parameter took part in, as torch's per-parameter `step` does: a
 * parameter without a gradient in a call is left alone (torch skips `p.grad is None`). Parameter
 * groups give each set of parameters its own learning-rate scale (SpikeTrack trains its encoder at
 * 0.1× the head's rate) and weight decay. The state (`exp_avg`, `exp_avg_sq`, `step` per parameter)
 * round-trips through {@link stateDict} / {@link loadStateDict}, so training resumes exactly
 * (given the same options: the state holds no hyperparameters).
 */
export class AdamW {
  /** The base learning rate; group `i` uses `lr · groups[i].lrScale`. Set it to schedule. */
  lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly fused: boolean;
  private readonly groups: { lrScale: number; weightDecay: number }[];
  private readonly slots = new Map<string, Slot>();
  private disposed = false;

  constructor(params: Map<string, tf.Variable> | readonly ParamGroup[], opts: AdamWOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 1e-2;
    this.fused = opts.fused ?? true;
    if (this.fused) registerAdamWKernel();
    checkFinite('lr', this.lr);
    checkFinite('eps', this.eps);
    checkFinite('weightDecay', this.weightDecay);
    for (const b of this.betas) {
      if (!(b >= 0 && b < 1))
        throw new ConfigError(`AdamW: betas must be in [0, 1), got [${this.betas.join(', ')}]`);
    }
    const groups = params instanceof Map ? [{ params }] : params;
    this.groups = groups.map((g, i) => {
      const lrScale = g.lrScale ?? 1;
      const weightDecay = g.weightDecay ?? this.weightDecay;
      checkFinite(`group ${i} lrScale`, lrScale);
      checkFinite(`group ${i} weightDecay`, weightDecay);
      return { lrScale, weightDecay };
    });
    groups.forEach((g, group) => {
      for (const [name, variable] of g.params) {
        if (this.slots.has(name))
          throw new ConfigError(`AdamW: parameter '${name}' is in more than one group`);
        this.slots.set(name, { variable, group, expAvg: null, expAvgSq: null, step: 0 });
      }
    });
  }

  /** The names of the parameters this optimizer updates. */
  get parameterNames(): string[] {
    return [...this.slots.keys()];
  }

  /** The learning rate of group `i` now. */
  groupLr(i: number): number {
    const g = this.groups[i];
    if (!g) throw new ConfigError(`AdamW: no parameter group ${i} (there are ${this.groups.length})`);
    return this.lr * g.lrScale;
  }

  /** Steps taken by parameter `name` (0 before its first gradient). */
  stepOf(name: string): number {
    return this.slots.get(name)?.step ?? 0;
  }

  /**
   * One update from gradients by parameter name (as `tf.variableGrads(...).grads` returns them).
   * Names the optimizer does not know are an error; known parameters without a gradient are skipped.
   * The gradients stay the caller's.
   */
  step(grads: Map<string, tf.Tensor> | Record<string, tf.Tensor>): void {
    this.assertAlive();
    const entries = grads instanceof Map ? [...grads] : Object.entries(grads);
    const unknown = entries.filter(([k]) => !this.slots.has(k)).map(([k]) => k);
    if (unknown.length) {
      throw new ConfigError(
        `AdamW.step: gradients for unknown parameters: ${unknown.slice(0, 8).join(', ')}${unknown.length > 8 ? ', …' : ''}`,
      );
    }
    for (const [name, g] of entries) {
      const slot = this.slots.get(name) as Slot;
      if (!tf.util.arraysEqual(g.shape, slot.variable.shape)) {
        throw new ShapeError(
          `AdamW.step: gradient of '${name}' has shape [${g.shape}], the parameter [${slot.variable.shape}]`,
        );
      }
    }
    const [b1, b2] = this.betas;
    const fused = this.fused && tf.getKernel(ADAMW_KERNEL, tf.getBackend()) !== undefined;
    for (const [name, g] of entries) {
      const slot = this.slots.get(name) as Slot;
      const group = this.groups[slot.group] as { lrScale: number; weightDecay: number };
      const lr = this.lr * group.lrScale;
      if (!slot.expAvg || !slot.expAvgSq) {
        slot.expAvg = tf.variable(tf.zerosLike(slot.variable), false);
        slot.expAvgSq = tf.variable(tf.zerosLike(slot.variable), false);
      }
      slot.step += 1;
      const bc1 = 1 - b1 ** slot.step;
      const bc2Sqrt = Math.sqrt(1 - b2 ** slot.step);
      const m = slot.expAvg;
      const v = slot.expAvgSq;
      if (fused && slot.variable.dtype === 'float32') {
        const attrs: AdamWKernelAttrs = {
          beta1: b1,
          oneMinusBeta1: 1 - b1,
          beta2: b2,
          oneMinusBeta2: 1 - b2,
          decay: 1 - lr * group.weightDecay,
          bc2Sqrt,
          eps: this.eps,
          stepSize: lr / bc1,
        };
        const [p, mNew, vNew] = tf.tidy(() => {
          const grad = g.dtype === 'float32' ? g : tf.cast(g, 'float32');
          return tf
            .engine()
            .runKernel(
              ADAMW_KERNEL,
              { param: slot.variable, grad, expAvg: m, expAvgSq: v },
              attrs as unknown as tf.NamedAttrMap,
            ) as tf.Tensor[];
        });
        m.assign(mNew as tf.Tensor);
        v.assign(vNew as tf.Tensor);
        slot.variable.assign(p as tf.Tensor);
        tf.dispose([p, mNew, vNew] as tf.Tensor[]);
        continue;
      }
      tf.tidy(() => {
        const grad = g.dtype === 'float32' ? g : tf.cast(g, 'float32');
        const mNew = tf.add(tf.mul(m, b1), tf.mul(grad, 1 - b1));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(grad), 1 - b2));
        const decayed =
          group.weightDecay === 0 ? slot.variable : tf.mul(slot.variable, 1 - lr * group.weightDecay);
        const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), this.eps);
        const p = tf.sub(decayed, tf.mul(tf.div(mNew, denom), lr / bc1));
        m.assign(mNew);
        v.assign(vNew);
        slot.variable.assign(p);
      });
    }
  }

  /**
   * The optimizer state as new tensors: `<name>.exp_avg`, `<name>.exp_avg_sq` and `<name>.step`
   * (a float32 scalar, exact below 2²⁴) for every parameter that has taken a step. Safetensors-ready.
   * The learning rate is not part of it (a float32 would round it): a schedule recomputes it.
   */
  stateDict(): Map<string, tf.Tensor> {
    this.assertAlive();
    const out = new Map<string, tf.Tensor>();
    for (const [name, s] of this.slots) {
      if (!s.expAvg || !s.expAvgSq) continue;
      out.set(`${name}.exp_avg`, tf.clone(s.expAvg));
      out.set(`${name}.exp_avg_sq`, tf.clone(s.expAvgSq));
      out.set(`${name}.step`, tf.scalar(s.step, 'float32'));
    }
    return out;
  }

  /**
   * Restores a state saved by {@link stateDict} (copies the tensors; the caller keeps `dict`).
   * Every parameter of the state must be one of this optimizer's, with the same shape.
   */
  async loadStateDict(dict: Map<string, tf.Tensor>, opts: { source?: string } = {}): Promise<void> {
    this.assertAlive();
    const src = opts.source ? ` (${opts.source})` : '';
    const problems: string[] = [];
    const restored = new Map<string, { m: tf.Tensor; v: tf.Tensor; step: number }>();
    for (const [key, t] of dict) {
      const m = /^(.*)\.(exp_avg|exp_avg_sq|step)$/.exec(key);
      if (!m) {
        problems.push(`unexpected key '${key}'`);
        continue;
      }
      const name = m[1] as string;
      const slot = this.slots.get(name);
      if (!slot) {
        problems.push(`state for unknown parameter '${name}'`);
        continue;
      }
      if (m[2] !== 'step' && !tf.util.arraysEqual(t.shape, slot.variable.shape)) {
        problems.push(`'${key}' has shape [${t.shape}], the parameter [${slot.variable.shape}]`);
        continue;
      }
      if (m[2] !== 'step' || restored.has(name)) continue;
      const ma = dict.get(`${name}.exp_avg`);
      const va = dict.get(`${name}.exp_avg_sq`);
      if (!ma || !va) {
        problems.push(`'${name}' has a step but not both exp_avg and exp_avg_sq`);
        continue;
      }
      const step = (await t.data())[0] as number;
      if (!(Number.isInteger(step) && step >= 1)) problems.push(`'${key}' is ${step}, not a step count ≥ 1`);
      else restored.set(name, { m: ma, v: va, step });
    }
    if (problems.length) {
      throw new CheckpointError(
        `AdamW.loadStateDict${src}: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? '; …' : ''}`,
      );
    }
    for (const s of this.slots.values()) {
      s.expAvg?.dispose();
      s.expAvgSq?.dispose();
      s.expAvg = null;
      s.expAvgSq = null;
      s.step = 0;
    }
    for (const [name, r] of restored) {
      const s = this.slots.get(name) as Slot;
      s.expAvg = tf.variable(tf.cast(r.m, 'float32'), false);
      s.expAvgSq = tf.variable(tf.cast(r.v, 'float32'), false);
      s.step = r.step;
    }
  }

  /** Frees the optimizer's state (not the parameters). */
  dispose(): void {
    if (this.disposed) return;
    for (const s of this.slots.values()) {
      s.expAvg?.dispose();
      s.expAvgSq?.dispose();
    }
    this.disposed = true;
  }

  private assertAlive(): void {
    if (this.disposed) throw new ConfigError('AdamW: this optimizer was disposed');
  }
}
