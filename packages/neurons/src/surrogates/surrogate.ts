import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors';

/** Names of the built-in surrogate gradients. */
export type SurrogateName = 'atan' | 'sigmoid' | 'fastSigmoid' | 'triangle' | 'rect' | 'straightThrough';

/** The serializable description of a surrogate: its name and its parameters. */
export interface SurrogateConfig {
  name: SurrogateName;
  params: Record<string, number>;
}

/**
 * A Heaviside step with a surrogate gradient: forward `Θ(x) = x ≥ 0 ? 1 : 0` (as SpikingJelly,
 * `Θ(0) = 1`), backward `dy · g(x)` where `g` is the surrogate derivative.
 *
 * Call it like a function; it also carries its {@link SurrogateFn.name | name} and
 * {@link SurrogateFn.params | parameters} for serialization, and the analytic derivative.
 */
export interface SurrogateFn {
  (x: tf.Tensor): tf.Tensor;
  /** The surrogate's name (`'sigmoid'`, …). Same as `config.name`. */
  readonly name: SurrogateName;
  /** Its parameters (`{ alpha: 4 }`, …). */
  readonly params: Readonly<Record<string, number>>;
  /** `{ name, params }`, which {@link surrogateFromConfig} turns back into the same surrogate. */
  readonly config: SurrogateConfig;
  /** The surrogate derivative `g(x)` itself (no custom gradient), e.g. for tests and plots. */
  derivative(x: tf.Tensor): tf.Tensor;
}

/** Forward of every surrogate: `x ≥ 0 ? 1 : 0`, in float32. */
export function heaviside(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.greaterEqual(x, 0), 'float32'));
}

function positive(where: string, what: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) {
    throw new ConfigError(`${where}: ${what} must be a finite number > 0, got ${v}`);
  }
  return v;
}

function makeSurrogate(
  name: SurrogateName,
  params: Record<string, number>,
  derivative: (x: tf.Tensor) => tf.Tensor,
): SurrogateFn {
  const step = tf.customGrad((...args: unknown[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[args.length - 1] as (ts: tf.Tensor[]) => void;
    save([x]);
    return {
      value: heaviside(x),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.mul(dy as tf.Tensor, derivative(saved[0]!)),
    };
  });
  const frozen = Object.freeze({ ...params });
  const fn = ((x: tf.Tensor) => {
    if (!(x instanceof tf.Tensor)) {
      throw new ConfigError(`surrogate.${name}: expected a tf.Tensor, got ${typeof x}`);
    }
    const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const y = step(xf);
    if (xf !== x) xf.dispose();
    return y;
  }) as SurrogateFn;
  Object.defineProperties(fn, {
    name: { value: name, enumerable: true, configurable: true },
    params: { value: frozen, enumerable: true },
    config: { get: () => ({ name, params: { ...frozen } }), enumerable: true },
    derivative: { value: (x: tf.Tensor) => tf.tidy(() => derivative(x)) },
  });
  return fn;
}

/**
 * ATan surrogate (SpikingJelly's default in many models): `g(x) = α / (2·(1 + (π/2·α·x)²))`,
 * the derivative of `atan(π/2·α·x)/π + 1/2`. Default α = 2.
 */
export function atan(alpha = 2): SurrogateFn {
  positive('surrogate.atan', 'alpha', alpha);
  return makeSurrogate('atan', { alpha }, (x) => {
    const u = tf.mul(x, (Math.PI / 2) * alpha);
    return tf.div(alpha / 2, tf.add(1, tf.square(u)));
  });
}

/** Sigmoid surrogate (the default): `g(x) = α·σ(αx)·(1 − σ(αx))`. Default α = 4. */
export function sigmoid(alpha = 4): SurrogateFn {
  positive('surrogate.sigmoid', 'alpha', alpha);
  return makeSurrogate('sigmoid', { alpha }, (x) => {
    const s = tf.sigmoid(tf.mul(x, alpha));
    return tf.mul(tf.mul(s, tf.sub(1, s)), alpha);
  });
}

/**
 * Fast sigmoid / SuperSpike (Zenke & Ganguli 2018): `g(x) = 1/(1 + k|x|)²`. Default slope k = 25
 * (snnTorch's default).
 */
export function fastSigmoid(slope = 25): SurrogateFn {
  positive('surrogate.fastSigmoid', 'slope', slope);
  return makeSurrogate('fastSigmoid', { slope }, (x) =>
    tf.reciprocal(tf.square(tf.add(1, tf.mul(tf.abs(x), slope)))),
  );
}

/** Triangle surrogate: `g(x) = max(0, 1 − |x|/γ)/γ`. Default width γ = 1. */
export function triangle(gamma = 1): SurrogateFn {
  positive('surrogate.triangle', 'gamma', gamma);
  return makeSurrogate('triangle', { gamma }, (x) =>
    tf.div(tf.relu(tf.sub(1, tf.div(tf.abs(x), gamma))), gamma),
  );
}

/** Rectangle (boxcar) surrogate: `g(x) = 1/a` where `|x| < a/2`, else 0. Default width a = 1. */
export function rect(width = 1): SurrogateFn {
  positive('surrogate.rect', 'width', width);
  return makeSurrogate('rect', { width }, (x) =>
    tf.div(tf.cast(tf.less(tf.abs(x), width / 2), 'float32'), width),
  );
}

/** Straight-through estimator: `g(x) = 1` everywhere. */
export function straightThrough(): SurrogateFn {
  return makeSurrogate('straightThrough', {}, (x) => tf.onesLike(x));
}

const FACTORIES: Record<SurrogateName, (p: Record<string, number>) => SurrogateFn> = {
  atan: (p) => atan(p.alpha),
  sigmoid: (p) => sigmoid(p.alpha),
  fastSigmoid: (p) => fastSigmoid(p.slope),
  triangle: (p) => triangle(p.gamma),
  rect: (p) => rect(p.width),
  straightThrough: () => straightThrough(),
};

/** Rebuilds a surrogate from its {@link SurrogateConfig} (or from just a name, with defaults). */
export function surrogateFromConfig(config: SurrogateConfig | SurrogateName): SurrogateFn {
  const c: SurrogateConfig = typeof config === 'string' ? { name: config, params: {} } : config;
  const make = FACTORIES[c?.name as SurrogateName];
  if (!make || !Object.hasOwn(FACTORIES, c.name)) {
    throw new ConfigError(
      `surrogateFromConfig: unknown surrogate '${String(c?.name)}' (expected one of ${Object.keys(FACTORIES).join(', ')})`,
    );
  }
  return make(c.params ?? {});
}

/** Whether `f` is a {@link SurrogateFn} made by this module's factories. */
export function isSurrogateFn(f: unknown): f is SurrogateFn {
  return typeof f === 'function' && Object.hasOwn(f, 'config') && typeof (f as SurrogateFn).name === 'string';
}

/**
 * The surrogate factories: `surrogate.sigmoid(4)`, `surrogate.atan(2)`, `surrogate.fastSigmoid(25)`,
 * `surrogate.triangle(1)`, `surrogate.rect(1)`, `surrogate.straightThrough()`, and
 * `surrogate.fromConfig({ name, params })`.
 */
export const surrogate = Object.freeze({
  atan,
  sigmoid,
  fastSigmoid,
  triangle,
  rect,
  straightThrough,
  fromConfig: surrogateFromConfig,
});

/** The default surrogate of every binary neuron: `sigmoid(4)`. */
export const defaultSurrogate: SurrogateFn = sigmoid(4);
