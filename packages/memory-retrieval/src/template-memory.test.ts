import {
  FiringRateMonitor,
  readTorchCheckpoint,
  refreshExactConstants,
  ShapeError,
} from '@spiketrack/neurons';
import { ESpikeFormer } from '@spiketrack/spike-transformer';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, onWebGPU, readFixtureBytes, readFixtureJson } from '../../../test-support/helpers';
import { readCaseTensors } from './fixtures.test-helper';
import { MemoryRetrieval } from './memory-retrieval';
import { TemplateMemory } from './template-memory';

describe('TemplateMemory', () => {
  it('takes ownership of kv, keeps it out of tidy scopes, and releases it once', () => {
    const before = tf.memory().numTensors;
    let memory: TemplateMemory | undefined;
    tf.tidy(() => {
      memory = new TemplateMemory(tf.zeros([2, 1, 8, 4, 16]));
    });
    if (!memory) throw new Error('no memory');
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(memory.numTemplates).toBe(2);
    expect(memory.batchSize).toBe(1);
    expect(memory.numHeads).toBe(8);
    expect(memory.isDisposed).toBe(false);
    memory.dispose();
    memory.dispose();
    expect(memory.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => memory!.numTemplates).toThrow(/disposed/);
  });

  it('rejects anything but a float32 [T, B, heads, dk, dv] tensor', () => {
    const bad = [tf.zeros([2, 8, 4, 16]), tf.zeros([2, 1, 8, 4, 16], 'int32'), tf.zeros([0, 1, 8, 4, 16])];
    for (const t of bad) expect(() => new TemplateMemory(t)).toThrow(ShapeError);
    expect(() => new TemplateMemory([1, 2] as never)).toThrow(/expected kv of shape \[T, B, heads, dk, dv\]/);
    tf.dispose(bad);
  });
});

interface CaseJson {
  dims: number[];
  temp_num: number;
  firing_rates: { per_layer: Record<string, { per_step: number[] }> };
}

const MRM_DIM_INDEX = [0, 1, 2, 2, 3, 3];

/**
 * `templates → kv_cache_*` of the whole-model fixtures: the template images run through the
 * reference backbone (`@spiketrack/spike-transformer`), and each MRM memorizes the features at its
 * point. The memories must equal the reference's template caches, and the template-only neurons
 * (`head_spike` on the templates, `k_spike`, `v_spike`) fire as the reference's.
 * ~100 s on SwiftShader (3 templates at 256×256); the unit fixtures cover the same code there.
 */
for (const caseName of ['tiny-256-t3', 'tiny-256-t1']) {
  describe.skipIf(onWebGPU())(`memorize: the template caches of ${caseName}`, () => {
    let backbone: ESpikeFormer;
    const mrms: MemoryRetrieval[] = [];
    let tensors: Map<string, tf.Tensor>;
    let json: CaseJson;
    beforeAll(async () => {
      json = readFixtureJson<CaseJson>(`${caseName}/case.json`);
      const ckpt = readTorchCheckpoint(readFixtureBytes('tiny-256-t3/model.pth.tar'), {
        source: 'model.pth.tar',
      }).tensors;
      const enc = new Map<string, tf.Tensor>();
      const mrmWeights = Array.from({ length: 6 }, () => new Map<string, tf.Tensor>());
      for (const [k, t] of ckpt) {
        const m = /^encoder\.mrm\.(\d)\.(.*)$/.exec(k);
        if (m) mrmWeights[Number(m[1])]!.set(m[2]!, t);
        else if (k.startsWith('encoder.')) enc.set(k.slice(8), t);
        else t.dispose();
      }
      backbone = new ESpikeFormer({ preset: 'tiny', resolution: 256 });
      backbone.loadStateDict(enc);
      backbone.eval();
      await refreshExactConstants(backbone);
      for (let i = 0; i < 6; i++) {
        const m = new MemoryRetrieval({
          dim: json.dims[MRM_DIM_INDEX[i] ?? 0] ?? 0,
          numTemplates: json.temp_num,
          gridSize: 16,
        });
        m.loadStateDict(mrmWeights[i]!, { strict: false });
        m.eval();
        await refreshExactConstants(m);
        mrms.push(m);
      }
      tf.dispose([...enc.values(), ...mrmWeights.flatMap((w) => [...w.values()])]);
      tensors = readCaseTensors(`${caseName}/tensors.safetensors`, (k) =>
        /^(template_\d|kv_cache_\d)$/.test(k),
      );
    });
    afterAll(() => {
      backbone?.dispose();
      for (const m of mrms) m.dispose();
      if (tensors) tf.dispose([...tensors.values()]);
    });

    it('every MRM memorizes exactly the reference cache, with the reference firing rates', async () => {
      const t = json.temp_num;
      // images [1, 3, R, R] → one timestep each: [T, 1, R, R, 3]
      let x: tf.Tensor = tf.tidy(() =>
        tf.concat(
          Array.from({ length: t }, (_, i) =>
            tf.expandDims(tf.transpose(tensors.get(`template_${i}`)!, [0, 2, 3, 1]), 0),
          ),
          0,
        ),
      );
      const monitors = mrms.map((m) => new FiringRateMonitor(m));
      for (let i = 0; i < 6; i++) {
        const next = backbone.segment(i, x, 'template');
        x.dispose();
        x = next;
        const memory = mrms[i]!.memorize(x);
        const ref = tensors.get(`kv_cache_${i}`)!;
        expect(memory.kv.shape).toEqual(ref.shape);
        expectClose(await memory.kv.data(), await ref.data(), 1e-5, `kv_cache_${i}`);
        memory.dispose();
        const rates = await monitors[i]!.report();
        monitors[i]!.detach();
        const prefix = `encoder.mrm.${i}.`;
        for (const name of ['head_spike', 'k_spike', 'v_spike']) {
          const ref = json.firing_rates.per_layer[`${prefix}retriever.${name}`]!.per_step.slice(0, t);
          expectClose(rates[`retriever.${name}`]!.per_step, ref, 1e-6, `${prefix}retriever.${name}`);
        }
      }
      x.dispose();
    }, 300_000);
  });
}
