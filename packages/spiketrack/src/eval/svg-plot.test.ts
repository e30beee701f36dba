/**
 * The SVG line plots: tick choice, the mapping of data to pixels (read back from the polyline),
 * escaping, the legend, and the benchmark plots' labels, order and colors (pytracking's style).
 */
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import type { Evaluation } from './metrics';
import { precisionPlot, successPlot } from './plots';
import { PLOT_COLORS, escapeXml, linePlot, niceTicks } from './svg-plot';

const points = (svg: string) =>
  [...svg.matchAll(/<polyline[^>]*points="([^"]+)"/g)].map((m) =>
    m[1]!.split(' ').map((p) => p.split(',').map(Number)),
  );

describe.skipIf(testBackend() !== 'cpu')('svg plots', () => {
  it('chooses round ticks', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 50)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(niceTicks(0, 0.5)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(niceTicks(-3, 7, 3)).toEqual([-5, 0, 5].filter((t) => t >= -3));
    expect(() => niceTicks(1, 1)).toThrow(RangeError);
  });

  it('maps data to the plot area and draws axes, labels and legend', () => {
    const svg = linePlot({
      title: 'T <1> & "q"',
      xLabel: 'x',
      yLabel: 'y',
      xRange: [0, 10],
      yRange: [0, 100],
      width: 400,
      height: 300,
      series: [{ label: 'a', x: [0, 5, 10], y: [0, 50, 100] }],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('T &lt;1&gt; &amp; &quot;q&quot;');
    // Plot area: x 64 … 384 (width 320), y 36 … 248 (height 212).
    expect(points(svg)).toEqual([
      [
        [64, 248],
        [224, 142],
        [384, 36],
      ],
    ]);
    expect(svg.match(/class="xtick"/g)).toHaveLength(6);
    expect(svg.match(/class="ytick"/g)).toHaveLength(6);
    expect(svg).toContain(`stroke="${PLOT_COLORS[0]}"`);
    expect(svg).toMatch(/<g class="legend">[\s\S]*>a<\/text>/);
    expect(escapeXml(`<a href='x'>`)).toBe('&lt;a href=&apos;x&apos;&gt;');
    expect(() =>
      linePlot({
        title: '',
        xLabel: '',
        yLabel: '',
        xRange: [0, 1],
        yRange: [0, 1],
        series: [{ label: 'b', x: [0], y: [] }],
      }),
    ).toThrow(/'b' has 1 x and 0 y values/);
  });

  it('draws the success and precision plots as pytracking (percent, best first, score in the legend)', () => {
    const ev = (auc: number, prec: number): Evaluation => ({
      overall: { success_auc: auc, precision: prec, norm_precision: 0, ao: 0, sr50: 0, sr75: 0 },
      sequences: {},
      curves: {
        success: Array.from({ length: 21 }, () => auc),
        precision: Array.from({ length: 51 }, () => prec),
        norm_precision: Array.from({ length: 51 }, () => 0),
      },
      warnings: [],
    });
    const trackers = [
      { name: 'ncc', evaluation: ev(0.3, 0.4) },
      { name: 'spiketrack', evaluation: ev(0.6543, 0.7) },
    ];
    const s = successPlot(trackers);
    expect(s).toContain('Overlap Precision [%]');
    const labels = [...s.matchAll(/<title>([^<]+)<\/title>/g)].map((m) => m[1]);
    expect(labels).toEqual(['spiketrack [65.4]', 'ncc [30.0]']);
    // The best tracker gets the first color; its flat curve sits at 65.43 % of the height.
    expect(s.indexOf(`stroke="${PLOT_COLORS[0]}" points`)).toBeLessThan(
      s.indexOf(`stroke="${PLOT_COLORS[1]}" points`),
    );
    const best = points(s)[0] ?? [];
    expect(best).toHaveLength(21);
    expect(best[0]?.[1]).toBeCloseTo(36 + 392 * (1 - 0.6543), 1);
    const p = precisionPlot(trackers);
    expect(p).toContain('Location error threshold [pixels]');
    expect([...p.matchAll(/<title>([^<]+)<\/title>/g)].map((m) => m[1])).toEqual([
      'spiketrack [70.0]',
      'ncc [40.0]',
    ]);
    expect(points(p)[0]).toHaveLength(51);
  });
});
