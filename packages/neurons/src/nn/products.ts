import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors';
import { isRecordingOps, recordOp } from '../core/op-recorder';
import { formatShape } from '../core/shape';

/** Options of {@link recordedMatMul}. */
export interface RecordedMatMulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** The path the operation is reported under (e.g. `block3.0.attn.kv`); default `matmul`. */
  label?: string;
}

/**
 * `tf.matMul(a, b, transposeA, transposeB)` (batched over leading axes) that reports a `matmul`
 * operation with both operands (`input` = a, `other` = b) when an op recorder is active, so that
 * the synaptic work of spike-driven attention (`kᵀ·v`, `q·(kᵀv)`) is counted. Shape mismatches
 * throw a {@link ShapeError} naming `label`.
 */
export function recordedMatMul(a: tf.Tensor, b: tf.Tensor, opts: RecordedMatMulOptions = {}): tf.Tensor {
  const label = opts.label ?? 'matmul';
  const ta = opts.transposeA ?? false;
  const tb = opts.transposeB ?? false;
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(
      `${label}: matMul needs operands of rank ≥ 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const inner = ta ? a.shape[a.rank - 2]! : a.shape[a.rank - 1]!;
  const innerB = tb ? b.shape[b.rank - 1]! : b.shape[b.rank - 2]!;
  if (inner !== innerB) {
    throw new ShapeError(
      `${label}: inner dimensions differ: a ${formatShape(a.shape)}${ta ? 'ᵀ' : ''} has ${inner}, b ${formatShape(b.shape)}${tb ? 'ᵀ' : ''} has ${innerB}`,
    );
  }
  const y = tf.matMul(a, b, ta, tb);
  if (isRecordingOps()) {
    recordOp({
      kind: 'matmul',
      path: label,
      input: a,
      other: b,
      weightShape: [...b.shape],
      outputShape: [...y.shape],
      stride: [1, 1],
      padding: [
        [0, 0],
        [0, 0],
      ],
      dilation: [1, 1],
      groups: 1,
      transposeA: ta,
      transposeB: tb,
    });
  }
  return y;
}
