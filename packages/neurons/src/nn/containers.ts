import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors';
import { type AnyModule, Module } from '../core/module';

/** A module from one tensor to one tensor (what {@link Sequential} chains). */
export type TensorModule = Module<[tf.Tensor], tf.Tensor>;

/**
 * `nn.Sequential`: runs its children in order, each on the previous one's output. Children are
 * named `'0'`, `'1'`, … so that state-dict keys read `q_conv.0.weight`, `q_conv.1.running_mean`.
 */
export class Sequential extends Module {
  private readonly items: TensorModule[] = [];

  constructor(...modules: TensorModule[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Appends a module under the next index; returns it. */
  append<M extends TensorModule>(m: M): M {
    this.items.push(this.child(String(this.items.length), m));
    return m;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): TensorModule {
    const m = this.items.at(index);
    if (!m) throw new ConfigError(`${this.label}: no module at index ${index} (length ${this.items.length})`);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<TensorModule> {
    return this.items[Symbol.iterator]();
  }

  forward(x: tf.Tensor): tf.Tensor {
    let y = x;
    for (const m of this.items) y = m.apply(y);
    return y;
  }
}

/**
 * `nn.ModuleList`: holds modules under `'0'`, `'1'`, … for their state-dict keys
 * (`seg_responder_dw.2.0.weight`). Like torch's, it is not callable: its owner calls the items.
 */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<[], never> {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Appends a module under the next index; returns it. */
  append<N extends M>(m: N): N {
    this.items.push(this.child(String(this.items.length), m));
    return m;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): M {
    const m = this.items.at(index);
    if (!m) throw new ConfigError(`${this.label}: no module at index ${index} (length ${this.items.length})`);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  forward(): never {
    throw new ConfigError(`${this.label}: a ModuleList is not callable; call its items`);
  }
}

/** `nn.Identity`: returns its input. No state. */
export class Identity extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}
