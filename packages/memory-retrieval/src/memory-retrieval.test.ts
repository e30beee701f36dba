import { ConfigError, FiringRateMonitor, readTorchCheckpoint } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectClose,
  expectNoLeak,
  onWebGPU,
  readFixtureBytes,
  readFixtureJson,
} from '../../../test-support/helpers';
import { loadInto, randomizeParams, readCaseTensors } from './fixtures.test-helper';
import { MemoryRetrieval } from './memory-retrieval';
import { TemplateMemory } from './template-memory';

/** Timeout of the tests that run the tiny model's MRMs: SwiftShader is slow, more so under load. */
const HEAVY = onWebGPU() ? 600_000 : 60_000;

/** Which backbone width each of the six MRMs has (the reference's `embed_dim_indices`). */
const MRM_DIM_INDEX = [0, 1, 2, 2, 3, 3];

/** The width of MRM `i` for backbone widths `dims`. */
function mrmDim(dims: number[], i: number): number {
  const d = dims[MRM_DIM_INDEX[i] ?? -1];
  if (d === undefined) throw new Error(`no width for mrm.${i} in [${dims}]`);
  return d;
}

interface ConfigFixture {
  name: string;
  dims: number[];
  resolution: number;
  temp_num: number;
  keys: Record<string, { shape: number[]; dtype: string }>;
}

interface CaseJson {
  dims: number[];
  temp_num: number;
  resolution: number;
  checkpoint: { ignored_keys?: string[] };
  firing_rates: { per_layer: Record<string, { per_step: number[] }> };
  tolerance: { recommended: { thresholds: { features_abs: number; firing_rate_abs: number } } };
}

describe('MemoryRetrieval: structure', () => {
  for (const name of [
    'tiny_256_t3',
    'spiketrack_s256_t1',
    'spiketrack_s256_t3',
    'spiketrack_b256_t1',
    'spiketrack_b256_t3',
    'spiketrack_b384_t1',
    'spiketrack_b384_t3',
  ]) {
    it(`has exactly the keys, torch shapes and dtypes of encoder.mrm.* in configs/${name}`, () => {
      const cfg = readFixtureJson<ConfigFixture>(`configs/${name}.json`);
      for (let i = 0; i < 6; i++) {
        const prefix = `encoder.mrm.${i}.`;
        const ref = Object.entries(cfg.keys).filter(([k]) => k.startsWith(prefix));
        const m = new MemoryRetrieval({
          dim: mrmDim(cfg.dims, i),
          numTemplates: cfg.temp_num,
          gridSize: cfg.resolution / 16,
        });
        const shapes = m.stateShapes({ layout: 'torch' });
        expect([...shapes.keys()].sort()).toEqual(ref.map(([k]) => k.slice(prefix.length)).sort());
        for (const [k, v] of ref) expect(shapes.get(k.slice(prefix.length)), k).toEqual(v.shape);
        const int64 = [...m.stateTorchDtypes().keys()].sort();
        expect(int64).toEqual(
          ref
            .filter(([, v]) => v.dtype === 'int64')
            .map(([k]) => k.slice(prefix.length))
            .sort(),
        );
        m.dispose();
      }
    });
  }
});

/** A torch `[T, B, C, H, W]` tensor as our `[T, B, H, W, C]` (disposes the input). */
function toNhwc(t: tf.Tensor): tf.Tensor {
  const y = tf.transpose(t, [0, 1, 3, 4, 2]);
  t.dispose();
  return y;
}

/**
 * The whole-model fixtures, stage by stage: `(mrm{i}_in, kv_cache_i) → mrm{i}_out` through the
 * search-only path (the reference's `sdtv3_search_inference`), with the weights of the tiny
 * checkpoint, and the firing rate of every neuron on the search path.
 */
for (const caseName of ['tiny-256-t3', 'tiny-256-t1']) {
  describe(`MemoryRetrieval: parity with the reference ${caseName} model, stage by stage`, () => {
    let ckpt: Map<string, tf.Tensor>;
    let tensors: Map<string, tf.Tensor>;
    let json: CaseJson;
    beforeAll(() => {
      ckpt = readTorchCheckpoint(readFixtureBytes('tiny-256-t3/model.pth.tar'), {
        source: 'model.pth.tar',
      }).tensors;
      tensors = readCaseTensors(`${caseName}/tensors.safetensors`, (k) =>
        /^(mrm\d_(in|out)|kv_cache_\d)$/.test(k),
      );
      json = readFixtureJson<CaseJson>(`${caseName}/case.json`);
    });
    afterAll(() => {
      tf.dispose([...ckpt.values(), ...tensors.values()]);
    });

    for (let i = 0; i < 6; i++) {
      it(
        `mrm.${i}: output and search-path firing rates`,
        async () => {
          const t = json.temp_num;
          const dim = mrmDim(json.dims, i);
          const m = new MemoryRetrieval({ dim, numTemplates: t, gridSize: json.resolution / 16 });
          const prefix = `encoder.mrm.${i}.`;
          const w = new Map<string, tf.Tensor>();
          for (const [k, v] of ckpt) if (k.startsWith(prefix)) w.set(k.slice(prefix.length), tf.clone(v));
          const report = await loadInto(m, w, { strict: t === 3, source: 'model.pth.tar' });
          // T = 1 loads the T = 3 checkpoint without the responders 1 and 2 (case.json: ignored_keys)
          const ignored = (json.checkpoint.ignored_keys ?? [])
            .filter((k) => k.startsWith(prefix))
            .map((k) => k.slice(prefix.length));
          expect(report.unexpected.sort()).toEqual(ignored.sort());
          expect(report.missing).toEqual([]);

          const search = toNhwc(tf.clone(tensors.get(`mrm${i}_in`)!));
          const memory = new TemplateMemory(tf.clone(tensors.get(`kv_cache_${i}`)!));
          expect(memory.kv.shape).toEqual([t, 1, 8, dim / 8, (4 * dim) / 8]);
          const monitor = new FiringRateMonitor(m);
          const y = m.retrieve(search, memory);
          const expected = toNhwc(tf.clone(tensors.get(`mrm${i}_out`)!));
          const tol = json.tolerance.recommended.thresholds;
          expect(y.shape).toEqual(expected.shape);
          expectClose(await y.data(), await expected.data(), tol.features_abs, `mrm${i}_out`);

          const rates = await monitor.report();
          monitor.detach();
          let compared = 0;
          for (const [path, entry] of Object.entries(rates)) {
            if (entry.calls === 0) continue; // template-only neurons (and the gate's when T = 1)
            const ref = json.firing_rates.per_layer[`${prefix}${path}`];
            expect(ref, path).toBeDefined();
            // head_spike ran on the templates first in the reference: its last step is the search
            const refSteps = path === 'retriever.head_spike' ? ref!.per_step.slice(t) : ref!.per_step;
            expectClose(entry.per_step, refSteps, tol.firing_rate_abs, `${prefix}${path} firing rate`);
            compared++;
          }
          // every neuron but the template-only k_spike and v_spike (and the gate's two when T = 1)
          expect(compared).toBe(t > 1 ? 10 : 8);
          tf.dispose([search, y, expected]);
          memory.dispose();
          m.dispose();
        },
        HEAVY,
      );
    }
  });
}

describe('MemoryRetrieval: API', () => {
  let m: MemoryRetrieval;
  let templates: tf.Tensor;
  let search: tf.Tensor;
  beforeAll(async () => {
    m = new MemoryRetrieval({ dim: 8, numHeads: 2, numTemplates: 3, gridSize: 4, seed: 1 });
    await randomizeParams(m, 31, 1);
    templates = tf.randomUniform([3, 1, 8, 8, 8], -1, 3, 'float32', 1);
    search = tf.randomUniform([1, 1, 8, 8, 8], -1, 3, 'float32', 2);
  });
  afterAll(() => {
    tf.dispose([templates, search]);
    m.dispose();
  });

  it('forward(templates, search) equals memorize then retrieve, bit for bit, and is the residual sum', async () => {
    const y = m.apply(templates, search);
    expect(y.shape).toEqual([1, 1, 8, 8, 8]);
    const memory = m.memorize(templates);
    const y2 = m.retrieve(search, memory);
    expectClose(await y2.data(), await y.data(), 0, 'memorize + retrieve');
    // y = s + r, then y + mlp(y)
    const r = m.retriever.apply(templates, search);
    const s1 = tf.add(search, r);
    const manual = tf.add(s1, m.mlp.apply(s1));
    expectClose(await manual.data(), await y.data(), 0, 'residuals');
    await expectNoLeak(() => m.apply(templates, search));
    await expectNoLeak(() => m.retrieve(search, memory));
    await expectNoLeak(() => m.memorize(templates).dispose());
    tf.dispose([y, y2, r, s1, manual]);
    memory.dispose();
  });

  it('rejects a non-memory and bad options', () => {
    expect(() => m.retrieve(search, null as never)).toThrow(ConfigError);
    expect(() => new MemoryRetrieval({ dim: 8, numHeads: 2, mlpRatio: 0 })).toThrow(/mlpRatio/);
    expect(() => new MemoryRetrieval(null as never)).toThrow(ConfigError);
  });

  it('trains: gradients reach the retriever and the MLP, without leaking', async () => {
    const mt = new MemoryRetrieval({ dim: 8, numHeads: 2, numTemplates: 3, gridSize: 2, seed: 5 });
    await randomizeParams(mt, 41, 1);
    mt.train();
    const tt = tf.randomUniform([3, 2, 2, 2, 8], -1, 3, 'float32', 3);
    const ss = tf.randomUniform([1, 2, 2, 2, 8], -1, 3, 'float32', 4);
    const params = [...mt.trainableParameters().values()];
    const run = () => tf.variableGrads(() => tf.sum(tf.square(mt.apply(tt, ss))) as tf.Scalar, params);
    const { value, grads } = run();
    const byName = new Map(params.map((p) => [p.name, p]));
    const names = [...mt.trainableParameters()].filter(([, p]) => grads[p.name]).map(([k]) => k);
    expect(names).toContain('mlp.fc1_conv.weight');
    expect(names).toContain('retriever.k_conv.0.weight');
    expect(names).toContain('retriever.gate.mlp.0.weight');
    expect(byName.size).toBe(params.length);
    tf.dispose([value, ...Object.values(grads)]);
    await expectNoLeak(() => {
      const o = run();
      return [o.value, ...Object.values(o.grads)];
    }, 2);
    tf.dispose([tt, ss]);
    mt.dispose();
  });
});
