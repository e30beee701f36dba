/**
 * `spiketrack energy`: the tiny-256-t3 reference checkpoint on the fixture's own tensors file
 * (template_0..2 and search), random weights with --config, and bad input.
 */
import { writeSafetensorsFile } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturesDir, onWebGPU, testBackend } from '../../../../../test-support/helpers';
import type { TrackerEnergyReport } from '../../energy/index';
import { writePngFile } from '../../node/image-file';
import { cli } from '../cli.test-helper';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-energy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const checkpoint = `${fixturesDir}tiny-256-t3/model.pth.tar`;
const input = `${fixturesDir}tiny-256-t3/tensors.safetensors`;

describe('spiketrack energy', () => {
  // Two passes of the tiny network at 256² (~5 s each on wasm, ~1 min on cpu, minutes on SwiftShader).
  it.skipIf(testBackend() !== 'wasm')(
    'reports the reference checkpoint on real frames (table, JSON, Markdown, SVG) and random weights with a note',
    async () => {
      const md = join(dir, 'energy.md');
      const svg = join(dir, 'energy.svg');
      const base = ['energy', '--checkpoint', checkpoint, '--input', input, '--backend', 'wasm'];
      const json = await cli(...base, '--json', '--interval', '10', '--markdown', md, '--svg', svg);
      expect(json.code, json.stderr).toBe(0);
      expect(json.stderr).toContain('model: tiny_256_t3 (R = 256, T = 3)');
      const r = JSON.parse(json.stdout) as TrackerEnergyReport;
      expect([r.config, r.templates, r.interval, r.process.name]).toEqual([
        'tiny_256_t3',
        3,
        10,
        '45nm-fp32',
      ]);
      expect(r.notes).toEqual([]);
      // The stem: 128² outputs × 12 channels × 7·7·3 taps, once per frame, three times per rebuild.
      expect(r.first_layer).toEqual({
        path: 'encoder.downsample1_1.encode_conv',
        dense_macs: 128 * 128 * 12 * 147,
        template_dense_macs: 3 * 128 * 128 * 12 * 147,
      });
      expect(r.search.dense_macs).toBeGreaterThan(r.first_layer.dense_macs);
      expect(r.per_frame.total.exact).toBeCloseTo(r.search.energy.exact + r.template.energy.exact / 10, 3);
      // Real weights on real frames: the neurons fire, and the network costs less than its ANN twin.
      const rated = r.search.layers.filter((l) => l.input_rate !== null);
      expect(rated.length).toBeGreaterThan(100);
      expect(rated.some((l) => (l.input_rate ?? 0) > 0.1)).toBe(true);
      expect(r.per_frame.ratio_to_ann.exact).toBeGreaterThan(0);
      expect(r.per_frame.ratio_to_ann.exact).toBeLessThan(1);
      const markdown = readFileSync(md, 'utf8');
      expect(markdown).toMatch(/^# SpikeTrack energy per frame: tiny_256_t3/);
      expect(markdown).toContain('| template / 10 |');
      expect(readFileSync(svg, 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*>mrm\.5<\/text>[\s\S]*<\/svg>\n$/);

      // Random weights (T = 1), as a table: the stem is the same layer, once per frame and per rebuild.
      const table = await cli(
        'energy',
        '--config',
        'tiny_256_t1',
        '--process',
        '45nm-int8',
        '--memory',
        '45nm-dram',
        '--backend',
        'wasm',
      );
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(
        /\nencoder\.downsample1_1\.encode_conv\s+conv2d\s+real\s+28\.9 M\s+28\.9 M\s+0\s+0\s+-/,
      );
      expect(table.stdout).toMatch(/\ntemplate \/ 25\s/);
      expect(table.stdout).toContain('process: 45nm-int8');
      expect(table.stdout).toMatch(
        /\nmemory access per frame \(separate, not in the totals\): .*45nm-dram, 162\.5 pJ\/byte\)/,
      );
      expect(table.stdout).toContain(
        'first layer: encoder.downsample1_1.encode_conv: 28.9 M MACs per frame, 28.9 M per template rebuild',
      );
      expect(table.stdout).toMatch(/random weights .*only the dense MAC counts are meaningful; firing rates/);
      expect(table.stderr).toMatch(/note: random weights/);
    },
    300_000,
  );

  // Three of four frames through the tracker with the reference weights (3 network passes at 256² on wasm).
  it.skipIf(testBackend() !== 'wasm')(
    '--sequence: tracks a GOT-10k-style folder and averages over its frames',
    async () => {
      const seq = join(dir, 'seq');
      mkdirSync(seq, { recursive: true });
      const [w, h] = [160, 120];
      for (let f = 0; f < 4; f++) {
        const data = new Uint8Array(w * h * 3);
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const inside = x >= 50 + 4 * f && x < 80 + 4 * f && y >= 40 && y < 70;
            const i = (y * w + x) * 3;
            data[i] = inside ? 230 : (x * 3) % 256;
            data[i + 1] = inside ? 40 : (y * 5) % 256;
            data[i + 2] = inside ? 60 : ((x + y) * 7) % 256;
          }
        await writePngFile(join(seq, `${String(f + 1).padStart(8, '0')}.png`), { width: w, height: h, data });
      }
      writeFileSync(join(seq, 'groundtruth.txt'), '50,40,30,30\n');
      const run = await cli(
        'energy',
        '--checkpoint',
        checkpoint,
        '--sequence',
        seq,
        '--frames',
        '3',
        '--json',
        '--backend',
        'wasm',
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/tracked 2 frame\(s\) after the initial one; 1 template rebuild\(s\)/);
      const r = JSON.parse(run.stdout) as TrackerEnergyReport;
      expect([r.search.runs, r.template.runs]).toEqual([2, 1]); // --frames 3: the initial frame and two tracked
      expect(r.notes.join('\n')).toMatch(/2 tracked frame\(s\) averaged/);
      expect(r.first_layer.dense_macs).toBe(128 * 128 * 12 * 147);
      expect(r.search.layers.filter((l) => (l.input_rate ?? 0) > 0).length).toBeGreaterThan(100);
      // per frame: the stem ran twice, once per tracked frame
      expect(r.search.layers[0]!.calls).toBe(1);
    },
    300_000,
  );

  it.skipIf(onWebGPU())(
    'rejects missing or bad options and inputs with exit code 2',
    async () => {
      const both = await cli('energy', '--config', 'tiny_256_t1', '--input', 'a', '--sequence', 'b');
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/--input or --sequence, not both/);
      const frames = await cli('energy', '--config', 'tiny_256_t1', '--frames', '3');
      expect(frames.code).toBe(2);
      expect(frames.stderr).toMatch(/--frames needs --sequence/);
      const emptyDir = join(dir, 'empty');
      mkdirSync(emptyDir, { recursive: true });
      const empty = await cli(
        'energy',
        '--config',
        'tiny_256_t1',
        '--sequence',
        emptyDir,
        '--backend',
        testBackend(),
      );
      expect(empty.code).toBe(2);
      expect(empty.stderr).toMatch(/no frames/);
      const none = await cli('energy', '--json');
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/give --checkpoint FILE or --config NAME/);
      const cfg = await cli('energy', '--config', 'huge');
      expect(cfg.code).toBe(2);
      expect(cfg.stderr).toMatch(/--config must be one of/);
      const proc = await cli('energy', '--config', 'tiny_256_t1', '--process', '7nm');
      expect(proc.code).toBe(2);
      expect(proc.stderr).toMatch(/--process must be one of 45nm-fp32/);
      const mem = await cli('energy', '--config', 'tiny_256_t1', '--memory', 'tape');
      expect(mem.code).toBe(2);
      expect(mem.stderr).toMatch(/--memory must be one of 45nm-sram-8kb/);
      const iv = await cli('energy', '--config', 'tiny_256_t1', '--interval', '0');
      expect(iv.code).toBe(2);
      expect(iv.stderr).toMatch(/--interval must be a number ≥ 1, got '0'/);
      const bad = join(dir, 'bad.safetensors');
      await writeSafetensorsFile(bad, {
        template_0: tf.zeros([1, 3, 128, 128]),
        search: tf.zeros([1, 3, 256, 256]),
      });
      const shape = await cli(
        'energy',
        '--config',
        'tiny_256_t1',
        '--input',
        bad,
        '--backend',
        testBackend(),
      );
      expect(shape.code).toBe(2);
      expect(shape.stderr).toMatch(
        /template_0 has shape \[1, ?3, ?128, ?128\], expected \[1, ?3, ?256, ?256\]/,
      );
      const missing = await cli(
        'energy',
        '--checkpoint',
        join(dir, 'nope.pth.tar'),
        '--backend',
        testBackend(),
      );
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/nope\.pth\.tar/);
    },
    120_000,
  );

  it.skipIf(testBackend() !== 'cpu')('prints its help and is listed', async () => {
    const help = await cli('energy', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: spiketrack energy \(--checkpoint FILE \| --config NAME\)/);
    expect(help.stdout).toMatch(/--interval N/);
    const all = await cli('--help');
    expect(all.stdout).toMatch(/\n {2}energy +energy per frame of the tracker/);
  });
});
