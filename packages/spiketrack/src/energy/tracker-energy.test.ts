import { countOps, OpCounter } from '@spiketrack/energy';
import {
  type AnyModule,
  ConfigError,
  isRecordingOps,
  isSpikeSource,
  type OpRecord,
  startOpRecorder,
} from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, onWebGPU, testBackend } from '../../../../test-support/helpers';
import { SpikeTrackModel } from '../model/model';
import { caseTemplates, caseTensor, loadCaseModel, readCase } from '../model/parity.test-helper';
import { formatTrackerEnergy, formatTrackerEnergyMarkdown, trackerEnergySvg } from './report-format';
import { TRACKER_STAGES, trackerStageOf } from './stages';
import { TrackerOpCounter, trackerEnergy } from './tracker-energy';

const small = {
  dims: [8, 8, 16, 16] as const,
  numHeads: 2,
  resolution: 32,
  templates: 2,
  decoderChannel: 16,
};
const R = small.resolution;

/** The number of forward hooks on a model (private state of Module, read to prove they are gone). */
const hookCount = (m: SpikeTrackModel) =>
  [...m.namedModules()].reduce((n, [, c]) => n + (c as unknown as { _hooks: unknown[] })._hooks.length, 0);

/** A small model whose neurons fire (larger weights than the default init of such narrow layers). */
function firingModel(): SpikeTrackModel {
  const m = new SpikeTrackModel({ config: small, seed: 11 });
  let i = 0;
  for (const [k, p] of m.namedParameters()) {
    if (k.endsWith('decay')) continue;
    const r = tf.randomUniform(p.shape, -1, 1, 'float32', 100 + i++);
    p.assign(r);
    r.dispose();
  }
  m.eval();
  return m;
}

describe('trackerEnergy on a small model', () => {
  it.skipIf(onWebGPU())(
    'reports the search path per frame plus the template branch over the interval, consistent with countOps',
    async () => {
      const m = firingModel();
      const t0 = tf.randomNormal([1, R, R, 3], 0, 2, 'float32', 1);
      const t1 = tf.randomNormal([1, R, R, 3], 0, 2, 'float32', 2);
      const s = tf.randomNormal([1, R, R, 3], 0, 2, 'float32', 3);
      const r = await trackerEnergy(m, { templates: [t0, t1], search: s, interval: 10 });
      expect(r.config).toBeNull();
      expect([r.templates, r.resolution, r.interval, r.search.runs, r.template.runs]).toEqual([
        2,
        R,
        10,
        1,
        1,
      ]);
      expect(r.process.name).toBe('45nm-fp32');

      // First layer: the 7×7 stride-2 stem on real pixels, (R/2)² outputs × 4 channels × 7·7·3 taps.
      const stem = (R / 2) ** 2 * 4 * 7 * 7 * 3;
      expect(r.first_layer).toEqual({
        path: 'encoder.downsample1_1.encode_conv',
        dense_macs: stem,
        template_dense_macs: 2 * stem,
      });
      const first = r.search.layers[0]!;
      expect(first).toMatchObject({ spiking: false, macs: stem, acs: 0, input_rate: null });
      // Everything after the stem is fed by spikes here, and some of them fire.
      expect(r.search.layers.slice(1).every((l) => l.spiking === true)).toBe(true);
      expect(r.search.acs).toBeGreaterThan(0);
      expect(r.template.acs).toBeGreaterThan(0);
      // The search branch never builds k/v memories; the template branch never queries them.
      expect(r.search.layers.some((l) => l.path.endsWith('retriever.kv'))).toBe(false);
      expect(r.template.layers.some((l) => l.path.endsWith('retriever.qkv'))).toBe(false);
      expect(r.search.layers.some((l) => l.stage === 'head')).toBe(true);
      expect(r.template.layers.some((l) => l.stage === 'head')).toBe(false);
      expect(r.search.layers.every((l) => l.stage !== 'other')).toBe(true);

      // The same as counting each branch by hand.
      const cache = m.encodeTemplates([t0, t1]);
      const bySearch = await countOps(m, () => m.trackFrame(s, cache));
      let templateCache: { dispose(): void } | null = null;
      const byTemplate = await countOps(m, () => {
        templateCache = m.encodeTemplates([t0, t1]);
      });
      (templateCache as { dispose(): void } | null)?.dispose();
      expect(r.search.dense_macs).toBe(bySearch.totals.denseMacs);
      expect(r.search.acs).toBeCloseTo(bySearch.totals.acs, 6);
      expect(r.template.dense_macs).toBe(byTemplate.totals.denseMacs);
      expect(r.template.paper_acs).toBeCloseTo(byTemplate.totals.paperAcs, 6);

      // Per frame: search + template / interval, in every convention; the stages add up.
      for (const c of ['exact', 'paper', 'ann'] as const) {
        expect(r.per_frame.total[c]).toBeCloseTo(r.search.energy[c] + r.template.energy[c] / 10, 6);
        const stages = r.stages.reduce((a, st) => a + st.search[c] + st.template_per_frame[c], 0);
        expect(stages).toBeCloseTo(r.per_frame.total[c], 6);
      }
      expect(r.per_frame.dense_macs).toBe(r.search.dense_macs + r.template.dense_macs / 10);
      expect(r.per_frame.total.ann).toBeCloseTo(4.6 * r.per_frame.dense_macs, 3);
      expect(r.per_frame.ratio_to_ann.exact).toBeCloseTo(r.per_frame.total.exact / r.per_frame.total.ann, 12);
      expect(r.stages.map((st) => st.stage)).toEqual([...TRACKER_STAGES]);
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);

      // Two identical frames, run by other code (as a Tracker does) on the instrumented model.
      const meter = new TrackerOpCounter(m).instrument();
      const c2 = m.encodeTemplates([t0, t1]);
      for (let i = 0; i < 2; i++) tf.dispose(m.trackFrame(s, c2) as unknown as tf.TensorContainer);
      expect(meter.counts).toEqual({ rebuilds: 1, frames: 2 });
      const r2 = await meter.report({ interval: 10, process: '45nm-int8', memory: '45nm-sram-32kb' });
      meter.dispose();
      c2.dispose();
      expect(Object.hasOwn(m, 'trackFrame') || Object.hasOwn(m, 'encodeTemplates')).toBe(false);
      expect(r2.search.runs).toBe(2);
      // The memory term: off by default, per layer and per frame when asked for, apart from the totals.
      expect([r.per_frame.memory, r.memory_model, r.search.memory]).toEqual([null, null, null]);
      expect(r2.memory_model?.pjPerByte).toBe(2.5);
      const layerMemory = r2.search.layers.reduce((a, l) => a + (l.memory ?? 0), 0);
      expect(r2.search.memory).toBeCloseTo(layerMemory, 6);
      expect(r2.per_frame.memory?.total).toBeCloseTo(r2.search.memory! + r2.template.memory! / 10, 6);
      expect(r2.search.memory).toBeGreaterThan(0);
      expect(r2.search.dense_macs).toBe(r.search.dense_macs);
      expect(r2.search.acs).toBeCloseTo(r.search.acs, 6);
      expect(r2.search.layers.map((l) => l.input_rate)).toEqual(r.search.layers.map((l) => l.input_rate));
      expect(r2.search.layers.map((l) => l.calls)).toEqual(r.search.layers.map((l) => l.calls));
      expect(r2.per_frame.total.exact).toBeCloseTo(
        0.23 * (r.search.macs + r.template.macs / 10) + 0.03 * (r.search.acs + r.template.acs / 10),
        3,
      );

      // Reports: text, Markdown, SVG.
      const text = formatTrackerEnergy(r);
      expect(text).toMatch(/^SpikeTrack energy per frame: custom config \(R = 32, T = 2\)/);
      expect(text).toMatch(
        /\nencoder\.downsample1_1\.encode_conv\s+conv2d\s+real\s+151 k\s+151 k\s+0\s+0\s+-/,
      );
      expect(text).toMatch(/\ntemplate \/ 10\s/);
      expect(text).toContain(
        'first layer: encoder.downsample1_1.encode_conv: 151 k MACs per frame, 301 k per template rebuild',
      );
      const md = formatTrackerEnergyMarkdown(r);
      expect(md).toContain('| per frame | dense MACs | E exact | E paper | E ANN |');
      expect(md).toMatch(/\| encoder\.downsample1_1\.encode_conv \| conv2d \| real \| 151 k \|/);
      const svg = trackerEnergySvg(r);
      expect(svg.match(/<rect class="bar"/g)).toHaveLength(2 * TRACKER_STAGES.length);
      expect(svg).toContain('>mrm.3</text>');

      expect(hookCount(m)).toBe(0);
      expect(isRecordingOps()).toBe(false);
      await expectNoLeak(() => trackerEnergy(m, { templates: [t0, t1], search: [s, s] }), 1);
      tf.dispose([t0, t1, s]);
      cache.dispose();
      m.dispose();
    },
    120_000,
  );

  it('rejects bad options with a ConfigError, and leaves nothing behind', async () => {
    const m = new SpikeTrackModel({ config: small, seed: 3 });
    m.eval();
    const t = tf.zeros([1, R, R, 3]);
    await expect(trackerEnergy(m, { templates: [t, t], search: t, interval: 0 })).rejects.toThrow(
      /interval must be a number of frames ≥ 1, got 0/,
    );
    await expect(trackerEnergy(m, { templates: [t, t], search: [] })).rejects.toThrow(/no frame/);
    await expect(trackerEnergy(m, { templates: [t, t], search: t, process: 'x' as never })).rejects.toThrow(
      /unknown process 'x'/,
    );
    const meter = new TrackerOpCounter(m);
    await expect(meter.report()).rejects.toThrow(ConfigError);
    // a failing branch (one template instead of two) stops recording
    await expect(meter.encodeTemplates([t])).rejects.toThrow(/expected 2 template/);
    expect(isRecordingOps()).toBe(false);
    meter.dispose();
    expect(hookCount(m)).toBe(0);
    t.dispose();
    m.dispose();
  });
});

describe.skipIf(testBackend() !== 'cpu')('trackerStageOf', () => {
  it('groups layer paths into the backbone stages, the MRMs and the head', () => {
    expect(trackerStageOf('encoder.downsample1_1.encode_conv')).toBe('stage1');
    expect(trackerStageOf('encoder.ConvBlock2_2.0.conv1')).toBe('stage2');
    expect(trackerStageOf('encoder.block3.5.attn.kv')).toBe('stage3');
    expect(trackerStageOf('encoder.downsample4.encode_conv')).toBe('stage4');
    expect(trackerStageOf('encoder.mrm.4.retriever.recurrent.qkv')).toBe('mrm.4');
    expect(trackerStageOf('decoder.conv5_size')).toBe('head');
    expect(trackerStageOf('encoder.mrm.9.x')).toBe('other');
    expect(trackerStageOf('somewhere')).toBe('other');
  });
});

// The s256 network at 256² with the counter: ~4 s on wasm, far longer on cpu and SwiftShader.
describe.skipIf(testBackend() !== 'wasm')('trackerEnergy on the official configurations', () => {
  it('spiketrack_s256_t1: dense MACs within 3% of the reference count (3.525 G search, 2.654 G template)', async () => {
    const m = new SpikeTrackModel({ config: 'spiketrack_s256_t1', seed: 1 });
    m.eval();
    const img = tf.randomNormal([1, 256, 256, 3], 0, 1, 'float32', 1);
    const r = await trackerEnergy(m, { templates: [img], search: img });
    tf.dispose(img);
    m.dispose();
    expect(Math.abs(r.search.dense_macs / 3.525e9 - 1)).toBeLessThan(0.03);
    expect(Math.abs(r.template.dense_macs / 2.654e9 - 1)).toBeLessThan(0.03);
    // The stem: 128² outputs × 16 channels × 7·7·3 taps.
    expect(r.first_layer.dense_macs).toBe(128 * 128 * 16 * 147);
  }, 300_000);

  it('tiny-256-t3: per-layer input firing rates equal the case.json rates of the neuron that feeds the layer', async () => {
    const c = readCase('tiny-256-t3');
    const m = await loadCaseModel(c);
    const templates = caseTemplates(c);
    const search = caseTensor(c, 'search');
    // Which neuron call produced each op's driving input: the test's own recorder, matched by tensor data.
    const produced = new Map<object, { path: string; call: number; steps: number; perStep: number }>();
    const stepsOf = new Map<string, number[]>();
    const removers = [...m.namedModules()]
      .filter(([, mod]) => isSpikeSource(mod))
      .map(([path, mod]) =>
        (mod as AnyModule).onForward((_m, _in, out) => {
          const t = out as tf.Tensor;
          const axis = (mod as unknown as { outputTimeAxis: number | null }).outputTimeAxis;
          const steps = axis === null ? 1 : t.shape[axis < 0 ? t.rank + axis : axis]!;
          const seen = stepsOf.get(path) ?? [];
          const call = seen.length;
          stepsOf.set(path, [...seen, steps]);
          produced.set((t as unknown as { dataId: object }).dataId, {
            path,
            call,
            steps,
            perStep: t.size / steps,
          });
        }),
      );
    const fedBy = new Map<
      string,
      ({ path: string; call: number; steps: number; perStep: number } | undefined)[]
    >();
    const stopRecorder = startOpRecorder({
      record(op: OpRecord) {
        const list = fedBy.get(op.path) ?? [];
        list.push(produced.get((op.input as unknown as { dataId: object }).dataId));
        fedBy.set(op.path, list);
      },
    });
    const counter = new OpCounter(m);
    try {
      tf.dispose((await counter.measure(() => m.apply(templates, search))) as unknown as tf.TensorContainer);
    } finally {
      stopRecorder();
      for (const r of removers) r();
    }
    const report = await counter.report();
    counter.dispose();
    const ref = c.json.firing_rates.per_layer;
    // case.json per_step: mean(spike·4) per time step, concatenated over the neuron's calls in order.
    const stepOffset = (path: string, call: number) =>
      (stepsOf.get(path) ?? []).slice(0, call).reduce((a, b) => a + b, 0);
    let compared = 0;
    const excluded: string[] = [];
    for (const l of report.layers) {
      const feeds = fedBy.get(l.path)!;
      if (!feeds.every((f) => f !== undefined)) {
        excluded.push(l.path);
        continue;
      }
      let counts = 0;
      let elements = 0;
      for (const f of feeds as { path: string; call: number; steps: number; perStep: number }[]) {
        const at = stepOffset(f.path, f.call);
        const steps = ref[f.path]!.per_step.slice(at, at + f.steps);
        expect(steps, `${l.path}: steps of ${f.path} call ${f.call}`).toHaveLength(f.steps);
        for (const v of steps) counts += v * f.perStep;
        elements += f.steps * f.perStep;
      }
      expect(l.spiking, l.path).toBe(true);
      expect(Math.abs(l.inputRate! - counts / elements), `input rate of ${l.path}`).toBeLessThan(1e-6);
      compared++;
    }
    // Not fed by a neuron's output tensor itself: the stem (pixels), the attention products (heads
    // split by a transpose), the per-template slices of the seg responders and the gate's MLP input.
    for (const p of excluded) {
      expect(p).toMatch(
        /^encoder\.(downsample1_1\.encode_conv|.*\.(kv|qkv)|mrm\.\d\.retriever\.(seg_responder_(dw|pw)\.\d\.0|gate\.mlp\.0))$/,
      );
    }
    expect(compared).toBeGreaterThan(150);
    tf.dispose([...templates, search]);
    m.dispose();
  }, 300_000);
});
