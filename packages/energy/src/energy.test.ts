import { ConfigError, Conv2d, Module } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { countOps, type OpReport } from './count';
import { energy, PROCESS_MODELS, processModel } from './energy';
import { MEMORY_MODELS, memoryModel } from './memory';
import { formatCount, formatEnergy, formatEnergyMarkdown, formatEnergyTable, markdownTable } from './format';

/**
 * A hand-checkable run: `stem` (1→1, 3×3, valid) on a real 3×3 image: 9 MACs; `conv` (1→2, 3×3,
 * padding 1) on a 4×4 spike map with counts 2 at the corner (0,0), 1 at (1,1) and 4 at the edge
 * (0,2), normalized by D = 4. Fan-outs per output channel: corner 4, edge 6, interior 9, so
 * exact ACs = 2·(2·4 + 1·9 + 4·6) = 82; dense MACs 4·4·2·9 = 288; mean count 7/16, so paper ACs =
 * 288 · 7/16 = 126.
 */
class Hand extends Module<[tf.Tensor, tf.Tensor]> {
  readonly stem = this.child('stem', new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, seed: 1 }));
  readonly conv = this.child(
    'conv',
    new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, padding: 1, seed: 2 }),
  );
  forward(image: tf.Tensor, spikes: tf.Tensor): tf.Tensor {
    return tf.add(tf.sum(this.stem.apply(image)), tf.sum(this.conv.apply(spikes)));
  }
}

async function handReport(): Promise<OpReport> {
  const net = new Hand();
  const image = tf.tensor4d([0.1, 0.7, 0.3, 0.25, 0.9, 0.5, 0.33, 0.2, 0.6], [1, 3, 3, 1]);
  const counts = new Array(16).fill(0);
  counts[0] = 2;
  counts[1 * 4 + 1] = 1;
  counts[2] = 4;
  const spikes = tf.tensor4d(
    counts.map((c) => c / 4),
    [1, 4, 4, 1],
  );
  try {
    return await countOps(net, () => net.apply(image, spikes), { spikeScales: [{ scale: 4, maxCount: 4 }] });
  } finally {
    tf.dispose([image, spikes]);
    net.dispose();
  }
}

describe('energy', () => {
  it('hand-checked counts and energies in both conventions (45nm-fp32 default)', async () => {
    const report = await handReport();
    expect(report.layers.map((l) => [l.path, l.spiking, l.denseMacs, l.macs, l.acs])).toEqual([
      ['stem', false, 9, 9, 0],
      ['conv', true, 288, 0, 82],
    ]);
    expect(report.layers[1]!.inputRate).toBeCloseTo(7 / 16, 12);
    expect(report.layers[1]!.paperAcs).toBeCloseTo(126, 9);

    const e = energy(report);
    expect(e.process).toMatchObject({ name: '45nm-fp32', eMac: 4.6, eAc: 0.9 });
    expect(e.unit).toBe('pJ');
    expect(e.layers[0]!.exact).toBeCloseTo(4.6 * 9, 9);
    expect(e.layers[0]!.paper).toBeCloseTo(4.6 * 9, 9);
    expect(e.layers[1]!.exact).toBeCloseTo(0.9 * 82, 9);
    expect(e.layers[1]!.paper).toBeCloseTo(0.9 * 126, 9);
    expect(e.layers[1]!.ann).toBeCloseTo(4.6 * 288, 9);
    expect(e.exact).toMatchObject({ macs: 9, acs: 82 });
    expect(e.exact.total).toBeCloseTo(41.4 + 73.8, 9);
    expect(e.paper.total).toBeCloseTo(41.4 + 113.4, 9);
    expect(e.ann).toMatchObject({ macs: 297 });
    expect(e.ann.total).toBeCloseTo(4.6 * 297, 9);
    expect(e.exact.ratioToAnn).toBeCloseTo(115.2 / 1366.2, 12);
    expect(e.paper.ratioToAnn).toBeCloseTo(154.8 / 1366.2, 12);
    expect(e.conventions.exact).toMatch(/^exact: ACs counted from the actual spikes/);
    expect(e.conventions.paper).toMatch(/^paper \(SpikeTrack/);
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  it('presets from Horowitz (ISSCC 2014, 45 nm) and user constants', async () => {
    expect(Object.values(PROCESS_MODELS).map((p) => [p.name, p.eMac, p.eAc])).toEqual([
      ['45nm-fp32', 4.6, 0.9],
      ['45nm-fp16', 1.5, 0.4],
      ['45nm-int8', 0.23, 0.03],
      ['45nm-int32', 3.2, 0.1],
    ]);
    for (const p of Object.values(PROCESS_MODELS)) expect(p.source).toMatch(/Horowitz.*ISSCC 2014/);
    const report = await handReport();
    const int8 = energy(report, '45nm-int8');
    expect(int8.exact.total).toBeCloseTo(0.23 * 9 + 0.03 * 82, 9);
    expect(int8.ann.total).toBeCloseTo(0.23 * 297, 9);
    const fp16 = energy(report, '45nm-fp16');
    expect(fp16.paper.total).toBeCloseTo(1.5 * 9 + 0.4 * 126, 9);
    const custom = energy(report, { eMac: 2, eAc: 0.5, name: 'my-chip' });
    expect(custom.process).toEqual({ name: 'my-chip', eMac: 2, eAc: 0.5, source: 'user constants' });
    expect(custom.exact).toMatchObject({ macEnergy: 18, acEnergy: 41, total: 59 });
    expect(custom.exact.ratioToAnn).toBeCloseTo(59 / (2 * 297), 12);
    expect(() => energy(report, '7nm' as '45nm-fp32')).toThrow(ConfigError);
    expect(() => energy(report, '7nm' as '45nm-fp32')).toThrow(/unknown process '7nm'/);
    expect(() => energy(report, { eMac: -1, eAc: 0.1 })).toThrow(/eMac must be a finite number/);
    expect(() => energy(report, { eMac: 1, eAc: Number.NaN })).toThrow(ConfigError);
    expect(() => energy({} as OpReport)).toThrow(/energy: expected the OpReport/);
    expect(processModel()).toEqual(PROCESS_MODELS['45nm-fp32']);
  });

  it('the memory-access term: off by default, separate from the totals, bytes from the traffic', async () => {
    const report = await handReport();
    // stem: 9 weights, 9 real inputs, 1 output; conv: 18 weights, 16 spike inputs, 32 outputs.
    expect(report.layers.map((l) => l.traffic)).toEqual([
      { weights: 9, spikes: 0, values: 9, outputs: 1 },
      { weights: 18, spikes: 16, values: 0, outputs: 32 },
    ]);
    const plain = energy(report);
    expect(plain.memory).toBeNull();
    expect(plain.layers.map((l) => l.memory)).toEqual([null, null]);
    const e = energy(report, '45nm-fp32', { memory: '45nm-sram-8kb' });
    // float32 weights and values (4 bytes), 1-byte spike counts, 10 pJ per 64 bits = 1.25 pJ/byte
    const stemBytes = 9 * 4 + 9 * 4 + 1 * 4;
    const convBytes = 18 * 4 + 16 * 1 + 32 * 4;
    expect(e.layers.map((l) => l.memory)).toEqual([1.25 * stemBytes, 1.25 * convBytes]);
    expect(e.memory).toMatchObject({ bytes: stemBytes + convBytes, total: 1.25 * (stemBytes + convBytes) });
    expect(e.exact).toEqual(plain.exact);
    expect(e.paper).toEqual(plain.paper);
    expect(formatEnergyTable(e)).toContain(
      'memory access (separate, not in the totals): 365.0 pJ (292 bytes at 1.25 pJ/byte, 45nm-sram-8kb)',
    );
    expect(MEMORY_MODELS['45nm-dram'].pjPerByte).toBe(162.5);
    const custom = energy(report, '45nm-fp32', { memory: { pjPerByte: 2, weightBytes: 1, spikeBytes: 0 } });
    expect(custom.memory?.bytes).toBe(9 + 9 * 4 + 4 + 18 + 0 + 32 * 4);
    expect(() => memoryModel('hbm' as never)).toThrow(/unknown memory model 'hbm'/);
    expect(() => energy(report, '45nm-fp32', { memory: { pjPerByte: -1 } })).toThrow(ConfigError);
  });

  it('an empty report has no ratio rather than NaN', async () => {
    const e = energy({
      layers: [],
      totals: { calls: 0, denseMacs: 0, macs: 0, acs: 0, paperAcs: 0 },
      timesteps: 1,
      spikeScales: [],
      conventions: { exact: 'exact', paper: 'paper' },
    });
    expect(e.exact.ratioToAnn).toBeNull();
    expect(e.exact.total).toBe(0);
  });
});

describe('formatEnergyTable', () => {
  it('lists every layer with its counts, rate and energy, then totals and the ratio', async () => {
    const text = formatEnergyTable(energy(await handReport()));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(
      /^layer\s+kind\s+input\s+dense MACs\s+MACs\s+ACs \(exact\)\s+ACs \(paper\)\s+rate/,
    );
    expect(lines[1]).toMatch(/^stem\s+conv2d\s+real\s+9\s+9\s+0\s+0\s+-\s+41\.40 pJ\s+41\.40 pJ$/);
    expect(lines[2]).toMatch(
      /^conv\s+conv2d\s+spikes\s+288\s+0\s+82\s+126\s+0\.4375\s+73\.80 pJ\s+113\.4 pJ$/,
    );
    expect(lines[3]).toMatch(/^total\s+297\s+9\s+82\s+126\s+115\.2 pJ\s+154\.8 pJ$/);
    expect(text).toContain('ANN equivalent: 1.366 nJ (297 MACs)');
    expect(text).toContain('SNN/ANN: exact 0.0843, paper 0.1133');
    expect(text).toContain(
      'process: 45nm-fp32, E_MAC 4.6 pJ, E_AC 0.9 pJ (Horowitz, "Computing\'s energy problem',
    );
  });

  it('as Markdown: the same rows in a GFM table with right-aligned numbers, then the summary', async () => {
    const md = formatEnergyMarkdown(energy(await handReport())).split('\n');
    expect(md[0]).toBe(
      '| layer | kind | input | dense MACs | MACs | ACs (exact) | ACs (paper) | rate | E exact | E paper |',
    );
    expect(md[1]).toBe('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    expect(md[3]).toBe('| conv | conv2d | spikes | 288 | 0 | 82 | 126 | 0.4375 | 73.80 pJ | 113.4 pJ |');
    expect(md[4]).toBe('| total |  |  | 297 | 9 | 82 | 126 |  | 115.2 pJ | 154.8 pJ |');
    expect(md).toContain('- SNN/ANN: exact 0.0843, paper 0.1133');
    expect(markdownTable([['a|b'], ['c']], [false])).toBe('| a\\|b |\n| --- |\n| c |');
  });

  it('formats counts and energies with units', () => {
    expect(formatCount(82)).toBe('82');
    expect(formatCount(12.5)).toBe('12.50');
    expect(formatCount(1_234_567)).toBe('1.23 M');
    expect(formatCount(4.2e9)).toBe('4.20 G');
    expect(formatEnergy(41.4)).toBe('41.40 pJ');
    expect(formatEnergy(2.5e9)).toBe('2.500 mJ');
    expect(formatEnergy(3e6)).toBe('3.000 µJ');
  });
});
