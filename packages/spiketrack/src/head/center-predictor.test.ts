import { BatchNorm2d, ConfigError, FrozenBatchNorm2d, NILIF, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, readFixtureJson } from '../../../../test-support/helpers';
import { fixtureTensor, loadUnitInto, nhwcValues, readUnit, toNhwc } from '../fixtures.test-helper';
import { CenterPredictor, calBbox } from './center-predictor';

interface ConfigFixture {
  keys: Record<string, { shape: number[]; dtype: string }>;
  dims: number[];
  resolution: number;
  decoder_channel: number;
}

describe('CenterPredictor: parity with the reference unit', () => {
  const unit = readUnit('center_predictor');
  const tol = unit.json.tolerance.abs;
  const ref = (k: string) => fixtureTensor(unit.tensors, k);

  it('computes the maps and boxes of CenterPredictor(32, 64, feat_sz=16)', async () => {
    const m = new CenterPredictor({ inplanes: 32, channel: 64, featSize: 16 });
    await loadUnitInto(unit, m);
    const x = toNhwc(ref('in.x'));
    const out = m.apply(x);
    expect(out.scoreMap.shape).toEqual([1, 16, 16, 1]);
    expect(out.sizeMap.shape).toEqual([1, 16, 16, 2]);
    expect(out.offsetMap.shape).toEqual([1, 16, 16, 2]);
    expect(out.predBoxes.shape).toEqual([1, 4]);
    expectClose(await out.scoreMap.data(), await nhwcValues(ref('out.score_map')), tol, 'score_map');
    expectClose(await out.sizeMap.data(), await nhwcValues(ref('out.size_map')), tol, 'size_map');
    expectClose(await out.offsetMap.data(), await nhwcValues(ref('out.offset_map')), tol, 'offset_map');
    expectClose(await out.predBoxes.data(), ref('out.pred_boxes').values, tol, 'pred_boxes');

    // The tracker's step: cal_bbox on the Hann-windowed score map.
    const hann = toNhwc(ref('in.hann_window'));
    const windowed = tf.mul(out.scoreMap, hann);
    const { boxes, scores } = m.calBbox(windowed, out.sizeMap, out.offsetMap);
    expect(boxes.shape).toEqual([1, 4]);
    expect(scores.shape).toEqual([1]);
    expectClose(await boxes.data(), ref('out.pred_boxes_windowed').values, tol, 'pred_boxes_windowed');
    expectClose(await scores.data(), ref('out.conf_score').values, tol, 'conf_score');

    await expectNoLeak(() => m.apply(x));
    await expectNoLeak(() => m.maps(x));
    tf.dispose([x, hann, windowed, boxes, scores, out]);
    m.dispose();
  });

  it('uses the reference names, order and norms; 13 neurons with T_max 4', () => {
    const m = new CenterPredictor({ inplanes: 32, channel: 64, featSize: 16 });
    const expected = Object.keys(unit.json.tensors).filter((k) => !/^(in|out)\./.test(k));
    const ours = [...m.stateShapes().keys()].filter((k) => !k.endsWith('num_batches_tracked'));
    expect(ours).toEqual(expected);
    for (const k of expected) expect(m.stateShapes().get(k), k).toEqual(unit.json.tensors[k]!.shape);
    const mods = [...m.namedModules().values()];
    expect(mods.filter((x) => x instanceof NILIF)).toHaveLength(13);
    expect(mods.filter((x) => x instanceof BatchNorm2d)).toHaveLength(12);
    m.dispose();
    const frozen = new CenterPredictor({
      inplanes: 8,
      channel: 16,
      featSize: 4,
      norm: 'frozen',
      convType: 'small',
    });
    expect([...frozen.namedModules().values()].filter((x) => x instanceof FrozenBatchNorm2d)).toHaveLength(
      12,
    );
    expect(frozen.stateShapes().get('conv1_ctr.0.weight')).toEqual([16, 8, 1, 1]);
    frozen.dispose();
  });

  it('has the decoder keys and shapes of the tiny config (channel 256, 16×16)', () => {
    const cfg = readFixtureJson<ConfigFixture>('configs/tiny_256_t3.json');
    const m = new CenterPredictor({
      inplanes: cfg.dims[3]!,
      channel: cfg.decoder_channel,
      featSize: cfg.resolution / 16,
    });
    const ref = new Map(
      Object.entries(cfg.keys)
        .filter(([k]) => k.startsWith('decoder.'))
        .map(([k, v]) => [k.slice('decoder.'.length), v.shape]),
    );
    const ours = m.stateShapes();
    expect([...ours.keys()]).toEqual([...ref.keys()]);
    for (const [k, s] of ref) expect(ours.get(k), k).toEqual(s);
    expect(m.stateTorchDtypes().size).toBe(12);
    m.dispose();
  });
});

describe('calBbox', () => {
  it('passes gradients to the size and offset maps at the chosen cell only, as the reference', async () => {
    // B = 2, a 2×3 map: the maxima are at cells 4 (row 1, col 1) and 0.
    const score = tf.tensor4d([0.1, 0.2, 0.3, 0.4, 0.9, 0.5, 0.8, 0.1, 0.2, 0.3, 0.4, 0.5], [2, 2, 3, 1]);
    const size = tf.randomUniform([2, 2, 3, 2], 0, 1, 'float32', 1);
    const offset = tf.randomUniform([2, 2, 3, 2], 0, 1, 'float32', 2);
    // d/d(maps) of Σ boxes · [1, 2, 3, 4]
    const weights = tf.tensor2d([1, 2, 3, 4, 1, 2, 3, 4], [2, 4]);
    const [gScore, gSize, gOffset] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(calBbox(a, b, c).boxes, weights)),
    )([score, size, offset]) as [tf.Tensor, tf.Tensor, tf.Tensor];
    expect(Array.from(await gScore.data()).every((v) => v === 0)).toBe(true);
    const expectedSize = new Array(24).fill(0);
    const expectedOffset = new Array(24).fill(0);
    for (const [b, cell] of [
      [0, 4],
      [1, 0],
    ] as const) {
      const i = (b * 6 + cell) * 2;
      expectedSize[i] = 3;
      expectedSize[i + 1] = 4;
      expectedOffset[i] = 1 / 3; // cx = (x + offset_x) / W
      expectedOffset[i + 1] = 2 / 2; // cy = (y + offset_y) / H
    }
    expectClose(await gSize.data(), expectedSize, 1e-7, 'size gradient');
    expectClose(await gOffset.data(), expectedOffset, 1e-7, 'offset gradient');
    tf.dispose([score, size, offset, weights, gScore, gSize, gOffset]);
  });

  it('takes the first index of the maximum, and reads size and offset there (batched)', async () => {
    // B = 2, 3×3 maps. Batch 0: the maximum 0.9 at (row 1, col 2) and (row 2, col 0): first is 5.
    const score = tf.tensor4d(
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 0.9, 0.1, 0.2, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
      [2, 3, 3, 1],
    );
    const size = tf.tidy(() => tf.reshape(tf.div(tf.range(0, 36, 1, 'float32'), 100), [2, 3, 3, 2]));
    const offset = tf.tidy(() => tf.reshape(tf.div(tf.range(0, 36, 1, 'float32'), 50), [2, 3, 3, 2]));
    const { boxes, scores } = calBbox(score, size, offset);
    const b = await boxes.data();
    // batch 0, idx 5: x = 2, y = 1; size (0.10, 0.11), offset (0.2, 0.22)
    expectClose(b.slice(0, 4), [(2 + 0.2) / 3, (1 + 0.22) / 3, 0.1, 0.11], 1e-6, 'batch 0');
    // batch 1, idx 0: size (0.18, 0.19), offset (0.36, 0.38)
    expectClose(b.slice(4), [0.36 / 3, 0.38 / 3, 0.18, 0.19], 1e-6, 'batch 1');
    expectClose(await scores.data(), [0.9, 0.7], 1e-7, 'scores');
    // Rectangular maps: x over W, y over H.
    const s2 = tf.tensor4d([0, 0, 0, 0, 0, 1], [1, 2, 3, 1]);
    const z = tf.zeros([1, 2, 3, 2]);
    const r = calBbox(s2, z, z);
    expectClose(await r.boxes.data(), [2 / 3, 1 / 2, 0, 0], 1e-7, 'rectangular');
    await expectNoLeak(() => calBbox(score, size, offset));
    tf.dispose([score, size, offset, boxes, scores, s2, z, r]);
  });

  it('rejects maps of the wrong shape with ShapeError', () => {
    const s = tf.zeros([1, 4, 4, 1]);
    const two = tf.zeros([1, 4, 4, 2]);
    const bad = tf.zeros([1, 4, 5, 2]);
    expect(() => calBbox(two, two, two)).toThrow(/scoreMap of shape \[B, H, W, 1\], got \[1, 4, 4, 2\]/);
    expect(() => calBbox(s, bad, two)).toThrow(ShapeError);
    expect(() => calBbox(s, two, s)).toThrow(/offsetMap/);
    tf.dispose([s, two, bad]);
  });
});

describe('CenterPredictor: options, errors, gradients', () => {
  it('rejects bad options and inputs', () => {
    expect(() => new CenterPredictor({ inplanes: 8, channel: 12, featSize: 4 })).toThrow(/multiple of 8/);
    expect(() => new CenterPredictor({ inplanes: 0, featSize: 4 })).toThrow(ConfigError);
    expect(() => new CenterPredictor({ inplanes: 8, featSize: 4, convType: 'big' as never })).toThrow(
      ConfigError,
    );
    const m = new CenterPredictor({ inplanes: 8, channel: 16, featSize: 4, seed: 1 });
    const x = tf.zeros([1, 1, 5, 5, 8]);
    expect(() => m.apply(x)).toThrow(/\[T, B, 4, 4, 8\].*got \[1, 1, 5, 5, 8\]/);
    const y = tf.zeros([1, 4, 4, 8]);
    expect(() => m.apply(y)).toThrow(ShapeError);
    tf.dispose([x, y]);
    m.dispose();
    expect(() => m.apply(tf.zeros([1, 1, 4, 4, 8]))).toThrow(/disposed/);
  });

  it('is deterministic with a seed and xavier-initialized', async () => {
    const a = new CenterPredictor({ inplanes: 8, channel: 16, featSize: 4, seed: 5 });
    const b = new CenterPredictor({ inplanes: 8, channel: 16, featSize: 4, seed: 5 });
    const wa = await a.namedParameters().get('conv1_ctr.0.weight')!.data();
    const wb = await b.namedParameters().get('conv1_ctr.0.weight')!.data();
    expect(Array.from(wa)).toEqual(Array.from(wb));
    const bound = Math.sqrt(6 / (8 * 9 + 16 * 9));
    expect(Math.max(...Array.from(wa, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(wa, Math.abs))).toBeGreaterThan(bound * 0.8);
    a.dispose();
    b.dispose();
  });

  it('passes gradients to the conv weights without leaking', async () => {
    const m = new CenterPredictor({ inplanes: 8, channel: 16, featSize: 4, seed: 2 });
    m.train();
    const x = tf.randomUniform([2, 2, 4, 4, 8], 0, 3, 'float32', 9);
    const params = [...m.trainableParameters()].filter(
      ([k]) => k.endsWith('.weight') && k.startsWith('conv'),
    );
    const run = () =>
      tf.variableGrads(
        () => {
          const o = m.apply(x);
          return tf.add(tf.sum(o.scoreMap), tf.add(tf.sum(o.sizeMap), tf.sum(o.offsetMap))) as tf.Scalar;
        },
        params.map(([, p]) => p),
      );
    const { value, grads } = run();
    for (const [k, p] of params) {
      const g = await grads[p.name]!.data();
      expect(g.every(Number.isFinite), k).toBe(true);
    }
    const w5 = m.namedParameters().get('conv5_ctr.weight') as tf.Variable;
    const g5 = await grads[w5.name]!.data();
    expect(g5.some((v) => v !== 0)).toBe(true);
    tf.dispose([value, grads]);
    await expectNoLeak(() => run());
    x.dispose();
    m.dispose();
  });
});
