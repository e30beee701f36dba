import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../../test-support/helpers';
import { CheckpointError, ConfigError } from './errors';
import { Module } from './module';

class Affine extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(inF: number, outF: number) {
    super();
    this.weight = this.param('weight', tf.randomNormal([inF, outF]), { layout: 'linear' });
    this.bias = this.param('bias', tf.zeros([outF]));
    this.buffer('num_batches_tracked', tf.scalar(0, 'int32'), { torchDtype: 'int64' });
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.add(tf.matMul(x as tf.Tensor2D, this.weight as tf.Tensor2D), this.bias);
  }
}

class Net extends Module {
  readonly fc: Affine;
  readonly blocks: Affine[];
  constructor() {
    super();
    this.fc = this.child('fc', new Affine(3, 4));
    const seq = this.child('blocks', new Seq());
    this.blocks = [seq.add(new Affine(4, 4)), seq.add(new Affine(4, 2))];
  }
  forward(x: tf.Tensor): tf.Tensor {
    let y = this.fc.apply(x);
    for (const b of this.blocks) y = b.apply(y);
    return y;
  }
}

class Seq extends Module {
  private n = 0;
  add<M extends Module>(m: M): M {
    return this.child(String(this.n++), m);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

describe('Module', () => {
  it('names parameters, buffers and children with dotted PyTorch keys', () => {
    const net = new Net();
    expect([...net.namedParameters().keys()]).toEqual([
      'fc.weight',
      'fc.bias',
      'blocks.0.weight',
      'blocks.0.bias',
      'blocks.1.weight',
      'blocks.1.bias',
    ]);
    expect([...net.stateDict().keys()]).toContain('blocks.1.num_batches_tracked');
    expect(net.blocks[1]!.path).toBe('blocks.1');
    expect(net.blocks[1]!.label).toBe('Affine(blocks.1)');
    expect(net.stateShapes().get('blocks.1.weight')).toEqual([2, 4]);
    expect(net.stateShapes({ layout: 'native' }).get('blocks.1.weight')).toEqual([4, 2]);
    tf.dispose([...net.stateDict().values()]);
    net.dispose();
  });

  it('round-trips a state dict in torch layout, transposing linear weights', async () => {
    const a = new Net();
    const b = new Net();
    const sd = a.stateDict({ layout: 'torch' });
    expect(sd.get('fc.weight')!.shape).toEqual([4, 3]);
    const report = b.loadStateDict(sd);
    expect(report.loaded.length).toBe(9);
    const x = tf.randomNormal([2, 3]);
    const ya = a.apply(x);
    const yb = b.apply(x);
    expect(Array.from(await yb.data())).toEqual(Array.from(await ya.data()));
    tf.dispose([x, ya, yb, ...sd.values()]);
    a.dispose();
    b.dispose();
  });

  it('reports every missing, unexpected and mismatched key in one CheckpointError', () => {
    const net = new Net();
    const sd = net.stateDict({ layout: 'torch' });
    sd.get('fc.bias')!.dispose();
    sd.delete('fc.bias');
    sd.get('blocks.0.weight')!.dispose();
    sd.set('blocks.0.weight', tf.zeros([3, 3]));
    sd.set('extra.weight', tf.zeros([1]));
    let err: unknown;
    try {
      net.loadStateDict(sd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    const ce = err as CheckpointError;
    expect(ce.missing).toEqual(['fc.bias']);
    expect(ce.unexpected).toEqual(['extra.weight']);
    expect(ce.mismatched).toEqual(['blocks.0.weight: expected [4, 4], got [3, 3]']);
    expect(ce.message).toMatch(/1 missing key.*fc\.bias.*1 unexpected.*extra\.weight.*1 shape mismatch/);
    // non-strict: missing/unexpected are reported, mismatches still throw
    sd.get('blocks.0.weight')!.dispose();
    sd.set('blocks.0.weight', tf.zeros([4, 4]));
    const report = net.loadStateDict(sd, { strict: false });
    expect(report.missing).toEqual(['fc.bias']);
    expect(report.unexpected).toEqual(['extra.weight']);
    tf.dispose([...sd.values()]);
    net.dispose();
  });

  it('runs forward hooks with inputs and output, and removes them', () => {
    const net = new Net();
    const seen: string[] = [];
    const off = net.blocks[0]!.onForward((m, inputs, out) => {
      seen.push(`${m.path}:${(inputs[0] as tf.Tensor).shape}->${(out as tf.Tensor).shape}`);
    });
    const x = tf.ones([5, 3]);
    net.apply(x).dispose();
    off();
    net.apply(x).dispose();
    expect(seen).toEqual(['blocks.0:5,4->5,4']);
    x.dispose();
    net.dispose();
  });

  it('switches train/eval recursively', () => {
    const net = new Net();
    expect(net.blocks[1]!.training).toBe(true);
    net.eval();
    expect(net.blocks[1]!.training).toBe(false);
    net.train();
    expect(net.fc.training).toBe(true);
    net.dispose();
  });

  it('rejects duplicate and dotted names with a ConfigError', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.param('w', tf.zeros([1]));
        this.param(name, tf.zeros([1]));
      }
      forward(x: tf.Tensor) {
        return x;
      }
    }
    expect(() => new Bad('w')).toThrow(ConfigError);
    expect(() => new Bad('a.b')).toThrow(/invalid state name 'a\.b'/);
  });

  it('does not leak tensors across forward, backward and state-dict round trips', async () => {
    const net = new Net();
    const x = tf.randomNormal([2, 3]);
    await expectNoLeak(() => net.apply(x));
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(net.apply(x)) as tf.Scalar);
      tf.dispose([value, ...Object.values(grads)]);
    });
    await expectNoLeak(() => {
      const sd = net.stateDict({ layout: 'torch' });
      net.loadStateDict(sd);
      tf.dispose([...sd.values()]);
    });
    x.dispose();
    const before = tf.memory().numTensors;
    net.dispose();
    expect(tf.memory().numTensors).toBe(before - 9);
    expect(() => net.apply(tf.zeros([1, 3]))).toThrow(/disposed/);
  });
});
