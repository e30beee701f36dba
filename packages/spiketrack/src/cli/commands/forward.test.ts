/**
 * `spiketrack forward` on the reference case: the fixture's own tensors file is a valid input
 * (it holds template_0..2 and search), and the outputs and firing rates must match the case.
 */
import { readTensorFile, writeSafetensorsFile } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, fixturesDir, onWebGPU } from '../../../../../test-support/helpers';
import { readCase } from '../../model/parity.test-helper';
import { cli } from '../cli.test-helper';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-forward-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const checkpoint = `${fixturesDir}tiny-256-t3/model.pth.tar`;
const backend = () => tf.getBackend();

describe('spiketrack forward', () => {
  // The whole network at 256² takes ~5 s on wasm, ~1 min on cpu and minutes on SwiftShader.
  it.skipIf(backend() !== 'wasm')(
    'reproduces the tiny-256-t3 reference outputs and firing rates from the fixture file',
    async () => {
      const c = readCase('tiny-256-t3');
      const output = join(dir, 'out.safetensors');
      const rates = join(dir, 'rates.json');
      const run = await cli(
        'forward',
        '--checkpoint',
        checkpoint,
        '--input',
        `${fixturesDir}tiny-256-t3/tensors.safetensors`,
        '--output',
        output,
        '--firing-rates',
        rates,
        '--backend',
        backend(),
      );
      expect(run.stderr).toContain('model: tiny_256_t3');
      expect(run.code, run.stderr).toBe(0);
      const out = await readTensorFile(output);
      const th = c.thresholds;
      const atol: Record<string, number> = {
        score_map: th.maps_abs,
        size_map: th.maps_abs,
        offset_map: th.maps_abs,
        pred_boxes: th.pred_boxes_abs,
        encoder_out: th.features_abs,
      };
      expect([...out.tensors.keys()].sort()).toEqual(Object.keys(atol).sort());
      for (const [key, tol] of Object.entries(atol)) {
        const ref = c.tensors.get(key)!;
        const got = out.tensors.get(key)!;
        expect(got.shape, key).toEqual(ref.shape);
        expectClose(await got.data(), ref.values, tol, `forward ${key}`);
      }
      tf.dispose([...out.tensors.values()]);
      const json = JSON.parse(readFileSync(rates, 'utf8')) as Record<
        string,
        { per_step: number[]; mean: number }
      >;
      const refRates = c.json.firing_rates.per_layer;
      expect(Object.keys(json).sort()).toEqual(Object.keys(refRates).sort());
      for (const [k, v] of Object.entries(refRates)) {
        expectClose(json[k]!.per_step, v.per_step, th.firing_rate_abs, `rates of ${k}`);
      }
    },
    300_000,
  );

  it.skipIf(onWebGPU())(
    'rejects missing or mis-shaped tensors and bad options with exit code 2',
    async () => {
      const bad = join(dir, 'bad.safetensors');
      await writeSafetensorsFile(bad, {
        template_0: tf.zeros([1, 3, 256, 256]),
        template_1: tf.zeros([1, 3, 128, 128]),
        search: tf.zeros([1, 3, 256, 256]),
      });
      const common = [
        '--checkpoint',
        checkpoint,
        '--output',
        join(dir, 'x.safetensors'),
        '--backend',
        backend(),
      ];
      const r1 = await cli('forward', '--input', bad, ...common);
      expect(r1.code).toBe(2);
      expect(r1.stderr).toMatch(/missing template_2/);
      expect(r1.stderr).toMatch(/template_1 has shape \[1, ?3, ?128, ?128\], expected \[1, ?3, ?256, ?256\]/);

      const nan = join(dir, 'nan.safetensors');
      await writeSafetensorsFile(nan, {
        template_0: tf.zeros([1, 3, 256, 256]),
        search: tf.fill([1, 3, 256, 256], Number.NaN),
      });
      const r2 = await cli('forward', '--input', nan, '--config', 'tiny_256_t1', '--non-strict', ...common);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toMatch(/search holds NaN/);
      expect(r2.stderr).toMatch(/not loaded: 144 unexpected key/);

      const r3 = await cli('forward', '--input', bad, '--config', 'huge', ...common);
      expect(r3.code).toBe(2);
      expect(r3.stderr).toMatch(/--config must be one of/);

      const r4 = await cli('forward', '--input', join(dir, 'nope.safetensors'), ...common);
      expect(r4.code).toBe(2);
      expect(r4.stderr).toMatch(/nope\.safetensors/);

      const r5 = await cli('forward', '--input', bad, '--output', 'o', '--bogus');
      expect(r5.code).toBe(2);
      expect(r5.stderr).toMatch(/--bogus/);

      const r6 = await cli('forward', '--input', bad);
      expect(r6.code).toBe(2);
      expect(r6.stderr).toMatch(/--checkpoint is required/);
    },
    120_000,
  );

  it('prints help, lists commands, and rejects unknown ones', async () => {
    const help = await cli('forward', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: spiketrack forward/);
    const all = await cli('--help');
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/forward +run the network once/);
    const unknown = await cli('fly');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'fly'/);
  });
});
