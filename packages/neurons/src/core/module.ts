import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ConfigError } from './errors';
import { fromTorchLayout, type TorchLayout, toTorchLayout, torchShapeOf } from './layout';
import { formatShape } from './shape';

/** A state dict: dotted PyTorch-style names to tensors. */
export type StateDict = Map<string, tf.Tensor>;

/** Which layout a state dict is in: PyTorch's (`torch`) or ours (`native`, NHWC). */
export type StateDictLayout = 'torch' | 'native';

/**
 * A forward hook: called after every {@link Module.apply} with the module, its inputs and its
 * output. Tensors are only valid during the call (they may be disposed by the enclosing tidy).
 */
export type ForwardHook = (module: AnyModule, inputs: readonly unknown[], output: unknown) => void;

/** What {@link Module.loadStateDict} did. */
export interface LoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  mismatched: string[];
}

export interface ParamOptions {
  /** Torch layout of the parameter (default `plain`). */
  layout?: TorchLayout;
  /** Whether optimizers update it (default true). */
  trainable?: boolean;
}

export interface BufferOptions {
  layout?: TorchLayout;
  /** Whether it appears in the state dict (default true), like torch's `persistent`. */
  persistent?: boolean;
  /** Torch dtype it is exported as when it differs from ours (e.g. `int64` for `num_batches_tracked`). */
  torchDtype?: 'int64';
}

interface ParamEntry {
  variable: tf.Variable;
  layout: TorchLayout;
}
interface BufferEntry {
  tensor: tf.Tensor;
  layout: TorchLayout;
  persistent: boolean;
  torchDtype?: 'int64';
}

let variableCounter = 0;

/** Any module, whatever its forward signature (for containers, hooks and walkers). */
// biome-ignore lint/suspicious/noExplicitAny: a module of any signature
export type AnyModule = Module<any, any>;

/**
 * The base of every layer and network: it owns parameters (`tf.Variable`), buffers and child
 * modules under PyTorch-compatible names, so that `stateDict()` keys equal the reference's.
 *
 * Subclasses register state in their constructor with {@link param}, {@link buffer} and
 * {@link child}, and implement {@link forward}. Callers use {@link apply}, which runs the forward
 * pass inside `tf.tidy` and then the forward hooks.
 */
export abstract class Module<In extends unknown[] = [tf.Tensor], Out = tf.Tensor> {
  /** Training mode (true after construction, as in torch). */
  training = true;
  private readonly _params = new Map<string, ParamEntry>();
  private readonly _buffers = new Map<string, BufferEntry>();
  private readonly _children = new Map<string, AnyModule>();
  private readonly _hooks: ForwardHook[] = [];
  private _parent: AnyModule | null = null;
  private _localName = '';
  private _disposed = false;

  /** The class name shown in errors. */
  get typeName(): string {
    return this.constructor.name;
  }

  /** Dotted path of this module from its root (`''` for the root). */
  get path(): string {
    if (!this._parent) return '';
    const p = this._parent.path;
    return p ? `${p}.${this._localName}` : this._localName;
  }

  /** `Type(path)`, for error messages. */
  get label(): string {
    return this.path ? `${this.typeName}(${this.path})` : this.typeName;
  }

  /** Registers a trainable parameter. Takes ownership of `init`. */
  protected param(name: string, init: tf.Tensor, opts: ParamOptions = {}): tf.Variable {
    this.assertFreeName(name);
    const variable = tf.variable(
      init,
      opts.trainable ?? true,
      `${this.typeName}.${name}_${variableCounter++}`,
    );
    if (variable !== (init as unknown)) init.dispose();
    this._params.set(name, { variable, layout: opts.layout ?? 'plain' });
    return variable;
  }

  /** Registers a buffer (state that is saved but not trained). Takes ownership of `value`. */
  protected buffer(name: string, value: tf.Tensor, opts: BufferOptions = {}): tf.Tensor {
    this.assertFreeName(name);
    const tensor = tf.keep(value);
    this._buffers.set(name, {
      tensor,
      layout: opts.layout ?? 'plain',
      persistent: opts.persistent ?? true,
      ...(opts.torchDtype ? { torchDtype: opts.torchDtype } : {}),
    });
    return tensor;
  }

  /** Replaces a buffer's value (disposing the old one). */
  protected setBuffer(name: string, value: tf.Tensor): tf.Tensor {
    const b = this._buffers.get(name);
    if (!b) throw new ConfigError(`${this.label}: no buffer named '${name}'`);
    if (b.tensor !== value) b.tensor.dispose();
    b.tensor = tf.keep(value);
    return b.tensor;
  }

  /** The current value of a buffer. */
  protected getBuffer(name: string): tf.Tensor {
    const b = this._buffers.get(name);
    if (!b) throw new ConfigError(`${this.label}: no buffer named '${name}'`);
    return b.tensor;
  }

  /** Registers a child module under `name` (a state-dict key segment, e.g. `'0'` or `'q_conv'`). */
  protected child<M extends AnyModule>(name: string, m: M): M {
    this.assertFreeName(name);
    this._children.set(name, m);
    if (!m._parent) {
      m._parent = this;
      m._localName = name;
    }
    return m;
  }

  private assertFreeName(name: string): void {
    if (!name || name.includes('.')) {
      throw new ConfigError(`${this.label}: invalid state name '${name}' (must be non-empty, without '.')`);
    }
    if (this._params.has(name) || this._buffers.has(name) || this._children.has(name)) {
      throw new ConfigError(`${this.label}: '${name}' is already registered`);
    }
  }

  /** The forward computation. Call {@link apply} instead, which adds tidy and hooks. */
  abstract forward(...inputs: In): Out;

  /** Runs {@link forward} inside `tf.tidy`, then the forward hooks. */
  apply(...inputs: In): Out {
    this.assertAlive();
    return tf.tidy(() => {
      const out = this.forward(...inputs);
      for (const h of this._hooks) h(this, inputs, out);
      return out as unknown as tf.TensorContainer;
    }) as unknown as Out;
  }

  /** Whether any forward hook is attached (fused fast paths skip their children's `apply` only when none is). */
  get hasForwardHooks(): boolean {
    return this._hooks.length > 0;
  }

  /** Adds a forward hook; returns the function that removes it. */
  onForward(hook: ForwardHook): () => void {
    this._hooks.push(hook);
    return () => {
      const i = this._hooks.indexOf(hook);
      if (i >= 0) this._hooks.splice(i, 1);
    };
  }

  /** Direct children, by name. */
  namedChildren(): Map<string, AnyModule> {
    return new Map(this._children);
  }

  /** This module and all descendants, by dotted path (`''` for this one). Shared modules appear once. */
  namedModules(prefix = ''): Map<string, AnyModule> {
    const out = new Map<string, AnyModule>();
    const seen = new Set<AnyModule>();
    const walk = (m: AnyModule, p: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.set(p, m);
      for (const [n, c] of m._children) walk(c, p ? `${p}.${n}` : n);
    };
    walk(this, prefix);
    return out;
  }

  /** All parameters, by dotted path. Shared parameters appear once. */
  namedParameters(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [p, m] of this.namedModules()) {
      for (const [n, e] of m._params) out.set(p ? `${p}.${n}` : n, e.variable);
    }
    return out;
  }

  /** Trainable parameters, by dotted path. */
  trainableParameters(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters()].filter(([, v]) => v.trainable));
  }

  /** All buffers (persistent or not), by dotted path. */
  namedBuffers(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [p, m] of this.namedModules()) {
      for (const [n, e] of m._buffers) out.set(p ? `${p}.${n}` : n, e.tensor);
    }
    return out;
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    let n = 0;
    for (const v of this.namedParameters().values()) n += v.size;
    return n;
  }

  private stateEntries(): Map<
    string,
    {
      tensor: tf.Tensor;
      layout: TorchLayout;
      owner: AnyModule;
      name: string;
      kind: 'param' | 'buffer';
      torchDtype?: 'int64';
    }
  > {
    const out = new Map();
    for (const [p, m] of this.namedModules()) {
      for (const [n, e] of m._params) {
        out.set(p ? `${p}.${n}` : n, {
          tensor: e.variable,
          layout: e.layout,
          owner: m,
          name: n,
          kind: 'param',
        });
      }
      for (const [n, e] of m._buffers) {
        if (!e.persistent) continue;
        out.set(p ? `${p}.${n}` : n, {
          tensor: e.tensor,
          layout: e.layout,
          owner: m,
          name: n,
          kind: 'buffer',
          torchDtype: e.torchDtype,
        });
      }
    }
    return out;
  }

  /** The torch layout of every state-dict entry, by key. */
  stateLayouts(): Map<string, TorchLayout> {
    return new Map([...this.stateEntries()].map(([k, e]) => [k, e.layout]));
  }

  /** Keys whose PyTorch dtype differs from ours (`int64` buffers such as `num_batches_tracked`). */
  stateTorchDtypes(): Map<string, 'int64'> {
    const out = new Map<string, 'int64'>();
    for (const [k, e] of this.stateEntries()) if (e.torchDtype) out.set(k, e.torchDtype);
    return out;
  }

  /** The shape of every state-dict entry, by key, in the given layout (default torch). */
  stateShapes(opts: { layout?: StateDictLayout } = {}): Map<string, number[]> {
    const layout = opts.layout ?? 'torch';
    return new Map(
      [...this.stateEntries()].map(([k, e]) => [
        k,
        layout === 'torch' ? torchShapeOf(e.tensor.shape, e.layout) : [...e.tensor.shape],
      ]),
    );
  }

  /**
   * Parameters and persistent buffers by dotted key. Every tensor is new and owned by the caller
   * (`native` clones share memory with the weights until either is written).
   * With `{ layout: 'torch' }` the tensors are in PyTorch's layouts (OIHW, `[O, I]`, …).
   */
  stateDict(opts: { layout?: StateDictLayout } = {}): StateDict {
    const layout = opts.layout ?? 'native';
    const out: StateDict = new Map();
    for (const [k, e] of this.stateEntries()) {
      out.set(k, layout === 'torch' ? toTorchLayout(e.tensor, e.layout) : tf.clone(e.tensor));
    }
    return out;
  }

  /**
   * Loads a state dict (a `Map` or a plain object). Tensors are copied; the caller keeps ownership
   * of `dict`. `layout` says which layout `dict` is in (default `torch`, as official checkpoints are).
   *
   * With `strict` (the default), any missing key, unexpected key or shape mismatch throws one
   * {@link CheckpointError} listing all of them, and nothing is changed. Without it, mismatched
   * shapes still throw, and missing/unexpected keys are returned in the report.
   */
  loadStateDict(
    dict: Map<string, tf.Tensor> | Record<string, tf.Tensor>,
    opts: { strict?: boolean; layout?: StateDictLayout; source?: string } = {},
  ): LoadReport {
    this.assertAlive();
    const strict = opts.strict ?? true;
    const layout = opts.layout ?? 'torch';
    const source = opts.source ? ` from ${opts.source}` : '';
    const input = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const entries = this.stateEntries();
    const missing = [...entries.keys()].filter((k) => !input.has(k));
    const unexpected = [...input.keys()].filter((k) => !entries.has(k));
    const mismatched: string[] = [];
    for (const [k, e] of entries) {
      const t = input.get(k);
      if (!t) continue;
      const expected = layout === 'torch' ? torchShapeOf(e.tensor.shape, e.layout) : [...e.tensor.shape];
      if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
        mismatched.push(`${k}: expected ${formatShape(expected)}, got ${formatShape(t.shape)}`);
      }
    }
    if (mismatched.length > 0 || (strict && (missing.length > 0 || unexpected.length > 0))) {
      const parts: string[] = [];
      if (missing.length) parts.push(`${missing.length} missing key(s): ${preview(missing)}`);
      if (unexpected.length) parts.push(`${unexpected.length} unexpected key(s): ${preview(unexpected)}`);
      if (mismatched.length) parts.push(`${mismatched.length} shape mismatch(es): ${preview(mismatched)}`);
      throw new CheckpointError(`${this.typeName}: cannot load state dict${source}: ${parts.join('; ')}`, {
        missing,
        unexpected,
        mismatched,
      });
    }
    const loaded: string[] = [];
    for (const [k, e] of entries) {
      const t = input.get(k);
      if (!t) continue;
      const value = tf.tidy(() => {
        const native = layout === 'torch' ? fromTorchLayout(t, e.layout, e.tensor.shape, k) : t;
        return native.dtype === e.tensor.dtype ? tf.clone(native) : tf.cast(native, e.tensor.dtype);
      });
      if (e.kind === 'param') {
        (e.tensor as tf.Variable).assign(value);
        value.dispose();
      } else {
        e.owner.setBuffer(e.name, value);
      }
      loaded.push(k);
    }
    this.onStateLoaded();
    return { loaded, missing, unexpected, mismatched };
  }

  /** Called after {@link loadStateDict}; modules with derived caches (folded BN) refresh them here. */
  protected onStateLoaded(): void {
    for (const c of this._children.values()) c.onStateLoaded();
  }

  /** Sets training mode on this module and all descendants. */
  train(mode = true): this {
    for (const m of this.namedModules().values()) {
      const changed = m.training !== mode;
      m.training = mode;
      if (changed) m.onModeChange();
    }
    return this;
  }

  /** Sets evaluation mode (`train(false)`). */
  eval(): this {
    return this.train(false);
  }

  /** Called when training mode changes. */
  protected onModeChange(): void {}

  /** Disposes every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const m of this.namedModules().values()) {
      if (m._disposed) continue;
      m._disposed = true;
      for (const e of m._params.values()) e.variable.dispose();
      for (const e of m._buffers.values()) e.tensor.dispose();
      m._params.clear();
      m._buffers.clear();
      m.onDispose();
    }
  }

  /** Called once when the module is disposed; release extra owned tensors here. */
  protected onDispose(): void {}

  /** Whether {@link dispose} has been called. */
  get isDisposed(): boolean {
    return this._disposed;
  }

  protected assertAlive(): void {
    if (this._disposed) throw new ConfigError(`${this.label}: the module has been disposed`);
  }
}

function preview(items: string[], n = 8): string {
  return items.length <= n
    ? items.join(', ')
    : `${items.slice(0, n).join(', ')}, … (+${items.length - n} more)`;
}
