/**
 * The bundled model: the file ships in the package (under 25 MB, float32: the weights as trained,
 * not rounded), loads strictly with the configuration it declares, reads back as float32, and is
 * what `Tracker.create()` uses.
 */
import { parseSafetensors } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, onWebGPU } from '../../../test-support/helpers';
import { BUNDLED_MODEL, bundledModelUrl, loadBundledModel } from './bundled-model';
import { resolveSpikeTrackConfig } from './config/config';
import { SyntheticSequence } from './synthetic/sequence';
import { Tracker } from './tracker/tracker';

describe('the bundled model', () => {
  const path = fileURLToPath(bundledModelUrl());

  it('ships as float32 safetensors under 25 MB, in PyTorch layout, with its configuration', () => {
    expect(path.endsWith(BUNDLED_MODEL.file)).toBe(true);
    expect(statSync(path).size).toBeLessThan(25 * 1024 * 1024);
    const { tensors, metadata } = parseSafetensors(new Uint8Array(readFileSync(path)), { source: path });
    expect(metadata['spiketrack.layout']).toBe('torch');
    const dtypes = new Set([...tensors.values()].map((e) => e.dtype));
    expect(dtypes.has('F32')).toBe(true);
    expect(dtypes.has('F16')).toBe(false);
    expect(JSON.parse(metadata['spiketrack.config'] as string)).toEqual(
      resolveSpikeTrackConfig({ ...BUNDLED_MODEL.config, dims: [...BUNDLED_MODEL.config.dims] }),
    );
  });

  it('loads strictly as float32 in eval mode, and disposes completely', async () => {
    const before = tf.memory().numTensors;
    const model = await loadBundledModel();
    expect(model.training).toBe(false);
    expect(model.config.resolution).toBe(BUNDLED_MODEL.config.resolution);
    expect(model.config.dims).toEqual(BUNDLED_MODEL.config.dims);
    expect(model.loadReport?.missing).toEqual([]);
    expect(model.loadReport?.unexpected).toEqual([]);
    for (const t of model.stateDict().values()) {
      expect(['float32', 'int32']).toContain(t.dtype);
      t.dispose();
    }
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(onWebGPU())('is the default of Tracker.create(), which tracks without leaking', async () => {
    const seq = new SyntheticSequence({ seed: 5, frames: 4, width: 320, height: 240 });
    const tracker = await Tracker.create();
    expect(tracker.model.config.dims).toEqual(BUNDLED_MODEL.config.dims);
    await tracker.initialize(seq.frame(0).image, seq.groundTruth(0));
    const r = await tracker.track(seq.frame(1).image);
    expect(r.box.every(Number.isFinite)).toBe(true);
    await expectNoLeak(async () => {
      await tracker.track(seq.frame(2).image);
    });
    tracker.dispose();
  });
});
