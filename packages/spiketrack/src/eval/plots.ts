/**
 * The benchmark plots, as pytracking's `plot_results.py` draws them: the success plot (overlap
 * precision in % over the overlap threshold, legend `name [AUC]`, lower left), the precision
 * plot (distance precision in % over 0–50 px, legend `name [precision at 20 px]`, lower right)
 * and the normalized-precision plot (over 0–0.5, score at 0.20). Trackers are listed best first
 * and the best gets the first color.
 */
import { CENTER_THRESHOLDS, type Evaluation, NORM_CENTER_THRESHOLDS, OVERLAP_THRESHOLDS } from './metrics';
import { PLOT_COLORS, linePlot } from './svg-plot';

/** One tracker's evaluation, with the name its legend shows. */
export interface TrackerEvaluation {
  readonly name: string;
  readonly evaluation: Evaluation;
}

function ranked(
  trackers: readonly TrackerEvaluation[],
  curve: (e: Evaluation) => number[],
  score: (e: Evaluation) => number,
  x: readonly number[],
) {
  return [...trackers]
    .map((t) => ({ t, s: score(t.evaluation) }))
    .sort((a, b) => b.s - a.s)
    .map(({ t, s }, i) => ({
      label: `${t.name} [${(100 * s).toFixed(1)}]`,
      x,
      y: curve(t.evaluation).map((v) => 100 * v),
      color: PLOT_COLORS[i % PLOT_COLORS.length]!,
    }));
}

/** The three benchmark plots: axes, legend corner, curve and score of each (pytracking's plot options). */
const PLOTS = {
  success: {
    title: 'Success plot',
    xLabel: 'Overlap threshold',
    yLabel: 'Overlap Precision [%]',
    xRange: [0, 1],
    legend: 'lower left',
    x: OVERLAP_THRESHOLDS,
    curve: (e: Evaluation) => e.curves.success,
    score: (e: Evaluation) => e.overall.success_auc,
  },
  precision: {
    title: 'Precision plot',
    xLabel: 'Location error threshold [pixels]',
    yLabel: 'Distance Precision [%]',
    xRange: [0, 50],
    legend: 'lower right',
    x: CENTER_THRESHOLDS,
    curve: (e: Evaluation) => e.curves.precision,
    score: (e: Evaluation) => e.overall.precision,
  },
  norm_precision: {
    title: 'Normalized Precision plot',
    xLabel: 'Location error threshold',
    yLabel: 'Distance Precision [%]',
    xRange: [0, 0.5],
    legend: 'lower right',
    x: NORM_CENTER_THRESHOLDS,
    curve: (e: Evaluation) => e.curves.norm_precision,
    score: (e: Evaluation) => e.overall.norm_precision,
  },
} as const;

/** The kinds of {@link benchmarkPlot}. */
export type BenchmarkPlotKind = keyof typeof PLOTS;

/** One of the benchmark plots (SVG) of one or more trackers. */
export function benchmarkPlot(
  kind: BenchmarkPlotKind,
  trackers: readonly TrackerEvaluation[],
  title?: string,
): string {
  const p = PLOTS[kind];
  return linePlot({
    title: title ?? p.title,
    xLabel: p.xLabel,
    yLabel: p.yLabel,
    xRange: p.xRange,
    yRange: [0, 100],
    legend: p.legend,
    series: ranked(trackers, p.curve, p.score, p.x),
  });
}

/** The success plot (SVG): overlap precision over the overlap threshold, legend `name [AUC]`. */
export const successPlot = (trackers: readonly TrackerEvaluation[], title?: string): string =>
  benchmarkPlot('success', trackers, title);

/** The precision plot (SVG): distance precision over 0–50 px, legend `name [precision at 20 px]`. */
export const precisionPlot = (trackers: readonly TrackerEvaluation[], title?: string): string =>
  benchmarkPlot('precision', trackers, title);

/** The normalized-precision plot (SVG): over 0–0.5, legend `name [score at 0.20]`. */
export const normPrecisionPlot = (trackers: readonly TrackerEvaluation[], title?: string): string =>
  benchmarkPlot('norm_precision', trackers, title);
