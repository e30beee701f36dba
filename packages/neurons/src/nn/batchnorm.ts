import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../core/errors';
import { type AnyModule, Module } from '../core/module';
import { formatShape } from '../core/shape';
import type { Conv1d, Conv2d } from './conv';
import type { Linear } from './linear';

/** The affine constants of a BatchNorm that uses running statistics: `y = x·scale + shift`. */
export interface BatchNormConstants {
  /** `weight / sqrt(running_var + eps)`, `[C]`. */
  scale: tf.Tensor1D;
  /** `bias − running_mean·scale`, `[C]`. */
  shift: tf.Tensor1D;
}

/**
 * A module whose derived constants can be recomputed exactly on the CPU (see
 * {@link refreshExactConstants}). The BatchNorm layers implement it.
 */
export interface ExactConstants {
  refreshConstants(): Promise<void>;
}

/** Whether `m` implements {@link ExactConstants}. */
export function hasExactConstants(m: unknown): m is ExactConstants {
  return typeof m === 'object' && m !== null && typeof (m as ExactConstants).refreshConstants === 'function';
}

/**
 * Recomputes the eval constants of every module under `root` that has them (every BatchNorm) on
 * the CPU, in float32 arithmetic emulated with `Math.fround`. On the CPU and WASM backends the
 * constants computed on the device are already identical; on WebGPU, whose `sqrt` and division are
 * not correctly rounded, call this after loading weights to be bit-exact. Resolves to how many
 * modules were refreshed.
 */
export async function refreshExactConstants(root: AnyModule): Promise<number> {
  let n = 0;
  for (const m of root.namedModules().values()) {
    if (hasExactConstants(m)) {
      await m.refreshConstants();
      n++;
    }
  }
  return n;
}

interface CachedConstants extends BatchNormConstants {
  /** `1 / sqrt(running_var + eps)` (for gradients only). */
  invStd: tf.Tensor1D;
  /** The tensors the constants were computed from (their identity changes on load or assign). */
  key: unknown[];
  source: 'cpu' | 'device';
}

/** The statistics an eval-mode norm layer reads. `null` weight/bias means 1/0. */
interface NormStats {
  weight: tf.Tensor | null;
  bias: tf.Tensor | null;
  mean: tf.Tensor;
  variance: tf.Tensor;
}

/** Identity in value, zero gradient (a customGrad without saved tensors). */
const stopGradient = tf.customGrad((...args: unknown[]) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor) };
});

const dataIdOf = (t: tf.Tensor | null): unknown => (t ? t.dataId : null);

/**
 * Shared machinery of the BatchNorm layers: channels-last input checks and the cached eval
 * constants `scale = weight / sqrt(fl32(running_var + eps))`, `shift = bias − running_mean·scale`,
 * which are recomputed whenever a parameter or buffer is replaced (load, optimizer step, running
 * statistics update).
 */
export abstract class NormBase extends Module {
  /** Number of channels `C` (the last axis). */
  readonly numFeatures: number;
  readonly eps: number;
  private cache: CachedConstants | null = null;
  private refreshing = 0;
  /** Input ranks accepted (channels last). */
  protected abstract readonly ranks: readonly number[];

  constructor(numFeatures: number, eps: number) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new ConfigError(`${this.typeName}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    if (!(eps >= 0)) throw new ConfigError(`${this.typeName}: eps must be ≥ 0, got ${eps}`);
    this.numFeatures = numFeatures;
    this.eps = eps;
  }

  /** The tensors the eval constants are computed from, or null when there are none. */
  protected abstract evalStats(): NormStats | null;

  protected checkInput(x: tf.Tensor): void {
    if (!this.ranks.includes(x.rank) || x.shape[x.rank - 1] !== this.numFeatures) {
      const forms = this.ranks.map((r) => formatShape([...Array<null>(r - 1).fill(null), this.numFeatures]));
      throw new ShapeError(
        `${this.label}: expected input of shape ${forms.join(' or ')} (channels last), got ${formatShape(x.shape)}`,
      );
    }
  }

  private keyOf(s: NormStats): unknown[] {
    return [dataIdOf(s.weight), dataIdOf(s.bias), dataIdOf(s.mean), dataIdOf(s.variance)];
  }

  private fresh(s: NormStats): CachedConstants | null {
    const c = this.cache;
    if (!c) return null;
    const key = this.keyOf(s);
    return key.every((k, i) => k === c.key[i]) ? c : null;
  }

  private setCache(c: CachedConstants | null): void {
    if (this.cache) tf.dispose([this.cache.scale, this.cache.shift, this.cache.invStd]);
    this.cache = c;
  }

  /**
   * The eval constants (owned by the module: do not dispose them). Computed on the device when
   * missing or stale; with IEEE `sqrt` and division (CPU, WASM) these are exact. See
   * {@link refreshConstants} for WebGPU.
   */
  evalConstants(): BatchNormConstants {
    this.assertAlive();
    const s = this.evalStats();
    if (!s) throw new ConfigError(`${this.label}: has no running statistics, so no eval constants`);
    const hit = this.fresh(s);
    if (hit) return hit;
    // Constants may first be needed under a gradient tape: they must not carry gradients.
    const c = tf.tidy(() => {
      const sd = tf.sqrt(tf.add(stopGradient(s.variance), tf.scalar(this.eps)));
      const scale = (s.weight ? tf.div(stopGradient(s.weight), sd) : tf.div(tf.scalar(1), sd)) as tf.Tensor1D;
      const prod = tf.mul(stopGradient(s.mean), scale);
      const shift = (s.bias ? tf.sub(stopGradient(s.bias), prod) : tf.neg(prod)) as tf.Tensor1D;
      return { scale, shift, invStd: tf.div(tf.scalar(1), sd) as tf.Tensor1D };
    });
    tf.keep(c.scale);
    tf.keep(c.shift);
    tf.keep(c.invStd);
    this.setCache({ ...c, key: this.keyOf(s), source: 'device' });
    return c;
  }

  /** Where the cached constants were computed (`null`: none cached yet). */
  get constantsSource(): 'cpu' | 'device' | null {
    return this.cache?.source ?? null;
  }

  /**
   * Recomputes the eval constants on the CPU from the current weights: `running_var + eps` is
   * rounded to float32 first (so `fl32(4^k − 1e-5) + 1e-5` is exactly `4^k`), then `sqrt`, the
   * division and `bias − running_mean·scale` are each rounded to float32, as in PyTorch.
   */
  async refreshConstants(): Promise<void> {
    this.assertAlive();
    const s = this.evalStats();
    if (!s) return;
    const key = this.keyOf(s);
    const ticket = ++this.refreshing;
    const [w, b, m, v] = await Promise.all([
      s.weight ? s.weight.data() : Promise.resolve(null),
      s.bias ? s.bias.data() : Promise.resolve(null),
      s.mean.data(),
      s.variance.data(),
    ]);
    if (this.isDisposed || ticket !== this.refreshing) return;
    const c = this.numFeatures;
    const scale = new Float32Array(c);
    const shift = new Float32Array(c);
    const invStd = new Float32Array(c);
    const f = Math.fround;
    const eps = f(this.eps);
    for (let i = 0; i < c; i++) {
      const sd = f(Math.sqrt(f(v[i]! + eps)));
      scale[i] = f((w ? w[i]! : 1) / sd);
      shift[i] = f((b ? b[i]! : 0) - f(m[i]! * scale[i]!));
      invStd[i] = f(1 / sd);
    }
    const now = this.evalStats();
    if (!now || !this.keyOf(now).every((k, i) => k === key[i])) return; // changed while reading
    this.setCache({
      scale: tf.keep(tf.tensor1d(scale)),
      shift: tf.keep(tf.tensor1d(shift)),
      invStd: tf.keep(tf.tensor1d(invStd)),
      key,
      source: 'cpu',
    });
  }

  /** Drops the cached constants (they are recomputed when next needed). */
  protected invalidateConstants(): void {
    this.refreshing++;
    this.setCache(null);
  }

  /** `1 / sqrt(running_var + eps)` from the cache (for gradients). */
  protected cachedInvStd(): tf.Tensor1D {
    this.evalConstants();
    return this.cache!.invStd;
  }

  protected override onStateLoaded(): void {
    this.invalidateConstants();
    super.onStateLoaded();
  }

  protected override onModeChange(): void {
    // Constants are keyed on the tensors they come from, so a mode change needs no refresh; drop
    // them in training mode, where they are not used and the statistics will change.
    if (this.training) this.invalidateConstants();
  }

  protected override onDispose(): void {
    this.invalidateConstants();
  }

  /** `y = x·scale + shift` with the cached constants. */
  protected applyConstants(x: tf.Tensor): tf.Tensor {
    const { scale, shift } = this.evalConstants();
    return tf.add(tf.mul(x, scale), shift);
  }
}

/** Options of {@link BatchNorm1d} / {@link BatchNorm2d}, as torch's arguments. */
export interface BatchNormOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Default 0.1. `null` means a cumulative moving average (factor 1/num_batches_tracked). */
  momentum?: number | null;
  /** Learnable `weight` and `bias` (default true). */
  affine?: boolean;
  /** Keep `running_mean`, `running_var`, `num_batches_tracked` (default true). */
  trackRunningStats?: boolean;
}

/**
 * torch's `nn.BatchNorm*d`, channels last. In training mode (or without running statistics) it
 * normalizes with the batch statistics (biased variance) and updates `running_mean` and
 * `running_var` (unbiased variance) with `momentum`, and increments `num_batches_tracked` (int64
 * in torch). In eval mode it applies the cached exact constants (see {@link NormBase}); gradients
 * still reach `weight` and `bias` there.
 */
export abstract class BatchNormBase extends NormBase {
  readonly weight: tf.Variable | null;
  readonly bias: tf.Variable | null;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts.eps ?? 1e-5);
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.weight = this.affine ? this.param('weight', tf.ones([numFeatures])) : null;
    this.bias = this.affine ? this.param('bias', tf.zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.buffer('running_mean', tf.zeros([numFeatures]));
      this.buffer('running_var', tf.ones([numFeatures]));
      this.buffer('num_batches_tracked', tf.scalar(0, 'int32'), { torchDtype: 'int64' });
    }
  }

  protected evalStats(): NormStats | null {
    if (!this.trackRunningStats) return null;
    return {
      weight: this.weight,
      bias: this.bias,
      mean: this.getBuffer('running_mean'),
      variance: this.getBuffer('running_var'),
    };
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkInput(x);
    if (this.training || !this.trackRunningStats) return this.batchForward(x);
    if (!this.weight || !this.bias || !tf.engine().isTapeOn()) return this.applyConstants(x);
    // Under a gradient tape: the same exact value, plus a term that is exactly zero in value and
    // carries the gradients of weight and bias: (w − sg(w))·(x − mean)·invStd + (b − sg(b)).
    const { scale, shift } = this.evalConstants();
    const invStd = this.cachedInvStd();
    const mean = this.getBuffer('running_mean');
    const dw = tf.sub(this.weight, stopGradient(this.weight));
    const db = tf.sub(this.bias, stopGradient(this.bias));
    const zero = tf.add(tf.mul(tf.mul(tf.sub(x, mean), invStd), dw), db);
    return tf.add(tf.add(tf.mul(x, scale), shift), zero);
  }

  private batchForward(x: tf.Tensor): tf.Tensor {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const n = x.size / this.numFeatures;
    if (this.training && n <= 1) {
      throw new ShapeError(
        `${this.label}: expected more than 1 value per channel when training, got input of shape ${formatShape(x.shape)}`,
      );
    }
    const mean = tf.mean(x, axes);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), axes);
    let y = tf.div(centered, tf.sqrt(tf.add(variance, tf.scalar(this.eps))));
    if (this.weight && this.bias) y = tf.add(tf.mul(y, this.weight), this.bias);
    if (this.training && this.trackRunningStats) this.updateRunningStats(mean, variance, n);
    return y;
  }

  private updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, n: number): void {
    const nbt = tf.add(this.getBuffer('num_batches_tracked'), tf.scalar(1, 'int32'));
    const factor =
      this.momentum === null ? tf.div(tf.scalar(1), tf.cast(nbt, 'float32')) : tf.scalar(this.momentum);
    const keep = tf.sub(tf.scalar(1), factor);
    const unbiased = tf.mul(variance, tf.scalar(n / (n - 1)));
    const rm = tf.add(tf.mul(this.getBuffer('running_mean'), keep), tf.mul(mean, factor));
    const rv = tf.add(tf.mul(this.getBuffer('running_var'), keep), tf.mul(unbiased, factor));
    this.setBuffer('running_mean', rm);
    this.setBuffer('running_var', rv);
    this.setBuffer('num_batches_tracked', nbt);
  }
}

/**
 * `nn.BatchNorm2d` on NHWC input `[N, H, W, C]`. State: `weight`, `bias`, `running_mean`,
 * `running_var`, `num_batches_tracked` (int64 in torch), as in torch.
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4] as const;
}

/**
 * `nn.BatchNorm1d` on `[N, C]` or channels-last `[N, L, C]` (torch's `[N, C, L]`, transposed).
 * State as {@link BatchNorm2d}.
 */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3] as const;
}

/**
 * The reference's `FrozenBatchNorm*d`: BatchNorm with fixed statistics and affine parameters,
 * all four stored as buffers (`weight`, `bias`, `running_mean`, `running_var`; no
 * `num_batches_tracked`), never trained. Training and eval mode compute the same
 * `y = x·scale + shift` with the exact cached constants.
 */
export abstract class FrozenBatchNormBase extends NormBase {
  constructor(numFeatures: number, opts: { eps?: number } = {}) {
    super(numFeatures, opts.eps ?? 1e-5);
    this.buffer('weight', tf.ones([numFeatures]));
    this.buffer('bias', tf.zeros([numFeatures]));
    this.buffer('running_mean', tf.zeros([numFeatures]));
    this.buffer('running_var', tf.ones([numFeatures]));
  }

  protected evalStats(): NormStats {
    return {
      weight: this.getBuffer('weight'),
      bias: this.getBuffer('bias'),
      mean: this.getBuffer('running_mean'),
      variance: this.getBuffer('running_var'),
    };
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkInput(x);
    return this.applyConstants(x);
  }
}

/** The reference's `FrozenBatchNorm2d` on NHWC input `[N, H, W, C]`. */
export class FrozenBatchNorm2d extends FrozenBatchNormBase {
  protected readonly ranks = [4] as const;
}

/** The reference's `FrozenBatchNorm1d` on `[N, C]` or channels-last `[N, L, C]`. */
export class FrozenBatchNorm1d extends FrozenBatchNormBase {
  protected readonly ranks = [2, 3] as const;
}

/** Weights of a conv or linear layer with an eval-mode BatchNorm folded in (owned by the caller). */
export interface FoldedWeights {
  /** In the layer's native layout (`[kh, kw, I/g, O]`, depthwise `[kh, kw, C, m]`, `[k, I, O]`, `[I, O]`). */
  weight: tf.Tensor;
  /** `[O]`: `bias·scale + shift`, or `shift` when the layer has no bias. */
  bias: tf.Tensor1D;
}

/**
 * Folds an eval-mode BatchNorm that follows `layer` into its weights: `W' = W·scale` (per output
 * channel) and `b' = b·scale + shift`, so that `layer'(x) = bn(layer(x))`. With the reference's
 * exact-friendly weights (dyadic), these products are exact and so is the folded layer. The
 * constants are the BatchNorm's cached ones (call `await bn.refreshConstants()` first on WebGPU).
 * Run the folded conv with {@link conv2dNhwc} and `layer.functionalOptions()`.
 */
export function foldBatchNorm(layer: Conv2d | Conv1d | Linear, bn: NormBase): FoldedWeights {
  const outC = 'outChannels' in layer ? layer.outChannels : layer.outFeatures;
  if (bn.numFeatures !== outC) {
    throw new ConfigError(
      `foldBatchNorm: ${bn.label} has ${bn.numFeatures} channels, but ${layer.label} has ${outC} outputs`,
    );
  }
  if (bn instanceof BatchNormBase && (bn.training || !bn.trackRunningStats)) {
    throw new ConfigError(`foldBatchNorm: ${bn.label} must be in eval mode with running statistics`);
  }
  const { scale, shift } = bn.evalConstants();
  return tf.tidy(() => {
    const w = layer.weight;
    const depthwise = 'depthwise' in layer && layer.depthwise;
    const s = depthwise ? tf.reshape(scale, [w.shape[2]!, w.shape[3]!]) : scale;
    const weight = tf.mul(w, s);
    const bias = (layer.bias ? tf.add(tf.mul(layer.bias, scale), shift) : tf.clone(shift)) as tf.Tensor1D;
    return { weight, bias };
  });
}
