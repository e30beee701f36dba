import type { Tensor } from '@tensorflow/tfjs-core';

/** The kinds of synaptic operation that modules and functional products report. */
export type OpKind = 'conv2d' | 'depthwiseConv2d' | 'conv1d' | 'linear' | 'matmul';

/**
 * One synaptic operation, as reported by a conv/linear module or a functional product.
 *
 * `input` is the activation that drives the synapses (NHWC for convs, `[..., in]` for linear,
 * the left operand for matmul). It is only valid during {@link OpRecorder.record}: a recorder that
 * needs it later must `tf.keep(tf.clone(input))` it (and dispose it itself).
 */
export interface OpRecord {
  kind: OpKind;
  /** Dotted module path of the reporter (`block3.0.attn.q_conv.0`), or a function label. */
  path: string;
  input: Tensor;
  /**
   * Weight shape in our native layout: conv2d `[kh, kw, in/groups, out]`, depthwise
   * `[kh, kw, in, multiplier]`, conv1d `[k, in, out]`, linear `[in, out]`. For `matmul` it is the
   * shape of the right operand (`other`).
   */
  weightShape: number[];
  /** Output shape of the operation. */
  outputShape: number[];
  stride: [number, number];
  /** Explicit zero padding `[[top, bottom], [left, right]]` applied to the input. */
  padding: [[number, number], [number, number]];
  dilation: [number, number];
  groups: number;
  /** The right operand of a `matmul` (both operands may be spikes in spike-driven attention). */
  other?: Tensor;
  /** Whether each operand is transposed (`matmul` only), as in `tf.matMul`. */
  transposeA?: boolean;
  transposeB?: boolean;
}

/** Receives operation records while it is active. See {@link withOpRecorder}. */
export interface OpRecorder {
  record(op: OpRecord): void;
}

const active: OpRecorder[] = [];

/** Runs `fn` with `recorder` receiving every synaptic operation; nests. */
export function withOpRecorder<R>(recorder: OpRecorder, fn: () => R): R {
  active.push(recorder);
  try {
    return fn();
  } finally {
    const i = active.lastIndexOf(recorder);
    if (i >= 0) active.splice(i, 1);
  }
}

/** Starts recording into `recorder` until the returned function is called. */
export function startOpRecorder(recorder: OpRecorder): () => void {
  active.push(recorder);
  return () => {
    const i = active.lastIndexOf(recorder);
    if (i >= 0) active.splice(i, 1);
  };
}

/** True while at least one recorder is active; callers can skip building records otherwise. */
export function isRecordingOps(): boolean {
  return active.length > 0;
}

/**
 * Reports an operation to every active recorder. A no-op when none is active. Modules and
 * functional products call this; `@spiketrack/energy` only reads what it receives.
 */
export function recordOp(op: OpRecord): void {
  for (const r of active) r.record(op);
}
