import { CheckpointError, ConfigError, refreshExactConstants, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, onWebGPU, readFixtureJson } from '../../../../test-support/helpers';
import { saveCheckpoint } from '../checkpoint/save';
import { inferSpikeTrackConfig, SPIKETRACK_CONFIGS, type SpikeTrackConfigName } from '../config/config';
import { SpikeTrackModel } from './model';
import type { TemplateCache } from './template-cache';

interface ConfigFixture {
  name: string;
  num_keys: number;
  num_params: number;
  keys: Record<string, { shape: number[]; dtype: string }>;
}

const CONFIGS: SpikeTrackConfigName[] = [
  'tiny_256_t3',
  'spiketrack_s256_t1',
  'spiketrack_s256_t3',
  'spiketrack_b256_t1',
  'spiketrack_b256_t3',
  'spiketrack_b384_t1',
  'spiketrack_b384_t3',
];

describe('SpikeTrackModel: structure of every reference configuration', () => {
  for (const name of CONFIGS) {
    // Built with random weights; the forward pass is not run here (the base models are large).
    it(`has exactly the keys, torch shapes and dtypes of configs/${name}.json, and infers its config back`, () => {
      const cfg = readFixtureJson<ConfigFixture>(`configs/${name}.json`);
      const before = tf.memory().numTensors;
      const m = new SpikeTrackModel({ config: name });
      try {
        const shapes = m.stateShapes({ layout: 'torch' });
        expect(shapes.size).toBe(cfg.num_keys);
        expect([...shapes.keys()]).toEqual(Object.keys(cfg.keys));
        for (const [k, v] of Object.entries(cfg.keys)) expect(shapes.get(k), k).toEqual(v.shape);
        const int64 = new Set(m.stateTorchDtypes().keys());
        for (const [k, v] of Object.entries(cfg.keys)) {
          expect(int64.has(k), k).toBe(v.dtype === 'int64');
        }
        // The reference's parameter count (nn.Parameters; BatchNorm statistics are buffers).
        expect(m.numParameters()).toBe(cfg.num_params);
        const inferred = inferSpikeTrackConfig(shapes).config;
        expect(inferred).toEqual({ ...SPIKETRACK_CONFIGS[name] });
      } finally {
        m.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    }, 120_000);
  }
});

describe('SpikeTrackModel: a small random model', () => {
  const small = {
    dims: [8, 8, 16, 16] as const,
    numHeads: 2,
    resolution: 32,
    templates: 2,
    decoderChannel: 16,
  };
  const R = small.resolution;

  it('runs both paths to the same result, checks its inputs, and does not leak', async () => {
    const m = new SpikeTrackModel({ config: small, seed: 3 });
    m.eval();
    expect(m.config.name).toBeNull();
    const t0 = tf.randomNormal([1, R, R, 3], 0, 1, 'float32', 1);
    const t1 = tf.randomNormal([1, R, R, 3], 0, 1, 'float32', 2);
    const s = tf.randomNormal([1, R, R, 3], 0, 1, 'float32', 3);
    const out = m.apply([t0, t1], s);
    expect(out.scoreMap.shape).toEqual([1, 2, 2, 1]);
    expect(out.predBoxes.shape).toEqual([1, 4]);
    const cache = m.encodeTemplates([t0, t1]);
    expect(cache.numTemplates).toBe(2);
    expect(cache.memories).toHaveLength(6);
    const fast = m.trackFrame(s, cache);
    for (const k of ['scoreMap', 'sizeMap', 'offsetMap', 'predBoxes'] as const) {
      expect(Array.from(await fast[k].data()), k).toEqual(Array.from(await out[k].data()));
    }
    // A stacked [T, B, R, R, 3] tensor is the same as the list.
    const stacked = tf.stack([t0, t1]);
    const f1 = m.encode(stacked, s);
    const f2 = m.encodeSearch(s, cache);
    expect(Array.from(await f1.data())).toEqual(Array.from(await f2.data()));
    const times = onWebGPU() ? 1 : 3; // SwiftShader is slow
    await expectNoLeak(() => m.apply([t0, t1], s), times);
    await expectNoLeak(() => m.trackFrame(s, cache), times);
    await expectNoLeak(() => m.encodeTemplates(stacked), times);

    expect(() => m.apply([t0], s)).toThrow(/expected 2 template\(s\)/);
    expect(() => m.apply([t0, t1], tf.zeros([1, R, R, 4]))).toThrow(ShapeError);
    const bad = tf.zeros([R, R, 3]);
    expect(() => m.apply(bad, s)).toThrow(ShapeError);
    expect(() => m.trackFrame(s, {} as TemplateCache)).toThrow(ConfigError);
    const c1 = m.encodeTemplates(tf.stack([t0, t1]));
    c1.dispose();
    expect(c1.isDisposed).toBe(true);
    expect(() => m.trackFrame(s, c1)).toThrow(/disposed/);
    tf.dispose([t0, t1, s, out, fast, stacked, f1, f2, bad]);
    cache.dispose();
    m.dispose();
  });

  // SwiftShader is too slow for this (wasm trains convs with @spiketrack/neurons' kernels).
  it.skipIf(onWebGPU())(
    'passes gradients through both branches to the template side, the MRMs and the head',
    async () => {
      const m = new SpikeTrackModel({ config: small, seed: 11 });
      // Larger weights than torch's init of these tiny layers, so that every neuron fires.
      let i = 0;
      for (const [k, p] of m.namedParameters()) {
        if (k.endsWith('decay')) continue;
        const r = tf.randomUniform(p.shape, -1, 1, 'float32', 100 + i++);
        p.assign(r);
        r.dispose();
      }
      m.eval();
      const z = tf.randomNormal([2, 1, R, R, 3], 0, 2, 'float32', 5);
      const s = tf.randomNormal([1, 1, R, R, 3], 0, 2, 'float32', 6);
      const params = m.trainableParameters();
      const watched = [
        'encoder.downsample1_1.encode_conv.weight',
        'encoder.mrm.5.retriever.k_conv.0.weight',
        'encoder.mrm.5.retriever.q_conv.0.weight',
        'encoder.mrm.0.mlp.fc1_conv.weight',
        'decoder.conv1_size.0.weight',
      ];
      const run = () =>
        tf.variableGrads(
          () => {
            const o = m.apply(z, s);
            return tf.add(tf.sum(o.sizeMap), tf.sum(o.offsetMap)) as tf.Scalar;
          },
          watched.map((k) => params.get(k)!),
        );
      const { value, grads } = run();
      for (const k of watched) {
        const v = params.get(k) as tf.Variable;
        const g = await grads[v.name]!.data();
        expect(g.every(Number.isFinite), k).toBe(true);
        expect(
          g.some((v) => v !== 0),
          `${k} has a zero gradient`,
        ).toBe(true);
      }
      tf.dispose([value, grads]);
      await expectNoLeak(() => run(), 1);
      tf.dispose([z, s]);
      m.dispose();
    },
    120_000,
  );

  it('has deterministic seeded weights and rejects bad configurations', async () => {
    const a = new SpikeTrackModel({ config: small, seed: 7 });
    const b = new SpikeTrackModel({ config: small, seed: 7 });
    for (const k of [
      'encoder.mrm.5.retriever.q_conv.0.weight',
      'decoder.conv1_ctr.0.weight',
      'encoder.block4.1.attn.k_conv.0.weight',
    ]) {
      const wa = await a.namedParameters().get(k)!.data();
      const wb = await b.namedParameters().get(k)!.data();
      expect(Array.from(wa), k).toEqual(Array.from(wb));
    }
    a.dispose();
    b.dispose();
    expect(() => new SpikeTrackModel({ config: 'nope' as SpikeTrackConfigName })).toThrow(ConfigError);
    expect(() => new SpikeTrackModel({ config: { ...small, numHeads: 3 } })).toThrow(ConfigError);
  });

  it("backboneNorm 'batch': the backbone trains with batch statistics, saves and loads back, and in eval mode equals the frozen backbone", async () => {
    const m = new SpikeTrackModel({ config: { ...small, backboneNorm: 'batch' }, seed: 5 });
    const params = m.namedParameters();
    expect(params.has('encoder.downsample1_1.encode_bn.weight')).toBe(true);
    expect(params.has('encoder.block3.0.attn.q_conv.1.bias')).toBe(true);
    const t = tf.randomNormal([2, 2, R, R, 3], 0, 1, 'float32', 11);
    const s = tf.randomNormal([1, 2, R, R, 3], 0, 1, 'float32', 12);
    const key = 'encoder.downsample1_1.encode_bn.running_mean';
    const before = await m.stateDict().get(key)!.data();
    m.train();
    tf.dispose(m.forward(t, s) as unknown as tf.TensorContainer);
    const after = await m.stateDict().get(key)!.data();
    expect(Array.from(after)).not.toEqual(Array.from(before)); // running statistics moved
    m.eval();
    const ref = m.forward(t, s);
    // round trip through a checkpoint: the config comes back from the metadata
    const loaded = await SpikeTrackModel.fromCheckpoint(await saveCheckpoint(m));
    expect(loaded.config.backboneNorm).toBe('batch');
    const again = loaded.forward(t, s);
    expect(Array.from(await again.scoreMap.data())).toEqual(Array.from(await ref.scoreMap.data()));
    // the same four tensors in the reference's frozen norms compute the same outputs
    const frozen = new SpikeTrackModel({ config: small });
    const sd = new Map(
      [...m.stateDict()].filter(([k]) => !/^encoder\.(?!mrm\.).*num_batches_tracked$/.test(k)),
    );
    frozen.loadStateDict(sd, { strict: true, layout: 'native' });
    await refreshExactConstants(frozen);
    frozen.eval();
    const viaFrozen = frozen.forward(t, s);
    expectClose(await viaFrozen.scoreMap.data(), await ref.scoreMap.data(), 1e-5, 'scoreMap');
    expectClose(await viaFrozen.predBoxes.data(), await ref.predBoxes.data(), 1e-5, 'predBoxes');
    tf.dispose([t, s, ...Object.values(ref), ...Object.values(again), ...Object.values(viaFrozen)]);
    for (const x of [m, loaded, frozen]) x.dispose();
  });

  it('fromCheckpoint rejects what is not a SpikeTrack checkpoint', async () => {
    await expect(
      SpikeTrackModel.fromCheckpoint(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
    ).rejects.toThrow(CheckpointError);
    await expect(SpikeTrackModel.fromCheckpoint('/nonexistent/model.pth.tar')).rejects.toThrow(
      /cannot read checkpoint '\/nonexistent\/model.pth.tar'/,
    );
  });
});
