/**
 * The data model of the evaluation toolkit: boxes, sequences and datasets, as the readers return
 * them and the metrics take them. Browser-safe (no file system here).
 */

/**
 * An axis-aligned box `[x, y, w, h]` in pixels, (x, y) the top-left corner. NaNs mark a missing
 * box. The same type as the tracker's `Box` (the package exports that one).
 */
export type Box = readonly [x: number, y: number, w: number, h: number];

/** The benchmark layouts `loadDataset` reads, named as `spiketrack metrics --format` takes them. */
export const DATASET_FORMATS = ['lasot', 'got10k', 'otb', 'uav', 'nfs', 'trackingnet', 'tnl2k'] as const;

/** One of {@link DATASET_FORMATS}. */
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** One tracking sequence of a benchmark. */
export interface Sequence {
  /** The name its results file carries: `<results>/<name>.txt` (pytracking's names). */
  readonly name: string;
  /** The benchmark it belongs to: selects the dataset-specific metric rules. */
  readonly dataset: DatasetFormat;
  /** The frame image paths, in order (they are not opened by the readers; they need not exist for metrics). */
  readonly frames: string[];
  /**
   * The ground truth, one box per frame (xywh). A row of NaNs is a frame without annotation
   * (UAV123 writes `NaN,NaN,NaN,NaN`). On test splits without public ground truth (GOT-10k test,
   * TrackingNet test) only the first frame's box is known: see `hasGroundTruth`.
   */
  readonly groundTruth: Box[];
  /** False when only the initial box is public (GOT-10k test, TrackingNet test). */
  readonly hasGroundTruth: boolean;
  /**
   * Per-frame target visibility used by the metrics (LaSOT only, as pytracking:
   * `target_visible = !(full_occlusion | out_of_view)`).
   */
  readonly targetVisible?: boolean[];
  /** GOT-10k `absence.label` (true = the target is absent in that frame). Informational. */
  readonly absent?: boolean[];
  /** GOT-10k `cover.label`: visible fraction of the target in eighths (0..8). Informational. */
  readonly cover?: number[];
  /** The image size `[width, height]` where the dataset states it (GOT-10k's `meta_info.ini`). */
  readonly imageSize?: readonly [number, number];
  /** The object class where the benchmark gives one (LaSOT's class folder, OTB's table). */
  readonly objectClass?: string;
  /** TNL2K's `language.txt`. */
  readonly language?: string;
  /** Other names a results file may use for this sequence (`Jogging-1` for OTB's `Jogging_1`). */
  readonly aliases?: string[];
}

/** A benchmark as read from disk. */
export interface Dataset {
  /** `LaSOT`, `GOT-10k`, … */
  readonly name: string;
  readonly format: DatasetFormat;
  readonly sequences: Sequence[];
  /** Sequences the built-in list expects but the folder lacks (a partial download). */
  readonly missing: string[];
}

/**
 * Bad dataset or results files: a missing or malformed file, a line that does not parse. The
 * message names the file (and line). The CLI maps it to exit code 2.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}
