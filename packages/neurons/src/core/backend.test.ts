import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerWasmConvGradients } from '../kernels/wasm-conv-backprop';
import { selectBackend } from './backend';
import { BackendError, ConfigError } from './errors';
import { hasGradients } from './gradients';

describe('selectBackend', () => {
  it('re-selects the backend under test and registers gradients', async () => {
    const current = tf.getBackend() as 'cpu' | 'wasm' | 'webgpu';
    const sel = await selectBackend(current);
    expect(sel.backend).toBe(current);
    expect(tf.getBackend()).toBe(current);
    expect(hasGradients()).toBe(true);
    if (current === 'webgpu') expect(typeof sel.adapter === 'string' || sel.adapter === undefined).toBe(true);
    if (current === 'wasm') {
      // The conv gradients tfjs-backend-wasm lacks are there, and nothing more is swapped again.
      for (const k of [
        'Conv2DBackpropFilter',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
      ]) {
        expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
      }
      expect(registerWasmConvGradients()).toEqual([]);
    }
  });

  it('rejects unknown names with a ConfigError listing the valid ones', async () => {
    await expect(selectBackend('gpu' as never)).rejects.toThrow(ConfigError);
    await expect(selectBackend('gpu' as never)).rejects.toThrow(/auto, webgpu, wasm, cpu, tensorflow/);
  });

  it('explains how to install tfjs-node when the tensorflow backend is missing, and keeps the current one', async () => {
    const current = tf.getBackend();
    const err = await selectBackend('tensorflow').catch((e) => e);
    if (err instanceof Error) {
      expect(err).toBeInstanceOf(BackendError);
      expect(err.message).toMatch(/@tensorflow\/tfjs-node/);
      expect(tf.getBackend()).toBe(current);
    } else {
      // tfjs-node is installed here: it was selected; restore the backend under test
      await selectBackend(current as 'cpu');
    }
  });
});
