import { ConfigError, NILIF, readTorchCheckpoint, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, onWebGPU, readFixtureBytes, readFixtureJson } from '../../../test-support/helpers';
import { E_SPIKEFORMER_PRESETS, ESpikeFormer, type ESpikeFormerPreset } from './backbone';
import { readCaseTensors } from './fixtures.test-helper';

interface ConfigFixture {
  name: string;
  variant: string;
  dims: number[];
  resolution: number;
  keys: Record<string, { shape: number[]; dtype: string }>;
}

/** The backbone keys of a reference config: `encoder.*` without `encoder.mrm.*`, prefix removed. */
function backboneKeys(cfg: ConfigFixture): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [k, v] of Object.entries(cfg.keys)) {
    if (k.startsWith('encoder.') && !k.startsWith('encoder.mrm.'))
      out.set(k.slice('encoder.'.length), v.shape);
  }
  return out;
}

describe('ESpikeFormer: structure', () => {
  const variants: Record<string, ESpikeFormerPreset> = { tiny: 'tiny', small: 'small', base: 'base' };
  for (const name of [
    'tiny_256_t3',
    'spiketrack_s256_t1',
    'spiketrack_s256_t3',
    'spiketrack_b256_t1',
    'spiketrack_b256_t3',
    'spiketrack_b384_t1',
    'spiketrack_b384_t3',
  ]) {
    it(`has exactly the backbone keys and torch shapes of configs/${name}`, () => {
      const cfg = readFixtureJson<ConfigFixture>(`configs/${name}.json`);
      const preset = variants[cfg.variant];
      expect(preset, cfg.variant).toBeDefined();
      expect([...E_SPIKEFORMER_PRESETS[preset!]]).toEqual(cfg.dims);
      const m = new ESpikeFormer({ preset: preset!, resolution: cfg.resolution });
      const ours = m.stateShapes({ layout: 'torch' });
      const ref = backboneKeys(cfg);
      expect([...ours.keys()].sort()).toEqual([...ref.keys()].sort());
      for (const [k, s] of ref) expect(ours.get(k), k).toEqual(s);
      m.dispose();
    });
  }

  it('builds every preset, and custom dims, heads and ratios', () => {
    for (const [preset, dims] of Object.entries(E_SPIKEFORMER_PRESETS)) {
      const m = new ESpikeFormer({ preset: preset as ESpikeFormerPreset });
      expect(m.dims).toEqual(dims);
      expect(m.stateShapes({ layout: 'torch' }).get('downsample4.encode_conv.weight')).toEqual([
        dims[3],
        dims[2],
        3,
        3,
      ]);
      m.dispose();
    }
    const m = new ESpikeFormer({ dims: [8, 8, 16, 16], numHeads: 4, mlpRatio: 2, resolution: 64 });
    const s = m.stateShapes({ layout: 'torch' });
    expect(s.get('block3.0.mlp.fc1_conv.weight')).toEqual([32, 16, 1]);
    expect(s.get('block4.1.attn.s_pos_embed')).toEqual([1, 16, 16]);
    expect(s.get('ConvBlock1_1.0.conv1.weight')).toEqual([8, 4, 3, 3]);
    expect([0, 1, 2, 3, 4, 5].map((i) => m.segmentChannels(i))).toEqual([8, 8, 16, 16, 16, 16]);
    m.dispose();
  });

  it('rejects invalid configurations with ConfigError', () => {
    expect(() => new ESpikeFormer({ preset: 'huge' as never })).toThrow(/unknown preset 'huge'/);
    expect(() => new ESpikeFormer({ dims: [7, 8, 16, 16] })).toThrow(ConfigError);
    expect(() => new ESpikeFormer({ dims: [8, 8, 16, 20], numHeads: 8 })).toThrow(/numHeads 8 must divide/);
    expect(() => new ESpikeFormer({ resolution: 250 })).toThrow(/multiple of 16/);
  });

  it('runs a small configuration end to end and checks its input', async () => {
    const m = new ESpikeFormer({ dims: [8, 8, 16, 16], numHeads: 2, resolution: 32, seed: 1 });
    m.eval();
    const x = tf.randomNormal([2, 1, 32, 32, 3], 0, 1, 'float32', 3);
    const y = m.apply(x, 'template');
    expect(y.shape).toEqual([2, 1, 2, 2, 16]);
    let z = x;
    for (let i = 0; i < 6; i++) {
      const next = m.segment(i, z, 'template');
      if (z !== x) z.dispose();
      z = next;
    }
    expect(Array.from(await z.data())).toEqual(Array.from(await y.data()));
    const bad = tf.zeros([1, 32, 32, 3]);
    expect(() => m.apply(bad, 'search')).toThrow(ShapeError);
    expect(() => m.segment(6, x, 'search')).toThrow(ConfigError);
    const wrongSize = tf.zeros([1, 1, 48, 48, 3]);
    expect(() => m.apply(wrongSize, 'search')).toThrow(/2×2 = 4 tokens/);
    tf.dispose([x, y, z, bad, wrongSize]);
    m.dispose();
  });
});

interface CaseJson {
  firing_rates: { per_layer: Record<string, { per_step: number[] }> };
}

/**
 * The tiny-256-t3 whole-model fixture: the backbone's search path between memory-retrieval
 * points (teacher forced with `mrm{i}_out`), and the template path end to end (the templates never
 * see the search image or the memory retrieval, so their firing rates test the whole backbone).
 */
describe('ESpikeFormer: parity with the reference tiny-256-t3 model', () => {
  let model: ESpikeFormer;
  let tensors: Map<string, tf.Tensor>;
  let rates: CaseJson['firing_rates']['per_layer'];

  beforeAll(async () => {
    const ckpt = readTorchCheckpoint(readFixtureBytes('tiny-256-t3/model.pth.tar'), {
      source: 'model.pth.tar',
    });
    const enc = new Map<string, tf.Tensor>();
    for (const [k, t] of ckpt.tensors) {
      if (k.startsWith('encoder.') && !k.startsWith('encoder.mrm.')) enc.set(k.slice(8), t);
      else t.dispose();
    }
    model = new ESpikeFormer({ preset: 'tiny', resolution: 256 });
    model.loadStateDict(enc, { strict: true, source: 'tiny-256-t3/model.pth.tar' });
    for (const t of enc.values()) t.dispose();
    model.eval();
    const { refreshExactConstants } = await import('@spiketrack/neurons');
    await refreshExactConstants(model);
    tensors = readCaseTensors('tiny-256-t3/tensors.safetensors');
    rates = readFixtureJson<CaseJson>('tiny-256-t3/case.json').firing_rates.per_layer;
  });

  afterAll(() => {
    model?.dispose();
    if (tensors) for (const t of tensors.values()) t.dispose();
  });

  /** Records `mean(spike·4)` per time step of every NI-LIF call, by module path. */
  function recordRates(): { stop: () => void; read: () => Promise<Map<string, number[]>> } {
    const pending: [string, tf.Tensor][] = [];
    const offs = [...model.namedModules()]
      .filter(([, m]) => m instanceof NILIF)
      .map(([path, m]) =>
        m.onForward((_m, _in, out) => {
          const o = out as tf.Tensor;
          pending.push([path, tf.keep(tf.mul(tf.mean(tf.reshape(o, [o.shape[0]!, -1]), 1), 4))]);
        }),
      );
    return {
      stop: () => {
        for (const off of offs) off();
      },
      read: async () => {
        const out = new Map<string, number[]>();
        for (const [p, t] of pending) {
          out.set(p, [...(out.get(p) ?? []), ...Array.from(await t.data())]);
          t.dispose();
        }
        return out;
      },
    };
  }

  function feature(key: string): tf.Tensor {
    const t = tensors.get(key);
    if (!t) throw new Error(`no tensor ${key}`);
    // images [1, 3, R, R] → [1, 1, R, R, 3]; features [1, 1, C, H, W] → [1, 1, H, W, C]
    return tf.tidy(() =>
      t.rank === 4 ? tf.expandDims(tf.transpose(t, [0, 2, 3, 1]), 0) : tf.transpose(t, [0, 1, 3, 4, 2]),
    );
  }

  const stages = [
    ['search', 'mrm0_in'],
    ['mrm0_out', 'mrm1_in'],
    ['mrm1_out', 'mrm2_in'],
    ['mrm2_out', 'mrm3_in'],
    ['mrm3_out', 'mrm4_in'],
    ['mrm4_out', 'mrm5_in'],
  ] as const;
  for (const [i, [from, to]] of stages.entries()) {
    it(`search path, segment ${i}: ${from} → ${to} is bit-exact, with the reference's firing rates`, async () => {
      const x = feature(from);
      const rec = recordRates();
      const y = model.segment(i, x, 'search');
      rec.stop();
      const expected = feature(to);
      expect(y.shape).toEqual(expected.shape);
      expectClose(await y.data(), await expected.data(), 1e-5, `${to}`);
      const got = await rec.read();
      expect(got.size).toBeGreaterThan(0);
      for (const [path, steps] of got) {
        const ref = rates[`encoder.${path}`]?.per_step;
        if (!ref) throw new Error(`the reference has no firing rate for ${path}`);
        expect(steps.length, path).toBe(1);
        // The search call is the last one of each layer (templates first).
        expectClose(steps, [ref.at(-1)!], 1e-6, `firing rate of ${path} (search)`);
      }
      tf.dispose([x, y, expected]);
    });
  }

  // ~100 s on SwiftShader (T = 3 at 256×256); the search segments and ms_attention's template
  // branch cover the same layers there.
  it.skipIf(onWebGPU())(
    'template path: every layer of the whole backbone fires as the reference, per step',
    async () => {
      const x = tf.tidy(() =>
        tf.concat(
          [0, 1, 2].map((t) => feature(`template_${t}`)),
          0,
        ),
      );
      const rec = recordRates();
      const y = model.apply(x, 'template');
      rec.stop();
      expect(y.shape).toEqual([3, 1, 16, 16, 128]);
      const got = await rec.read();
      const layers = Object.keys(rates).filter(
        (k) => k.startsWith('encoder.') && !k.startsWith('encoder.mrm.'),
      );
      expect([...got.keys()].map((k) => `encoder.${k}`).sort()).toEqual(layers.sort());
      for (const [path, steps] of got) {
        expectClose(
          steps,
          rates[`encoder.${path}`]!.per_step.slice(0, 3),
          1e-6,
          `firing rates of ${path} (templates)`,
        );
      }
      tf.dispose([x, y]);
    },
  );
});
