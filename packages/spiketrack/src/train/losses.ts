/**
 * The reference actor's losses (`lib/train/actors/spiketrack.py` `compute_losses`): a weighted
 * focal loss of the center score map against the Gaussian target, and GIoU and L1 losses of the
 * predicted box, summed as `2·giou + 5·l1 + 1·focal`. Pure, differentiable tensor functions; each
 * call is tidy.
 */
import { formatShape, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { generateHeatmap } from './heatmap';

/** Options of {@link focalLoss}: the exponents of CenterNet's focal loss (default 2 and 4). */
export interface FocalLossOptions {
  /** Exponent of `(1 − p)` on positives and of `p` on negatives (default 2). */
  alpha?: number;
  /** Exponent of `(1 − target)` that down-weights negatives near a centre (default 4). */
  beta?: number;
}

function assertSame(where: string, a: tf.Tensor, b: tf.Tensor, na: string, nb: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(
      `${where}: ${na} ${formatShape(a.shape)} and ${nb} ${formatShape(b.shape)} must have the same shape`,
    );
  }
}

function assertBoxes(where: string, t: tf.Tensor, name: string): void {
  if (t.rank !== 2 || t.shape[1] !== 4) {
    throw new ShapeError(`${where}: expected ${name} of shape [N, 4], got ${formatShape(t.shape)}`);
  }
}

/**
 * The reference's `FocalLoss(alpha, beta)` (CenterNet's penalty-reduced focal loss) of predicted
 * probabilities `prediction` (the head's clamped-sigmoid `scoreMap`) against a Gaussian `target`
 * of the same shape: positives are the cells where the target is exactly 1,
 *
 * `loss = −(Σ_pos log(p)(1 − p)^α + Σ_neg log(1 − p) p^α (1 − t)^β) / max(#pos, 1)`.
 *
 * With no positive cell this is the negative term alone, as the reference.
 */
export function focalLoss(
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: FocalLossOptions = {},
): tf.Scalar {
  assertSame('focalLoss', prediction, target, 'prediction', 'target');
  const alpha = options.alpha ?? 2;
  const beta = options.beta ?? 4;
  return tf.tidy(() => {
    const pos = tf.cast(tf.equal(target, 1), 'float32');
    const neg = tf.cast(tf.less(target, 1), 'float32');
    const negWeights = tf.pow(tf.sub(1, target), beta);
    const p = tf.maximum(prediction, 1e-12);
    const posLoss = tf.sum(tf.mul(tf.mul(tf.log(p), tf.pow(tf.sub(1, p), alpha)), pos));
    const negLoss = tf.sum(tf.mul(tf.mul(tf.mul(tf.log(tf.sub(1, p)), tf.pow(p, alpha)), negWeights), neg));
    const numPos = tf.sum(pos);
    return tf.neg(tf.div(tf.add(posLoss, negLoss), tf.maximum(numPos, 1))) as tf.Scalar;
  });
}

/** `(cx, cy, w, h)` → `(x1, y1, x2, y2)`, the reference's `box_cxcywh_to_xyxy`, on `[N, 4]`. */
export function boxCxcywhToXyxy(boxes: tf.Tensor): tf.Tensor2D {
  assertBoxes('boxCxcywhToXyxy', boxes, 'boxes');
  return tf.tidy(() => {
    const [cx, cy, w, h] = tf.split(boxes, 4, 1) as tf.Tensor2D[];
    const hw = tf.mul(w!, 0.5);
    const hh = tf.mul(h!, 0.5);
    return tf.concat([tf.sub(cx!, hw), tf.sub(cy!, hh), tf.add(cx!, hw), tf.add(cy!, hh)], 1) as tf.Tensor2D;
  });
}

/** `(x, y, w, h)` → `(x1, y1, x2, y2)`, the reference's `box_xywh_to_xyxy`, on `[N, 4]`. */
export function boxXywhToXyxy(boxes: tf.Tensor): tf.Tensor2D {
  assertBoxes('boxXywhToXyxy', boxes, 'boxes');
  return tf.tidy(() => {
    const [x, y, w, h] = tf.split(boxes, 4, 1) as tf.Tensor2D[];
    return tf.concat([x!, y!, tf.add(x!, w!), tf.add(y!, h!)], 1) as tf.Tensor2D;
  });
}

/** The result of {@link giouLoss}. */
export interface GiouLossResult {
  /** `mean(1 − GIoU)`. */
  loss: tf.Scalar;
  /** `[N]`: the IoU of each box pair. */
  iou: tf.Tensor1D;
}

/**
 * The reference's `giou_loss`: `mean(1 − GIoU)` of box pairs `[N, 4]` in `(x1, y1, x2, y2)`,
 * with `GIoU = IoU − (C − U)/C` (U the union, C the smallest enclosing box), and the IoUs.
 */
export function giouLoss(pred: tf.Tensor, gt: tf.Tensor): GiouLossResult {
  assertBoxes('giouLoss', pred, 'pred');
  assertSame('giouLoss', pred, gt, 'pred', 'gt');
  const [loss, iou] = tf.tidy(() => {
    const [p1, p2] = tf.split(pred, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const [g1, g2] = tf.split(gt, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const widthTimesHeight = (wh: tf.Tensor) => {
      const [w, h] = tf.split(wh, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      return tf.reshape(tf.mul(w, h), [-1]);
    };
    const area = (lo: tf.Tensor, hi: tf.Tensor) => widthTimesHeight(tf.sub(hi, lo));
    // (hi − lo) clamped at 0 (torch's clamp passes the gradient at 0, as clipByValue does).
    const clampedArea = (lo: tf.Tensor, hi: tf.Tensor) =>
      widthTimesHeight(tf.clipByValue(tf.sub(hi, lo), 0, Number.MAX_VALUE));
    const inter = clampedArea(tf.maximum(p1, g1), tf.minimum(p2, g2));
    const union = tf.sub(tf.add(area(p1, p2), area(g1, g2)), inter);
    const iouT = tf.div(inter, union);
    const enclosing = clampedArea(tf.minimum(p1, g1), tf.maximum(p2, g2));
    const giou = tf.sub(iouT, tf.div(tf.sub(enclosing, union), enclosing));
    return [tf.mean(tf.sub(1, giou)) as tf.Scalar, iouT as tf.Tensor1D];
  });
  return { loss: loss!, iou: iou! };
}

/** torch's `L1Loss()`: the mean absolute difference of `pred` and `gt` (same shape). */
export function l1Loss(pred: tf.Tensor, gt: tf.Tensor): tf.Scalar {
  assertSame('l1Loss', pred, gt, 'pred', 'gt');
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(pred, gt))) as tf.Scalar);
}

/** The weights of {@link trackingLoss}'s sum (the reference's: giou 2, l1 5, focal 1). */
export interface LossWeights {
  giou: number;
  l1: number;
  focal: number;
}

/** The reference's loss weights. */
export const REFERENCE_LOSS_WEIGHTS: Readonly<LossWeights> = Object.freeze({ giou: 2, l1: 5, focal: 1 });

/** What {@link trackingLoss} compares with the ground truth. */
export interface TrackingPrediction {
  /** `[B, F, F, 1]`: the head's score map (clamped-sigmoid probabilities). */
  scoreMap: tf.Tensor;
  /** `[B, 4]`: the predicted boxes `(cx, cy, w, h)` as fractions of the search crop. */
  predBoxes: tf.Tensor;
}

/** Options of {@link trackingLoss}. */
export interface TrackingLossOptions extends FocalLossOptions {
  /** Default {@link REFERENCE_LOSS_WEIGHTS}. */
  weights?: Partial<LossWeights>;
  /** CenterNet's minimum overlap of the Gaussian target (default 0.7). */
  minOverlap?: number;
}

/** The losses of one batch: the weighted `total` (to differentiate) and its parts. */
export interface TrackingLossResult {
  total: tf.Scalar;
  giou: tf.Scalar;
  l1: tf.Scalar;
  focal: tf.Scalar;
  /** `[B]` IoU of each predicted box with its ground truth. */
  iou: tf.Tensor1D;
  /** `[B, F, F, 1]`: the Gaussian target of the score map. */
  heatmap: tf.Tensor4D;
}

/**
 * The reference actor's `compute_losses` for one search frame: the Gaussian target of `gtXywh`
 * (`[B, 4]`, x, y, w, h as fractions of the search crop) on the score grid, the focal loss of
 * `scoreMap` against it, and GIoU and L1 of `predBoxes` (as x1, y1, x2, y2) against the ground
 * truth (as x1, y1, x2, y2, clamped to [0, 1]). `total = 2·giou + 5·l1 + 1·focal` by default.
 * Every returned tensor is the caller's to dispose.
 */
export function trackingLoss(
  prediction: TrackingPrediction,
  gtXywh: tf.Tensor,
  options: TrackingLossOptions = {},
): TrackingLossResult {
  const { scoreMap, predBoxes } = prediction;
  const b = predBoxes.shape[0]!;
  assertBoxes('trackingLoss', predBoxes, 'predBoxes');
  assertBoxes('trackingLoss', gtXywh, 'gtXywh');
  const f = scoreMap.shape[1]!;
  if (scoreMap.rank !== 4 || scoreMap.shape[0] !== b || scoreMap.shape[2] !== f || scoreMap.shape[3] !== 1) {
    throw new ShapeError(
      `trackingLoss: expected scoreMap of shape [${b}, F, F, 1] (as predBoxes [${b}, 4]), got ${formatShape(scoreMap.shape)}`,
    );
  }
  if (gtXywh.shape[0] !== b) {
    throw new ShapeError(
      `trackingLoss: gtXywh ${formatShape(gtXywh.shape)} and predBoxes ${formatShape(predBoxes.shape)} must have the same batch`,
    );
  }
  const w = { ...REFERENCE_LOSS_WEIGHTS, ...options.weights };
  const heatmap = generateHeatmap(gtXywh, { featSize: f, minOverlap: options.minOverlap });
  const parts = tf.tidy(() => {
    const pred = boxCxcywhToXyxy(predBoxes);
    const gt = tf.clipByValue(boxXywhToXyxy(gtXywh), 0, 1);
    const { loss: giou, iou } = giouLoss(pred, gt);
    const l1 = l1Loss(pred, gt);
    const focal = focalLoss(scoreMap, heatmap, options);
    const total = tf.addN([tf.mul(giou, w.giou), tf.mul(l1, w.l1), tf.mul(focal, w.focal)]) as tf.Scalar;
    return { total, giou, l1, focal, iou };
  });
  return { ...parts, heatmap };
}
