import { ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../../test-support/helpers';
import { readUnit } from '../../../../test-support/unit-fixtures';
import { boxXywhToXyxy, focalLoss, giouLoss, l1Loss, trackingLoss } from './losses';

const unit = readUnit('losses');
const tol = unit.json.tolerance as { abs: number; rel: number };
const fx = (k: string) => unit.tensors.get(k)!;

/** |actual − expected| ≤ abs + rel·|expected| everywhere (the fixture's tolerance). */
function expectWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const bound = tol.abs + tol.rel * Math.abs(expected[i]!);
    expect(
      Math.abs(actual[i]! - expected[i]!),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    ).toBeLessThanOrEqual(bound);
  }
}

/** The head's score map from logits: sigmoid clamped to [1e-4, 1 − 1e-4]. */
const scoreOf = (logits: tf.Tensor) => tf.clipByValue(tf.sigmoid(logits), 1e-4, 1 - 1e-4);

function fixtureInputs() {
  const logits = fx('in.score_logits');
  const [b, , h, w] = logits.shape as [number, number, number, number];
  // [B, 1, H, W] and NHWC [B, H, W, 1] have the same element order.
  return {
    logits: tf.tensor4d(logits.values, [b, h, w, 1]),
    pred: tf.tensor2d(fx('in.pred_cxcywh').values, [b, 4]),
    gt: tf.tensor2d(fx('in.gt_xywh').values, [b, 4]),
  };
}

describe('trackingLoss: the reference actor losses (units/losses)', () => {
  it('reproduces the Gaussian target, IoUs, focal, GIoU, L1 and the total', async () => {
    const { logits, pred, gt } = fixtureInputs();
    const score = scoreOf(logits);
    const r = trackingLoss({ scoreMap: score, predBoxes: pred }, gt);
    expect(r.heatmap.shape).toEqual([6, 16, 16, 1]);
    expectClose(await r.heatmap.data(), fx('out.heatmap').values, 1e-7, 'heatmap');
    expectWithin(await r.iou.data(), fx('out.iou').values, 'iou');
    expectWithin(await r.focal.data(), fx('out.focal').values, 'focal');
    expectWithin(await r.giou.data(), fx('out.giou_loss').values, 'giou');
    expectWithin(await r.l1.data(), fx('out.l1').values, 'l1');
    expectWithin(await r.total.data(), fx('out.total').values, 'total');
    tf.dispose([logits, pred, gt, score, ...Object.values(r)]);
  });

  it('has the reference gradients of the total with respect to the score logits and the boxes', async () => {
    const { logits, pred, gt } = fixtureInputs();
    const total = (l: tf.Tensor, p: tf.Tensor) =>
      trackingLoss({ scoreMap: scoreOf(l), predBoxes: p }, gt).total;
    const [dLogits, dPred] = tf.grads(total)([logits, pred]);
    expectWithin(await dLogits!.data(), fx('grad.score_logits').values, 'dtotal/dlogits');
    expectWithin(await dPred!.data(), fx('grad.pred_cxcywh').values, 'dtotal/dpred');
    tf.dispose([dLogits, dPred]);
    await expectNoLeak(() => tf.grads(total)([logits, pred]));
    await expectNoLeak(() => trackingLoss({ scoreMap: logits, predBoxes: pred }, gt));
    tf.dispose([logits, pred, gt]);
  });

  it('uses the given weights', async () => {
    const { logits, pred, gt } = fixtureInputs();
    const score = scoreOf(logits);
    const r = trackingLoss({ scoreMap: score, predBoxes: pred }, gt, {
      weights: { giou: 0, l1: 1, focal: 0 },
    });
    expect((await r.total.data())[0]).toBeCloseTo((await r.l1.data())[0]!, 6);
    tf.dispose([logits, pred, gt, score, ...Object.values(r)]);
  });

  it('rejects mismatched shapes with a ShapeError naming them', () => {
    const score = tf.zeros([2, 4, 4, 1]);
    const pred = tf.zeros([2, 4]);
    const gt3 = tf.zeros([3, 4]);
    expect(() => trackingLoss({ scoreMap: score, predBoxes: pred }, gt3)).toThrow(/gtXywh \[3, 4\]/);
    expect(() => trackingLoss({ scoreMap: tf.zeros([2, 4, 4]), predBoxes: pred }, pred)).toThrow(ShapeError);
    expect(() => trackingLoss({ scoreMap: score, predBoxes: tf.zeros([2, 3]) }, pred)).toThrow(/predBoxes/);
    expect(() => focalLoss(score, tf.zeros([2, 4, 4, 2]))).toThrow(/prediction \[2, 4, 4, 1\]/);
    tf.dispose([score, pred, gt3]);
  });
});

describe('the loss parts, by hand', () => {
  // Every tensor a case makes is disposed with its scope.
  beforeEach(() => tf.engine().startScope());
  afterEach(() => tf.engine().endScope());

  it('focalLoss: positives where the target is 1, negatives weighted by (1 − t)^4', async () => {
    const pos = -Math.log(0.5) * 0.25;
    const neg = -Math.log(0.75) * 0.25 ** 2 * 0.5 ** 4;
    const l = focalLoss(tf.tensor2d([[0.5, 0.25]]), tf.tensor2d([[1, 0.5]]));
    expect((await l.data())[0]).toBeCloseTo(pos + neg, 6);
    // No positive cell: the negative term alone (not divided by zero).
    const l0 = focalLoss(tf.tensor2d([[0.25]]), tf.tensor2d([[0.5]]));
    expect((await l0.data())[0]).toBeCloseTo(neg, 7);
    // Two positives: the sum over cells divided by 2.
    const l2 = focalLoss(tf.tensor1d([0.5, 0.5, 0.25]), tf.tensor1d([1, 1, 0.5]));
    expect((await l2.data())[0]).toBeCloseTo((2 * pos + neg) / 2, 6);
  });

  it('giouLoss: overlapping and disjoint boxes', async () => {
    const pred = tf.tensor2d([
      [0, 0, 2, 2],
      [0, 0, 1, 1],
    ]);
    const gt = tf.tensor2d([
      [1, 1, 3, 3],
      [2, 0, 3, 1],
    ]);
    const { loss, iou } = giouLoss(pred, gt);
    expectClose(await iou.data(), [1 / 7, 0], 1e-7, 'iou');
    const giou = [1 / 7 - 2 / 9, -1 / 3];
    expect((await loss.data())[0]).toBeCloseTo((1 - giou[0]! + 1 - giou[1]!) / 2, 6);
    // Disjoint boxes still get a gradient from the enclosing-box term.
    const g = tf.grad((p: tf.Tensor) => giouLoss(p, gt).loss)(pred);
    expect(
      Array.from(await g.data())
        .slice(4)
        .some((v) => v !== 0),
    ).toBe(true);
  });

  it('l1Loss is the mean absolute difference; boxXywhToXyxy adds w and h', async () => {
    expect((await l1Loss(tf.tensor1d([1, 2, 3]), tf.tensor1d([2, 2, 1])).data())[0]).toBeCloseTo(1, 7);
    expect(Array.from(await boxXywhToXyxy(tf.tensor2d([[0.25, 0.5, 0.25, 0.125]])).data())).toEqual([
      0.25, 0.5, 0.5, 0.625,
    ]);
  });
});
