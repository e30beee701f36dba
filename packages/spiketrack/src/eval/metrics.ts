/**
 * One-pass evaluation metrics with the conventions of the published numbers: those of pytracking's
 * `pytracking/analysis/extract_results.py` and `plot_results.py` (github.com/visionml/pytracking),
 * which SpikeTrack's own analysis code (`lib/test/analysis/extract_results.py`, OSTrack-family)
 * copies. Each convention below cites what it follows.
 *
 * Per frame (`calc_seq_err_robust`):
 * 1. Predictions with NaN or a negative width/height are rejected (pytracking raises 'Invalid results').
 * 2. A zero-size prediction (w = 0 or h = 0) in frame i ≥ 1 is replaced by the (already replaced)
 *    previous box, unless the ground truth of frame i is NaN.
 * 3. Length mismatch: longer predictions are cut to the ground truth; shorter ones are an error on
 *    LaSOT and padded with zero boxes elsewhere (as pytracking; reported as a warning here).
 * 4. Frame 0 is set to the ground truth (the initialization box).
 * 5. A frame is valid when its ground-truth box has w > 0 and h > 0 (a NaN box is invalid), and,
 *    where the sequence has visibility flags (LaSOT), the target is visible.
 * 6. IoU and center use the `−1` pixel convention: a box covers pixels x … x + w − 1, its center
 *    is `xy + (wh − 1)/2`, the intersection is `min(br) − max(tl) + 1` clamped at 0, and the
 *    union `w₁h₁ + w₂h₂ − intersection`. The normalized center error divides both centers by the
 *    ground truth's (w, h) first.
 * 7. Invalid frames get overlap −1 (never a success), center error +∞ (never a success; UAV: −1,
 *    always a success), normalized center error −1 (always a success: pytracking's behaviour,
 *    kept for parity). On LaSOT, frames where the target is not visible get center and normalized
 *    center errors +∞.
 *
 * Per sequence (`extract_results`, with `exclude_invalid_frames=False`, pytracking's default and
 * what its analysis scripts pass): the success, precision and normalized-precision curves count
 * frames with overlap > threshold (strictly) over the 21 thresholds linspace(0, 1, 21), center
 * error ≤ threshold over 0, 1, …, 50 px, and normalized error ≤ threshold over 0, 0.01, …, 0.5;
 * each count is divided by the number of frames (all of them; only the valid ones with
 * `excludeInvalidFrames: true`). The average overlap (AO) is the mean IoU over the valid frames.
 *
 * Over a dataset (`plot_results.get_auc_curve` / `get_prec_curve`): the curves are averaged over
 * sequences; success AUC is the mean of the averaged success curve, precision its value at 20 px,
 * normalized precision at 0.20, SR0.50 and SR0.75 the success curve at 0.50 and 0.75 (pytracking's
 * OP50/OP75), AO the mean of the sequences' AO. GOT-10k's own toolkit differs slightly: it drops
 * frame 0, keeps only frames with `cover > 0`, and pools the frames of all sequences; the
 * evaluation server applies those rules to the test split.
 */
import { type Box, DatasetError, type Sequence } from './types';

/**
 * The 21 overlap thresholds 0, 0.05, …, 1, computed as pytracking's float64
 * `torch.arange(0, 1.05, 0.05)` (and numpy's `linspace(0, 1, 21)`) computes them: `i · 0.05`, so
 * bit for bit the same values (`3 · 0.05` is 0.15000000000000002, not 0.15).
 */
export const OVERLAP_THRESHOLDS: readonly number[] = Array.from({ length: 21 }, (_, i) => i * 0.05);
/** The 51 center-error thresholds 0, 1, …, 50 pixels. */
export const CENTER_THRESHOLDS: readonly number[] = Array.from({ length: 51 }, (_, i) => i);
/** The 51 normalized center-error thresholds 0, 0.01, …, 0.5. */
export const NORM_CENTER_THRESHOLDS: readonly number[] = Array.from({ length: 51 }, (_, i) => i / 100);

/** Index of 20 px in {@link CENTER_THRESHOLDS} and of 0.20 in {@link NORM_CENTER_THRESHOLDS}. */
const AT_20 = 20;

/** IoU of two xywh boxes with the `−1` pixel convention (see the module notes). */
export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a[0] + a[2] - 1, b[0] + b[2] - 1) - Math.max(a[0], b[0]) + 1);
  const h = Math.max(0, Math.min(a[1] + a[3] - 1, b[1] + b[3] - 1) - Math.max(a[1], b[1]) + 1);
  const inter = w * h;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

/**
 * Distance between the centers `xy + (wh − 1)/2` of `pred` and `gt`; with `normalized`, both
 * centers are divided by the ground truth's (w, h) first.
 */
export function centerError(pred: Box, gt: Box, normalized = false): number {
  const sx = normalized ? gt[2] : 1;
  const sy = normalized ? gt[3] : 1;
  const dx = (pred[0] + (pred[2] - 1) / 2) / sx - (gt[0] + (gt[2] - 1) / 2) / sx;
  const dy = (pred[1] + (pred[3] - 1) / 2) / sy - (gt[1] + (gt[3] - 1) / 2) / sy;
  return Math.sqrt(dx * dx + dy * dy);
}

/** Options of the evaluation. */
export interface EvaluateOptions {
  /** Divide the curves by the number of valid frames instead of all frames (pytracking's flag; default false). */
  readonly excludeInvalidFrames?: boolean;
}

/** The per-frame errors of one sequence, after the conventions above. */
export interface FrameErrors {
  /** IoU per frame; −1 on invalid frames. */
  readonly overlap: Float64Array;
  /** Center error in pixels; +∞ (UAV: −1) on invalid frames, +∞ on LaSOT frames without the target. */
  readonly center: Float64Array;
  /** Normalized center error; −1 on invalid frames, +∞ on LaSOT frames without the target. */
  readonly normCenter: Float64Array;
  /** Whether each frame is valid (positive ground-truth size, target visible where known). */
  readonly valid: boolean[];
  /** The predictions actually scored (after replacement, cutting or padding, and frame 0). */
  readonly predictions: Box[];
  /** Length mismatches, in words. */
  readonly warnings: string[];
}

/** The scores of one sequence or of a dataset; rates are fractions in [0, 1]. */
export interface Scores {
  /** Area under the success curve: the mean of the 21 success rates. */
  readonly success_auc: number;
  /** Fraction of frames with center error ≤ 20 px. */
  readonly precision: number;
  /** Fraction of frames with normalized center error ≤ 0.20. */
  readonly norm_precision: number;
  /** Average overlap over the valid frames. */
  readonly ao: number;
  /** Success rate at overlap 0.50. */
  readonly sr50: number;
  /** Success rate at overlap 0.75. */
  readonly sr75: number;
}

/** A sequence's scores, with its frame counts. */
export interface SequenceScores extends Scores {
  readonly frames: number;
  readonly valid_frames: number;
}

/** Success, precision and normalized-precision curves over the thresholds above. */
export interface Curves {
  readonly success: number[];
  readonly precision: number[];
  readonly norm_precision: number[];
}

/** One sequence's evaluation. */
export interface SequenceEvaluation {
  readonly scores: SequenceScores;
  readonly curves: Curves;
  readonly warnings: string[];
}

/** A tracker's evaluation on a set of sequences. */
export interface Evaluation {
  /** Dataset-level scores (curves averaged over sequences). */
  readonly overall: Scores;
  /** Per-sequence scores, by sequence name, in the dataset's order. */
  readonly sequences: Record<string, SequenceScores>;
  /** The averaged curves (for the plots). */
  readonly curves: Curves;
  readonly warnings: string[];
}

function checkPredictions(pred: readonly Box[], name: string): void {
  pred.forEach((b, i) => {
    if (b.length !== 4 || b.some((v) => Number.isNaN(v))) {
      throw new DatasetError(
        `results of ${name}: frame ${i + 1} is not a box of 4 numbers: ${JSON.stringify(b)}`,
      );
    }
    if (b[2] < 0 || b[3] < 0) {
      throw new DatasetError(`results of ${name}: frame ${i + 1} has a negative size (w ${b[2]}, h ${b[3]})`);
    }
  });
}

/** The per-frame errors of `pred` on `seq` (see the module notes for every rule). */
export function frameErrors(pred: readonly Box[], seq: Sequence): FrameErrors {
  const gt = seq.groundTruth;
  const n = gt.length;
  if (n === 0) throw new DatasetError(`${seq.name}: the ground truth is empty`);
  checkPredictions(pred, seq.name);
  const warnings: string[] = [];
  const p: Box[] = pred.map((b) => [b[0], b[1], b[2], b[3]]);
  for (let i = 1; i < p.length; i++) {
    const g = gt[i];
    if ((p[i]![2] === 0 || p[i]![3] === 0) && g && !g.some(Number.isNaN)) p[i] = [...p[i - 1]!];
  }
  if (p.length > n) {
    warnings.push(`${seq.name}: ${p.length} result boxes for ${n} frames; the extra ones are ignored`);
    p.length = n;
  } else if (p.length < n) {
    if (seq.dataset === 'lasot') {
      throw new DatasetError(
        `results of ${seq.name}: ${p.length} boxes for ${n} frames (LaSOT requires one per frame)`,
      );
    }
    warnings.push(
      `${seq.name}: ${p.length} result boxes for ${n} frames; the missing ones count as zero boxes`,
    );
    while (p.length < n) p.push([0, 0, 0, 0]);
  }
  p[0] = [...gt[0]!];

  const overlap = new Float64Array(n);
  const center = new Float64Array(n);
  const normCenter = new Float64Array(n);
  const valid: boolean[] = [];
  const vis = seq.targetVisible;
  if (vis && vis.length !== n) {
    throw new DatasetError(`${seq.name}: ${vis.length} visibility flags for ${n} ground-truth boxes`);
  }
  for (let i = 0; i < n; i++) {
    const g = gt[i]!;
    const ok = g[2] > 0 && g[3] > 0 && (vis ? vis[i]! : true);
    valid.push(ok);
    if (ok) {
      overlap[i] = iou(p[i]!, g);
      center[i] = centerError(p[i]!, g);
      normCenter[i] = centerError(p[i]!, g, true);
    } else {
      overlap[i] = -1;
      center[i] = seq.dataset === 'uav' ? -1 : Number.POSITIVE_INFINITY;
      normCenter[i] = -1;
    }
    if (seq.dataset === 'lasot' && vis && !vis[i]) {
      center[i] = Number.POSITIVE_INFINITY;
      normCenter[i] = Number.POSITIVE_INFINITY;
    }
  }
  return { overlap, center, normCenter, valid, predictions: p, warnings };
}

function rateCurve(
  errors: Float64Array,
  thresholds: readonly number[],
  above: boolean,
  length: number,
): number[] {
  return thresholds.map((t) => {
    let c = 0;
    for (const e of errors) if (above ? e > t : e <= t) c++;
    return c / length;
  });
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function scoresOf(curves: Curves, ao: number): Scores {
  return {
    success_auc: mean(curves.success),
    precision: curves.precision[AT_20]!,
    norm_precision: curves.norm_precision[AT_20]!,
    ao,
    sr50: curves.success[10]!,
    sr75: curves.success[15]!,
  };
}

/** Evaluates one sequence's predictions (xywh per frame, frame 0 included). */
export function evaluateSequence(
  pred: readonly Box[],
  seq: Sequence,
  opts: EvaluateOptions = {},
): SequenceEvaluation {
  if (!seq.hasGroundTruth) {
    throw new DatasetError(
      `${seq.name}: the ${seq.dataset} ground truth is not public (only the first box); package the results for the evaluation server instead`,
    );
  }
  const e = frameErrors(pred, seq);
  const validCount = e.valid.filter(Boolean).length;
  if (validCount === 0) throw new DatasetError(`${seq.name}: no frame has a valid ground-truth box`);
  const length = opts.excludeInvalidFrames ? validCount : e.valid.length;
  const curves: Curves = {
    success: rateCurve(e.overlap, OVERLAP_THRESHOLDS, true, length),
    precision: rateCurve(e.center, CENTER_THRESHOLDS, false, length),
    norm_precision: rateCurve(e.normCenter, NORM_CENTER_THRESHOLDS, false, length),
  };
  let sum = 0;
  e.overlap.forEach((o, i) => {
    if (e.valid[i]) sum += o;
  });
  return {
    scores: { ...scoresOf(curves, sum / validCount), frames: e.valid.length, valid_frames: validCount },
    curves,
    warnings: e.warnings,
  };
}

/** Finds a sequence's results by its name or one of its aliases. */
function resultsFor(results: ReadonlyMap<string, readonly Box[]>, seq: Sequence): readonly Box[] {
  for (const name of [seq.name, ...(seq.aliases ?? [])]) {
    const r = results.get(name);
    if (r) return r;
  }
  throw new DatasetError(`no results for sequence '${seq.name}' (expected ${seq.name}.txt)`);
}

/**
 * Evaluates a tracker's results (`results`: boxes per sequence name, frame 0 included) on
 * `sequences`, with pytracking's conventions (module notes). Every sequence must have results.
 */
export function evaluate(
  results: ReadonlyMap<string, readonly Box[]> | Readonly<Record<string, readonly Box[]>>,
  sequences: readonly Sequence[],
  opts: EvaluateOptions = {},
): Evaluation {
  if (sequences.length === 0) throw new DatasetError('no sequences to evaluate');
  const map = results instanceof Map ? results : new Map(Object.entries(results));
  const per: Record<string, SequenceScores> = {};
  const all: Curves[] = [];
  const warnings: string[] = [];
  for (const seq of sequences) {
    const r = evaluateSequence(resultsFor(map, seq), seq, opts);
    per[seq.name] = r.scores;
    all.push(r.curves);
    warnings.push(...r.warnings);
  }
  const avg = (key: keyof Curves) => all[0]![key].map((_, i) => mean(all.map((c) => c[key][i]!)));
  const curves: Curves = {
    success: avg('success'),
    precision: avg('precision'),
    norm_precision: avg('norm_precision'),
  };
  return {
    overall: scoresOf(curves, mean(Object.values(per).map((s) => s.ao))),
    sequences: per,
    curves,
    warnings,
  };
}
