import { ConfigError } from '@spiketrack/neurons';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../test-support/helpers';
import { energyBarChartSvg, escapeXml } from './svg';

/** The `<rect class="bar">` elements: [x, width] and their tooltip. */
function bars(svg: string): { x: number; width: number; title: string }[] {
  return [
    ...svg.matchAll(/<rect class="bar" x="([\d.]+)" y="\d+" width="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g),
  ].map((m) => ({ x: Number(m[1]), width: Number(m[2]), title: m[3]! }));
}

// Pure string maths: one backend is enough.
describe.skipIf(testBackend() !== 'cpu')('energyBarChartSvg', () => {
  it('stacks the series on one linear scale, labels each bar with its total, and escapes text', () => {
    const svg = energyBarChartSvg(
      [
        { label: 'stage1', values: [3000, 1000] },
        { label: 'mrm <0> & co', values: [1000, 0] },
        { label: 'head', values: [0, 0] },
      ],
      { series: ['search', 'template / 25'], title: 'Energy "per" stage', width: 600 },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="600"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Energy &quot;per&quot; stage');
    expect(svg).toContain('mrm &lt;0&gt; &amp; co');
    expect(svg).not.toMatch(/<script|href=/);
    const r = bars(svg);
    expect(r).toHaveLength(6);
    // stage1 is the longest bar (4000 pJ): its two segments fill the plot, 3:1, back to back
    const full = r[0]!.width + r[1]!.width;
    expect(r[0]!.width / r[1]!.width).toBeCloseTo(3, 2);
    expect(r[1]!.x).toBeCloseTo(r[0]!.x + r[0]!.width, 1);
    expect(r[2]!.width / full).toBeCloseTo(0.25, 2);
    expect(r[3]!.width).toBe(0);
    expect(r[4]!.width + r[5]!.width).toBe(0);
    expect(r[0]!.title).toBe('stage1, search: 3.000 nJ');
    expect(r[1]!.title).toBe('stage1, template / 25: 1.000 nJ');
    expect(svg).toContain('>4.000 nJ</text>');
    expect(svg).toContain('>0.000 pJ</text>');
    // the legend: one swatch per series
    expect(svg.match(/class="legend"/g)).toHaveLength(2);
    expect(escapeXml(`a'b`)).toBe('a&apos;b');
  });

  it('draws one unnamed series without a legend, and an empty chart', () => {
    const one = energyBarChartSvg([{ label: 'x', values: [5] }]);
    expect(one).not.toContain('class="legend"');
    expect(bars(one)).toHaveLength(1);
    const empty = energyBarChartSvg([]);
    expect(bars(empty)).toHaveLength(0);
    expect(empty).toContain('</svg>');
  });

  it('rejects bad values with a ConfigError naming the bar', () => {
    expect(() => energyBarChartSvg([{ label: 'a', values: [Number.NaN] }])).toThrow(
      /bar 'a'.*invalid energy NaN/,
    );
    expect(() => energyBarChartSvg([{ label: 'b', values: [-1] }])).toThrow(ConfigError);
    expect(() => energyBarChartSvg([{ label: 'c', values: [1, 2] }])).toThrow(/2 value\(s\), expected 1/);
    expect(() => energyBarChartSvg([{ label: 'd', values: [1] }], { width: 10 })).toThrow(/width/);
    expect(() => energyBarChartSvg('x' as never)).toThrow(ConfigError);
  });
});
