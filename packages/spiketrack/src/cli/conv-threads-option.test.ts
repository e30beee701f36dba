/**
 * `--conv-threads` (track, demo): on wasm it starts the convolution worker and stops it again; on
 * another backend it says it is ignored.
 */
import * as tf from '@tensorflow/tfjs-core';
import { wasmConvThreadsEnabled } from '@spiketrack/neurons/node';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '@spiketrack/neurons';
import { cliConvThreads } from './backend';
import { captureIO } from './cli.test-helper';

describe('--conv-threads', () => {
  it('does nothing without the flag', async () => {
    const { io, err } = captureIO();
    const t = await cliConvThreads({}, tf.getBackend() as BackendName, io);
    expect(t.on).toBe(false);
    expect(err()).toBe('');
  });

  it('is ignored, with a notice, on a backend other than wasm', async () => {
    const { io, err } = captureIO();
    const t = await cliConvThreads({ 'conv-threads': true }, 'cpu', io);
    expect(t.on).toBe(false);
    expect(err()).toMatch(/only the wasm backend splits convolutions; ignored on cpu/);
    expect(wasmConvThreadsEnabled()).toBe(false);
  });

  it.skipIf(tf.getBackend() !== 'wasm')('on wasm: starts the worker, and off() stops it', async () => {
    const { io, err } = captureIO();
    const t = await cliConvThreads({ 'conv-threads': true }, 'wasm', io);
    try {
      expect(t.on).toBe(true);
      expect(wasmConvThreadsEnabled()).toBe(true);
      expect(err()).toMatch(/conv threads: large convolutions split/);
    } finally {
      await t.off();
    }
    expect(wasmConvThreadsEnabled()).toBe(false);
  });
});
