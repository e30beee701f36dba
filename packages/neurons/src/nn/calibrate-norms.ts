import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule } from '../core/module';
import { ConfigError } from '../core/errors';
import { FrozenBatchNormBase } from './batchnorm';

/** Options of {@link calibrateFrozenNorms}. */
export interface CalibrateNormsOptions {
  /** Most forward passes (default 12). */
  maxPasses?: number;
  /** Stop when no statistic changes by more than this, relative (default 0.01). */
  tolerance?: number;
}

/** What {@link calibrateFrozenNorms} did. */
export interface CalibrateNormsReport {
  /** Paths of the calibrated modules. */
  modules: string[];
  /** Forward passes run. */
  passes: number;
  /** The largest relative change of a statistic in the last pass. */
  lastChange: number;
}

/**
 * Data-dependent initialization of a network's frozen BatchNorms: sets every
 * `FrozenBatchNorm*d`'s `running_mean` / `running_var` to the per-channel mean and (biased)
 * variance of its input over `run()`'s forward pass, so that each normalizes its input to zero
 * mean and unit variance (times its `weight`, plus `bias`), as a pretrained backbone's statistics
 * would. Passes repeat until the statistics settle, since each layer's input depends on the
 * layers before it (one more pass settles one more layer at worst; far fewer in practice).
 *
 * Why a spiking network needs it: trained from scratch with torch's default initialization, the
 * activity fades layer by layer until whole channels never spike. BatchNorms in training mode
 * after such channels see constant inputs, and their gradient `∝ 1/sqrt(var + eps)` then grows by
 * ~316× per layer until it overflows. SpikeTrack avoids this by starting from ImageNet weights; this
 * is the equivalent for models without them.
 *
 * `run` performs forward passes on representative inputs (its result is disposed). Modules shared
 * by several calls (e.g. both branches of a tracker) get the statistics of all their calls.
 */
export async function calibrateFrozenNorms(
  root: AnyModule,
  run: () => unknown,
  opts: CalibrateNormsOptions = {},
): Promise<CalibrateNormsReport> {
  const maxPasses = opts.maxPasses ?? 12;
  const tolerance = opts.tolerance ?? 0.01;
  if (!Number.isInteger(maxPasses) || maxPasses < 1) {
    throw new ConfigError(`calibrateFrozenNorms: maxPasses must be a positive integer, got ${maxPasses}`);
  }
  const norms = [...root.namedModules()].filter(([, m]) => m instanceof FrozenBatchNormBase) as [
    string,
    FrozenBatchNormBase,
  ][];
  let passes = 0;
  let lastChange = Number.POSITIVE_INFINITY;
  while (passes < maxPasses && lastChange > tolerance) {
    const sums = new Map<string, { s: tf.Tensor; s2: tf.Tensor; n: number }>();
    const removers = norms.map(([path, m]) =>
      m.onForward((_m, inputs) => {
        const x = inputs[0] as tf.Tensor;
        const c = x.shape[x.rank - 1] as number;
        const n = x.size / c;
        const [s, s2] = tf.tidy(() => {
          const flat = tf.reshape(x, [n, c]);
          // Kept: the hook runs inside the caller's forward pass, whose scope would dispose them.
          return [tf.keep(tf.sum(flat, 0)), tf.keep(tf.sum(tf.square(flat), 0))];
        }) as [tf.Tensor, tf.Tensor];
        const prev = sums.get(path);
        if (!prev) sums.set(path, { s, s2, n });
        else {
          sums.set(path, { s: tf.keep(tf.add(prev.s, s)), s2: tf.keep(tf.add(prev.s2, s2)), n: prev.n + n });
          tf.dispose([prev.s, prev.s2, s, s2]);
        }
      }),
    );
    try {
      tf.dispose(tf.tidy(() => run() as tf.TensorContainer));
    } finally {
      for (const r of removers) r();
    }
    passes++;
    lastChange = 0;
    for (const [path, m] of norms) {
      const acc = sums.get(path);
      if (!acc) continue;
      const [s, s2] = await Promise.all([acc.s.data(), acc.s2.data()]);
      tf.dispose([acc.s, acc.s2]);
      const oldState = m.stateDict();
      const [oldMean, oldVar] = await Promise.all([
        (oldState.get('running_mean') as tf.Tensor).data(),
        (oldState.get('running_var') as tf.Tensor).data(),
      ]);
      tf.dispose([...oldState.values()]);
      const mean = new Float32Array(s.length);
      const variance = new Float32Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const mu = (s[i] as number) / acc.n;
        mean[i] = mu;
        // A constant channel (its inputs never vary) is only centred: dividing by sqrt(eps)
        // would amplify its gradient ~316×, the problem this function exists to avoid.
        const v = (s2[i] as number) / acc.n - mu * mu;
        variance[i] = v > 1e-6 ? v : 1;
        const scale = Math.max(Math.sqrt(variance[i] as number), 1e-3);
        lastChange = Math.max(
          lastChange,
          Math.abs(mu - (oldMean[i] as number)) / scale,
          Math.abs(Math.sqrt(variance[i] as number) - Math.sqrt(oldVar[i] as number)) / scale,
        );
      }
      const update = new Map([
        ['running_mean', tf.tensor1d(mean)],
        ['running_var', tf.tensor1d(variance)],
      ]);
      m.loadStateDict(update, { strict: false, layout: 'native' });
      tf.dispose([...update.values()]);
    }
  }
  return { modules: norms.map(([p]) => p), passes, lastChange };
}
