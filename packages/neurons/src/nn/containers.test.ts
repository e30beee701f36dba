import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, readFixtureJson } from '../../../../test-support/helpers';
import { ConfigError } from '../core/errors';
import { Module } from '../core/module';
import { BatchNorm1d, BatchNorm2d, FrozenBatchNorm1d, FrozenBatchNorm2d } from './batchnorm';
import { Identity, ModuleList, Sequential } from './containers';
import { Conv1d, Conv2d } from './conv';
import { Linear } from './linear';

const wasm = tf.getBackend() === 'wasm';

/** The reference's `make_conv_layer`: Sequential(Conv2d(bias=False), norm). */
const convLayer = (
  i: number,
  o: number,
  norm: 'frozen' | 'bn',
  opts: { kernelSize?: number; padding?: number; groups?: number } = {},
) =>
  new Sequential(
    new Conv2d({
      inChannels: i,
      outChannels: o,
      kernelSize: opts.kernelSize ?? 1,
      padding: opts.padding ?? 0,
      groups: opts.groups ?? 1,
      bias: false,
    }),
    norm === 'frozen' ? new FrozenBatchNorm2d(o) : new BatchNorm2d(o),
  );

class Attn extends Module {
  readonly q_conv = this.child('q_conv', convLayer(8, 8, 'frozen'));
  forward(x: tf.Tensor): tf.Tensor {
    return this.q_conv.apply(x);
  }
}
class Block extends Module {
  readonly attn = this.child('attn', new Attn());
  forward(x: tf.Tensor): tf.Tensor {
    return this.attn.apply(x);
  }
}
class Encoder extends Module {
  readonly block3 = this.child('block3', new ModuleList([new Block(), new Block()]));
  forward(x: tf.Tensor): tf.Tensor {
    let y = x;
    for (const b of this.block3) y = b.apply(y);
    return y;
  }
}

describe('Sequential / ModuleList / Identity', () => {
  it("names children '0', '1', … so that torch keys come out naturally", () => {
    const enc = new Encoder();
    const keys = [...enc.stateDict().keys()];
    expect(keys).toContain('block3.0.attn.q_conv.0.weight');
    expect(keys).toContain('block3.1.attn.q_conv.1.running_var');
    expect(enc.block3.at(1).attn.q_conv.at(0).label).toBe('Conv2d(block3.1.attn.q_conv.0)');
    expect(enc.block3.length).toBe(2);
    expect(() => enc.block3.at(2)).toThrow(/no module at index 2/);
    expect(() => (enc.block3 as unknown as Module<[], never>).apply()).toThrow(ConfigError);
    enc.dispose();
  });

  it('chains its children and runs their hooks', async () => {
    const seq = new Sequential(new Linear({ inFeatures: 3, outFeatures: 4, seed: 1 }), new Identity());
    seq.append(new Linear({ inFeatures: 4, outFeatures: 2, seed: 2 }));
    const calls: string[] = [];
    for (const m of seq) m.onForward((mod) => calls.push(mod.path));
    const x = tf.tensor2d([1, 2, 3], [1, 3]);
    const y = seq.apply(x);
    const l0 = seq.at(0) as Linear;
    const l2 = seq.at(-1) as Linear;
    const ref = tf.tidy(() =>
      tf.add(tf.matMul(tf.add(tf.matMul(x, l0.weight), l0.bias!), l2.weight), l2.bias!),
    );
    expectClose(await y.data(), await ref.data(), 1e-6, 'chain');
    expect(calls).toEqual(['0', '1', '2']);
    const id = new Identity();
    expect(id.apply(x)).toBe(x);
    await expectNoLeak(() => seq.apply(x));
    tf.dispose([x, y, ref]);
    seq.dispose();
  });

  it('gradients flow to every trainable parameter of a conv/BN/linear stack', async () => {
    // wasm has no Conv2DBackpropFilter yet (another issue adds it): use the Conv1d-k1/Linear path there.
    const seq = wasm
      ? new Sequential(
          new Conv1d({ inChannels: 3, outChannels: 4, kernelSize: 1, seed: 1 }),
          new BatchNorm1d(4),
          new Linear({ inFeatures: 4, outFeatures: 2, seed: 2 }),
        )
      : new Sequential(
          new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, seed: 1 }),
          new BatchNorm2d(4),
          new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, padding: 1, groups: 4, seed: 2 }),
          new Conv2d({ inChannels: 4, outChannels: 2, kernelSize: 1, seed: 3 }),
        );
    const x = tf.randomNormal(wasm ? [2, 5, 3] : [2, 4, 4, 3], 0, 1, 'float32', 7);
    const params = [...seq.trainableParameters().values()];
    expect(params.length).toBe(wasm ? 6 : 8);
    const loss = () => tf.sum(tf.square(seq.apply(x))) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, params);
    for (const p of params) {
      const g = grads[p.name]!;
      expect(g.shape).toEqual(p.shape);
      const norm = (await tf.sum(tf.abs(g)).data())[0]!;
      expect(norm, p.name).toBeGreaterThan(0);
    }
    tf.dispose([value, ...Object.values(grads)]);
    await expectNoLeak(() => tf.variableGrads(loss, params));
    x.dispose();
    seq.dispose();
  });
});

describe('reference key shapes (configs/tiny_256_t3.json)', () => {
  const cfg = readFixtureJson<{ keys: Record<string, { shape: number[]; dtype: string }> }>(
    'configs/tiny_256_t3.json',
  );
  const expectKeys = (prefix: string, m: Module<[tf.Tensor], tf.Tensor>) => {
    const ref = Object.entries(cfg.keys)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v.shape]);
    expect(ref.length).toBeGreaterThan(0);
    const ours = [...m.stateShapes()].map(([k, s]) => [k, s]);
    expect(new Map(ours as [string, number[]][])).toEqual(new Map(ref as [string, number[]][]));
    const int64 = Object.entries(cfg.keys)
      .filter(([k, v]) => k.startsWith(prefix) && v.dtype === 'int64')
      .map(([k]) => k.slice(prefix.length));
    const intBuffers = [...m.namedBuffers()].filter(([, t]) => t.dtype === 'int32').map(([k]) => k);
    expect(intBuffers.sort()).toEqual(int64.sort());
    m.dispose();
  };

  it('stem downsample: Conv2d 3→12 k7 s2 p3 with bias + FrozenBatchNorm2d', () => {
    class Down extends Module {
      readonly encode_conv = this.child(
        'encode_conv',
        new Conv2d({ inChannels: 3, outChannels: 12, kernelSize: 7, stride: 2, padding: 3 }),
      );
      readonly encode_bn = this.child('encode_bn', new FrozenBatchNorm2d(12));
      forward(x: tf.Tensor) {
        return this.encode_bn.apply(this.encode_conv.apply(x));
      }
    }
    expectKeys('encoder.downsample1_1.', new Down());
  });

  it('sep-conv depthwise: Sequential(Conv2d dw 7×7, FrozenBatchNorm2d)', () => {
    expectKeys(
      'encoder.ConvBlock1_1.0.Conv.dwconv.',
      convLayer(24, 24, 'frozen', { kernelSize: 7, padding: 3, groups: 24 }),
    );
  });

  it('retriever q_conv and depthwise responder: Sequential(Conv2d, BatchNorm2d) with num_batches_tracked', () => {
    expectKeys('encoder.mrm.0.retriever.q_conv.', convLayer(24, 24, 'bn'));
    expectKeys(
      'encoder.mrm.0.retriever.seg_responder_dw.1.',
      convLayer(96, 96, 'bn', { kernelSize: 3, padding: 1, groups: 96 }),
    );
  });

  it('MLP: Conv1d k1 + FrozenBatchNorm1d / BatchNorm1d', () => {
    class Mlp extends Module {
      readonly fc1_conv: Conv1d;
      readonly fc1_bn: Module;
      constructor(frozen: boolean) {
        super();
        this.fc1_conv = this.child(
          'fc1_conv',
          new Conv1d({ inChannels: 96, outChannels: 384, kernelSize: 1 }),
        );
        this.fc1_bn = this.child('fc1_bn', frozen ? new FrozenBatchNorm1d(384) : new BatchNorm1d(384));
      }
      forward(x: tf.Tensor) {
        return this.fc1_bn.apply(this.fc1_conv.apply(x));
      }
    }
    const frozen = new Mlp(true);
    const ref = Object.keys(cfg.keys).filter((k) => k.startsWith('encoder.block3.0.mlp.fc1_'));
    expect([...frozen.stateShapes().keys()].map((k) => `encoder.block3.0.mlp.${k}`).sort()).toEqual(
      ref.filter((k) => !k.includes('spike')).sort(),
    );
    frozen.dispose();
    const bn = new Mlp(false);
    const refBn = Object.keys(cfg.keys).filter(
      (k) => k.startsWith('encoder.mrm.0.mlp.fc1_') && !k.includes('spike'),
    );
    expect([...bn.stateShapes().keys()].map((k) => `encoder.mrm.0.mlp.${k}`).sort()).toEqual(refBn.sort());
    bn.dispose();
  });
});
