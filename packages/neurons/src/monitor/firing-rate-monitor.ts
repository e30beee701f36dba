import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors';
import type { AnyModule } from '../core/module';
import { isSpikeSource, type SpikeSource } from '../core/spike-source';

/** Firing rate of one neuron module: the mean integer spike count per element and time step. */
export interface FiringRateEntry {
  /** Mean spike count per time step, concatenated over the module's calls in call order. */
  per_step: number[];
  /** Element-weighted mean over all calls and steps. */
  mean: number;
  /** How many times the module ran. */
  calls: number;
  /** Neuron-steps observed (elements × steps, summed over calls). */
  neuron_steps: number;
}

/** Plain-JSON report: module path → entry. */
export type FiringRateReport = Record<string, FiringRateEntry>;

export interface FiringRateMonitorOptions {
  /** Which spiking modules to watch (default: every module that is a {@link SpikeSource}). */
  filter?: (path: string, module: AnyModule) => boolean;
}

interface Pending {
  /** Per-step mean counts, kept outside the forward tidy until read. */
  perStep: tf.Tensor1D;
  elementsPerStep: number;
}

interface Record_ {
  perStep: number[];
  weights: number[];
  calls: number;
  pending: Pending[];
}

function spikesOf(output: unknown): tf.Tensor | null {
  if (output instanceof tf.Tensor) return output;
  if (output && typeof output === 'object' && (output as { spikes?: unknown }).spikes instanceof tf.Tensor) {
    return (output as { spikes: tf.Tensor }).spikes;
  }
  return null;
}

/**
 * Records firing rates of every neuron module in a `Module` tree through forward hooks: for each
 * call, the mean integer spike count (output × `spikeCountScale`) per time step, as SpikeTrack's
 * SFR hook does. Multi-step calls contribute one value per step; single-step calls one value.
 *
 * The per-call statistics stay on the device (one small tensor per call) until {@link report} or
 * {@link flush} reads them, so monitoring does not synchronize the forward pass.
 */
export class FiringRateMonitor {
  private readonly records = new Map<string, Record_>();
  private readonly removers: (() => void)[] = [];

  constructor(root: AnyModule, opts: FiringRateMonitorOptions = {}) {
    for (const [path, m] of root.namedModules()) {
      if (!isSpikeSource(m)) continue;
      if (opts.filter && !opts.filter(path, m)) continue;
      const key = path || m.typeName;
      const rec: Record_ = { perStep: [], weights: [], calls: 0, pending: [] };
      this.records.set(key, rec);
      this.removers.push(
        m.onForward((mod, _inputs, output) => this.observe(mod as unknown as SpikeSource, rec, output)),
      );
    }
    if (this.records.size === 0) {
      throw new ConfigError(`FiringRateMonitor: ${root.label} contains no spiking neuron module to monitor`);
    }
  }

  /** Paths of the monitored modules. */
  get paths(): string[] {
    return [...this.records.keys()];
  }

  private observe(source: SpikeSource, rec: Record_, output: unknown): void {
    const spikes = spikesOf(output);
    if (!spikes) return;
    const axis = source.outputTimeAxis;
    const perStep = tf.tidy(() => {
      const counts = tf.mul(tf.cast(spikes, 'float32'), source.spikeCountScale);
      if (axis === null) return tf.reshape(tf.mean(counts), [1]);
      const rank = counts.rank;
      const a = axis < 0 ? rank + axis : axis;
      const reduce = [...Array(rank).keys()].filter((i) => i !== a);
      return reduce.length ? tf.mean(counts, reduce) : counts;
    }) as tf.Tensor1D;
    rec.pending.push({
      perStep: tf.keep(perStep),
      elementsPerStep:
        axis === null ? spikes.size : spikes.size / spikes.shape[axis < 0 ? spikes.rank + axis : axis]!,
    });
    rec.calls += 1;
  }

  /** Reads the pending statistics from the device into numbers (releases their tensors). */
  async flush(): Promise<void> {
    for (const rec of this.records.values()) {
      const pending = rec.pending.splice(0);
      for (const p of pending) {
        const values = await p.perStep.data();
        p.perStep.dispose();
        for (const v of values) {
          rec.perStep.push(v);
          rec.weights.push(p.elementsPerStep);
        }
      }
    }
  }

  /** The firing rates so far, as plain JSON. */
  async report(): Promise<FiringRateReport> {
    await this.flush();
    const out: FiringRateReport = {};
    for (const [path, rec] of this.records) {
      let sum = 0;
      let n = 0;
      rec.perStep.forEach((v, i) => {
        sum += v * rec.weights[i]!;
        n += rec.weights[i]!;
      });
      out[path] = {
        per_step: [...rec.perStep],
        mean: n > 0 ? sum / n : 0,
        calls: rec.calls,
        neuron_steps: n,
      };
    }
    return out;
  }

  /** Forgets everything recorded so far (keeps the hooks). */
  reset(): void {
    for (const rec of this.records.values()) {
      for (const p of rec.pending) p.perStep.dispose();
      rec.pending = [];
      rec.perStep = [];
      rec.weights = [];
      rec.calls = 0;
    }
  }

  /** Removes the hooks and releases pending tensors. */
  detach(): void {
    this.reset();
    for (const r of this.removers.splice(0)) r();
  }
}
