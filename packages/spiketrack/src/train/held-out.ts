import { iou, OVERLAP_THRESHOLDS } from '../eval/metrics';
import type { RgbImage } from '../frames/rgb-image';
import type { TrackingNetwork } from '../model/tracking-network';
import type { Box } from '../tracker/box';
import { Tracker } from '../tracker/tracker';

/** A held-out sequence for evaluation during training. */
export interface HeldOutSequence {
  readonly name: string;
  /** The ground truth, one box per frame (frame 0 initializes the tracker). */
  readonly groundTruth: readonly Box[];
  /** The frames, in order. */
  frame(i: number): RgbImage | Promise<RgbImage>;
}

/** What {@link evaluateHeldOut} measured. */
export interface HeldOutResult {
  /** Mean over sequences of the success AUC (21 IoU thresholds 0:0.05:1, frame 0 excluded). */
  successAuc: number;
  /** Mean IoU over all tracked frames. */
  meanIou: number;
  perSequence: Record<string, { successAuc: number; meanIou: number }>;
}

/**
 * Tracks each held-out sequence with the model (any {@link TrackingNetwork}; the tracker's fast path, eval mode) and scores it
 * as pytracking does (success = IoU > threshold, over the thresholds 0:0.05:1). The model is left
 * in eval mode; the trainer puts it back in training mode at its next step.
 */
export async function evaluateHeldOut(
  model: TrackingNetwork,
  sequences: readonly HeldOutSequence[],
): Promise<HeldOutResult> {
  const perSequence: HeldOutResult['perSequence'] = {};
  let aucSum = 0;
  let iouSum = 0;
  let frames = 0;
  for (const seq of sequences) {
    const tracker = await Tracker.create({ model });
    const ious: number[] = [];
    try {
      await tracker.initialize(await seq.frame(0), seq.groundTruth[0] as Box);
      for (let i = 1; i < seq.groundTruth.length; i++) {
        const { box } = await tracker.track(await seq.frame(i));
        ious.push(iou(box, seq.groundTruth[i] as Box));
      }
    } finally {
      tracker.dispose();
    }
    const n = Math.max(ious.length, 1);
    const curve = OVERLAP_THRESHOLDS.map((t) => ious.filter((v) => v > t).length / n);
    const auc = curve.reduce((a, b) => a + b, 0) / curve.length;
    const m = ious.reduce((a, b) => a + b, 0) / n;
    perSequence[seq.name] = { successAuc: auc, meanIou: m };
    aucSum += auc;
    iouSum += ious.reduce((a, b) => a + b, 0);
    frames += ious.length;
  }
  return {
    successAuc: sequences.length ? aucSum / sequences.length : 0,
    meanIou: frames ? iouSum / frames : 0,
    perSequence,
  };
}
