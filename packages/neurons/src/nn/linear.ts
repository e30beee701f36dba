import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../core/errors';
import { Module } from '../core/module';
import { isRecordingOps, recordOp } from '../core/op-recorder';
import { formatShape } from '../core/shape';
import { biasUniform, kaimingUniform } from './init';

/** Options of {@link Linear}, named as torch's `nn.Linear` arguments. */
export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** Default true. */
  bias?: boolean;
  /** Seed of the default (torch-like) initialization. */
  seed?: number;
}

/**
 * `nn.Linear` on `[..., inFeatures]` → `[..., outFeatures]`. State: `weight` (torch `[O, I]`,
 * layout `linear`, native `[I, O]`) and `bias` `[O]`. Records a `linear` operation when an op
 * recorder is active.
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(opts: LinearOptions) {
    super();
    for (const [n, v] of [
      ['inFeatures', opts.inFeatures],
      ['outFeatures', opts.outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new ConfigError(`${this.typeName}: ${n} must be a positive integer, got ${v}`);
      }
    }
    this.inFeatures = opts.inFeatures;
    this.outFeatures = opts.outFeatures;
    this.weight = this.param(
      'weight',
      kaimingUniform([opts.inFeatures, opts.outFeatures], opts.inFeatures, opts.seed),
      {
        layout: 'linear',
      },
    );
    this.bias =
      opts.bias === false
        ? null
        : this.param('bias', biasUniform(opts.outFeatures, opts.inFeatures, opts.seed));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeError(
        `${this.label}: expected input of shape [..., ${this.inFeatures}], got ${formatShape(x.shape)}`,
      );
    }
    const lead = x.shape.slice(0, -1);
    const flat = (x.rank === 2 ? x : tf.reshape(x, [-1, this.inFeatures])) as tf.Tensor2D;
    let y: tf.Tensor = tf.matMul(flat, this.weight as tf.Tensor2D);
    if (this.bias) y = tf.add(y, this.bias);
    if (x.rank !== 2) y = tf.reshape(y, [...lead, this.outFeatures]);
    if (isRecordingOps()) {
      recordOp({
        kind: 'linear',
        path: this.path,
        input: x,
        weightShape: [...this.weight.shape],
        outputShape: [...y.shape],
        stride: [1, 1],
        padding: [
          [0, 0],
          [0, 0],
        ],
        dilation: [1, 1],
        groups: 1,
      });
    }
    return y;
  }
}
