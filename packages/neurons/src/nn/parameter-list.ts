import { ConfigError } from '../core/errors';
import { Module } from '../core/module';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * torch's `nn.ParameterList`: trainable parameters under the names `'0'`, `'1'`, …, so that
 * state-dict keys read `t_pos_embeds.0`, `t_pos_embeds.1`. Like torch's, it is not callable.
 */
export class ParameterList extends Module<[], never> {
  private readonly items: tf.Variable[] = [];

  /** Takes ownership of `inits`. */
  constructor(inits: Iterable<tf.Tensor> = []) {
    super();
    for (const t of inits) this.items.push(this.param(String(this.items.length), t));
  }

  /** The parameter at `index` (negative counts from the end). */
  at(index: number): tf.Variable {
    const v = this.items.at(index);
    if (!v)
      throw new ConfigError(`${this.label}: no parameter at index ${index} (length ${this.items.length})`);
    return v;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<tf.Variable> {
    return this.items[Symbol.iterator]();
  }

  forward(): never {
    throw new ConfigError(`${this.label}: a ParameterList is not callable; use at(i)`);
  }
}
