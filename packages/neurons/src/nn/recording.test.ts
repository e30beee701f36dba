import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../../test-support/helpers';
import { ShapeError } from '../core/errors';
import { Module } from '../core/module';
import { isRecordingOps, type OpRecord, withOpRecorder } from '../core/op-recorder';
import { Sequential } from './containers';
import { Conv1d, Conv2d, conv2dNhwc } from './conv';
import { Linear } from './linear';
import { recordedMatMul } from './products';

/** What a record says, with the tensors replaced by their shapes (records only live during the call). */
interface Seen extends Omit<OpRecord, 'input' | 'other'> {
  inputShape: number[];
  otherShape?: number[];
  inputSum: tf.Tensor;
}

function collector(): { seen: Seen[]; record: (op: OpRecord) => void } {
  const seen: Seen[] = [];
  return {
    seen,
    record(op) {
      const { input, other, ...rest } = op;
      seen.push({
        ...rest,
        inputShape: [...input.shape],
        ...(other ? { otherShape: [...other.shape] } : {}),
        // the input tensor is alive during the call: keep a reduction of it for later checks
        inputSum: tf.keep(tf.sum(input)),
      });
    },
  };
}

class Net extends Module {
  readonly stem = this.child(
    'stem',
    new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, seed: 1 }),
      new Conv2d({
        inChannels: 4,
        outChannels: 8,
        kernelSize: 3,
        padding: 'same',
        groups: 4,
        dilation: 2,
        seed: 2,
      }),
    ),
  );
  readonly mlp = this.child('mlp', new Conv1d({ inChannels: 8, outChannels: 6, kernelSize: 1, seed: 3 }));
  readonly head = this.child('head', new Linear({ inFeatures: 6, outFeatures: 2, seed: 4 }));
  forward(x: tf.Tensor): tf.Tensor {
    const f = this.stem.apply(x);
    const [n, h, w, c] = f.shape as [number, number, number, number];
    const t = this.mlp.apply(tf.reshape(f, [n, h * w, c]));
    return this.head.apply(t);
  }
}

describe('operation recording', () => {
  it('conv, depthwise conv, conv1d and linear report what they computed', async () => {
    const net = new Net();
    const x = tf.randomUniform([2, 6, 6, 3], 0, 1, 'float32', 3);
    const { seen, record } = collector();
    const y = withOpRecorder({ record }, () => net.apply(x));
    expect(y.shape).toEqual([2, 9, 2]);
    expect(seen.map((s) => [s.kind, s.path])).toEqual([
      ['conv2d', 'stem.0'],
      ['depthwiseConv2d', 'stem.1'],
      ['conv1d', 'mlp'],
      ['linear', 'head'],
    ]);
    const [c0, dw, c1, lin] = seen as [Seen, Seen, Seen, Seen];
    expect(c0).toMatchObject({
      inputShape: [2, 6, 6, 3],
      weightShape: [3, 3, 3, 4],
      outputShape: [2, 3, 3, 4],
      stride: [2, 2],
      padding: [
        [1, 1],
        [1, 1],
      ],
      dilation: [1, 1],
      groups: 1,
    });
    expect(dw).toMatchObject({
      inputShape: [2, 3, 3, 4],
      weightShape: [3, 3, 4, 2],
      outputShape: [2, 3, 3, 8],
      stride: [1, 1],
      padding: [
        [2, 2],
        [2, 2],
      ],
      dilation: [2, 2],
      groups: 4,
    });
    expect(c1).toMatchObject({
      inputShape: [2, 9, 8],
      weightShape: [1, 8, 6],
      outputShape: [2, 9, 6],
      stride: [1, 1],
      groups: 1,
    });
    expect(lin).toMatchObject({ inputShape: [2, 9, 6], weightShape: [6, 2], outputShape: [2, 9, 2] });
    // the recorded input is the tensor actually fed to the layer
    const sx = tf.sum(x);
    expectClose(await seen[0]!.inputSum.data(), await sx.data(), 1e-3, 'input of stem.0');
    tf.dispose([sx, ...seen.map((s) => s.inputSum)]);
    tf.dispose([x, y]);
    net.dispose();
  });

  it('records nothing without a recorder, and does not leak with one', async () => {
    const net = new Net();
    const x = tf.ones([1, 4, 4, 3]);
    expect(isRecordingOps()).toBe(false);
    let n = 0;
    await expectNoLeak(() => withOpRecorder({ record: () => n++ }, () => net.apply(x)));
    expect(n).toBe(4 * 4);
    await expectNoLeak(() => net.apply(x));
    expect(n).toBe(16);
    x.dispose();
    net.dispose();
  });

  it('conv2dNhwc records under recordAs', () => {
    const x = tf.ones([1, 4, 4, 2]);
    const w = tf.ones([3, 3, 2, 3]);
    const seen: OpRecord['kind'][] = [];
    const paths: string[] = [];
    withOpRecorder(
      {
        record: (op) => {
          seen.push(op.kind);
          paths.push(op.path);
        },
      },
      () => {
        tf.dispose([
          conv2dNhwc(x, w, { padding: 1, recordAs: 'fused.q_conv' }),
          conv2dNhwc(x, w, { padding: 1 }),
        ]);
      },
    );
    expect(seen).toEqual(['conv2d']);
    expect(paths).toEqual(['fused.q_conv']);
    tf.dispose([x, w]);
  });
});

describe('recordedMatMul', () => {
  it('computes tf.matMul and reports both operands', async () => {
    const k = tf.tensor4d(
      Array.from({ length: 2 * 3 * 4 * 2 }, (_, i) => (i % 5) / 4),
      [2, 3, 4, 2],
    );
    const v = tf.tensor4d(
      Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => (i % 3) / 4),
      [2, 3, 4, 5],
    );
    const records: { kind: string; path: string; a: number[]; b: number[]; out: number[]; ta?: boolean }[] =
      [];
    const kv = withOpRecorder(
      {
        record: (op) =>
          records.push({
            kind: op.kind,
            path: op.path,
            a: [...op.input.shape],
            b: [...op.other!.shape],
            out: op.outputShape,
            ta: op.transposeA,
          }),
      },
      () => recordedMatMul(k, v, { transposeA: true, label: 'block3.0.attn.kv' }),
    );
    expect(kv.shape).toEqual([2, 3, 2, 5]);
    const ref = tf.matMul(k, v, true, false);
    expect(Array.from(await kv.data())).toEqual(Array.from(await ref.data()));
    expect(records).toEqual([
      {
        kind: 'matmul',
        path: 'block3.0.attn.kv',
        a: [2, 3, 4, 2],
        b: [2, 3, 4, 5],
        out: [2, 3, 2, 5],
        ta: true,
      },
    ]);
    expect(() => recordedMatMul(k, v, { label: 'attn.qkv' })).toThrow(ShapeError);
    expect(() => recordedMatMul(k, v, { label: 'attn.qkv' })).toThrow(/attn\.qkv: inner dimensions differ/);
    await expectNoLeak(() => recordedMatMul(k, v, { transposeA: true }));
    const g = tf.grad((kk: tf.Tensor) => tf.sum(recordedMatMul(kk, v, { transposeA: true })))(k);
    expect(g.shape).toEqual(k.shape);
    tf.dispose([k, v, kv, ref, g]);
  });
});
