/** What the trainer minimises: the loss interface, and SpikeTrack's loss as one. */
import * as tf from '@tensorflow/tfjs-core';
import type { HeadOutput } from '../head/center-predictor';
import { type TrackingLossOptions, trackingLoss } from './losses';

/** What a loss function receives: the batch's targets. */
export interface TrainingTargets {
  /** `[B, 4]` ground-truth boxes in the search crop: (x, y, w, h) as fractions of R. */
  boxes: tf.Tensor2D;
  /** The search crop size R. */
  resolution: number;
}

/** A loss: the total to minimise, and named parts to log. Called inside the gradient tape. */
export type TrainingLoss = (
  output: HeadOutput,
  targets: TrainingTargets,
) => { total: tf.Scalar; parts: Record<string, tf.Scalar> };

/**
 * SpikeTrack's loss as a {@link TrainingLoss}: {@link trackingLoss} (2·GIoU + 5·L1 + 1·focal on the
 * Gaussian target), logging `giou`, `l1`, `focal` and the batch's `mean_iou`.
 */
export function referenceTrainingLoss(options: TrackingLossOptions = {}): TrainingLoss {
  return (output, { boxes }) => {
    const r = trackingLoss(output, boxes, options);
    r.heatmap.dispose();
    return {
      total: r.total,
      parts: { giou: r.giou, l1: r.l1, focal: r.focal, mean_iou: tf.mean(r.iou) as tf.Scalar },
    };
  };
}
