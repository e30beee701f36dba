/**
 * GOT-10k's own protocol, as its official toolkit (github.com/got-10k/toolkit,
 * `got10k/experiments/got10k.py` and `got10k/utils/metrics.py`) and evaluation server compute
 * it, for comparing GOT-10k val numbers with the server's; `evaluate` follows pytracking instead.
 * - Frame 0 (the initialization) is dropped.
 * - Only frames where the target is visible count: `cover > 0` (else `absence == 0` where only
 *   that label is known, else every frame).
 * - IoU is continuous (no −1 pixel convention): the intersection spans `max(x) … min(x + w)`;
 *   `iou = inter / (union + eps)` clipped to [0, 1]. With the image size known (`meta_info.ini`'s
 *   `resolution`), both boxes are first clipped to the image, as the toolkit's `bound`.
 * - AO is the mean IoU and SR the fraction with IoU > 0.5 (0.75), over the frames of all
 *   sequences pooled (overall) or of one sequence.
 */
import { DatasetError, type Box, type Sequence } from './types';

const EPS = 2 ** -52; // np.finfo(float).eps

function clipToImage(b: Box, size: readonly [number, number] | undefined): Box {
  if (!size) return b;
  const x = Math.min(Math.max(b[0], 0), size[0]);
  const y = Math.min(Math.max(b[1], 0), size[1]);
  return [x, y, Math.min(Math.max(b[2], 0), size[0] - x), Math.min(Math.max(b[3], 0), size[1] - y)];
}

/** The GOT-10k toolkit's IoU of two xywh boxes (continuous; optional clipping to `[width, height]`). */
export function got10kIou(a: Box, b: Box, imageSize?: readonly [number, number]): number {
  const p = clipToImage(a, imageSize);
  const q = clipToImage(b, imageSize);
  const w = Math.max(Math.min(p[0] + p[2], q[0] + q[2]) - Math.max(p[0], q[0]), 0);
  const h = Math.max(Math.min(p[1] + p[3], q[1] + q[3]) - Math.max(p[1], q[1]), 0);
  const inter = w * h;
  return Math.min(Math.max(inter / (p[2] * p[3] + q[2] * q[3] - inter + EPS), 0), 1);
}

/** AO, SR0.50 and SR0.75 over a set of frames. */
export interface Got10kScores {
  readonly ao: number;
  readonly sr50: number;
  readonly sr75: number;
  /** The number of frames scored. */
  readonly frames: number;
}

/** The toolkit's scores: overall (frames pooled) and per sequence. */
export interface Got10kEvaluation {
  readonly overall: Got10kScores;
  readonly sequences: Record<string, Got10kScores>;
}

function scoresOf(ious: readonly number[]): Got10kScores {
  const n = ious.length;
  const frac = (t: number) => ious.filter((v) => v > t).length / n;
  return { ao: ious.reduce((a, b) => a + b, 0) / n, sr50: frac(0.5), sr75: frac(0.75), frames: n };
}

/** The IoUs the toolkit scores for one sequence (frames 1…, visible ones). */
function sequenceIous(pred: readonly Box[], seq: Sequence): number[] {
  const gt = seq.groundTruth;
  if (!seq.hasGroundTruth)
    throw new DatasetError(`${seq.name}: the GOT-10k ground truth is not public (test split)`);
  if (pred.length !== gt.length) {
    throw new DatasetError(
      `results of ${seq.name}: ${pred.length} boxes for ${gt.length} frames (GOT-10k needs one per frame)`,
    );
  }
  const out: number[] = [];
  for (let i = 1; i < gt.length; i++) {
    const visible = seq.cover ? seq.cover[i]! > 0 : seq.absent ? !seq.absent[i] : true;
    if (visible) out.push(got10kIou(pred[i]!, gt[i]!, seq.imageSize));
  }
  return out;
}

/**
 * Scores results with the GOT-10k toolkit's protocol (see the module notes). `results`: boxes per
 * sequence name, frame 0 included.
 */
export function evaluateGot10kProtocol(
  results: ReadonlyMap<string, readonly Box[]>,
  sequences: readonly Sequence[],
): Got10kEvaluation {
  const all: number[] = [];
  const per: Record<string, Got10kScores> = {};
  for (const seq of sequences) {
    const pred = results.get(seq.name);
    if (!pred) throw new DatasetError(`no results for sequence '${seq.name}' (expected ${seq.name}.txt)`);
    const ious = sequenceIous(pred, seq);
    if (ious.length === 0) throw new DatasetError(`${seq.name}: no visible frame after frame 0`);
    per[seq.name] = scoresOf(ious);
    all.push(...ious);
  }
  if (all.length === 0) throw new DatasetError('no sequences to evaluate');
  return { overall: scoresOf(all), sequences: per };
}
