import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerWasmConvGradients } from '../kernels/wasm-conv-backprop';
import { isSoftwareWebGPUAdapter, selectBackend } from './backend';
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

  it('recognizes software WebGPU adapters', () => {
    for (const d of [
      'google / swiftshader / Subzero Processor / SwiftShader Device (Subzero)',
      'mesa / llvmpipe (LLVM 15.0.6, 256 bits)',
      'lavapipe',
      'Microsoft Basic Render Driver (software)',
    ]) {
      expect(isSoftwareWebGPUAdapter(d), d).toBe(true);
    }
    for (const d of [
      'nvidia / ampere / NVIDIA H200',
      'apple / metal-3 / Apple M2',
      'intel / gen-12lp',
      undefined,
    ]) {
      expect(isSoftwareWebGPUAdapter(d), String(d)).toBe(false);
    }
  });

  it('auto passes over a software WebGPU adapter for a faster backend, unless allowed', async (ctx) => {
    if (tf.getBackend() !== 'webgpu') ctx.skip();
    const { adapter } = await selectBackend('webgpu');
    try {
      const auto = await selectBackend('auto');
      if (isSoftwareWebGPUAdapter(adapter)) {
        expect(auto.backend).not.toBe('webgpu');
        expect(tf.getBackend()).toBe(auto.backend);
        expect(auto.skipped.find((s) => s.backend === 'webgpu')?.reason).toMatch(/software adapter/);
        const allowed = await selectBackend('auto', { allowSoftwareWebGPU: true });
        expect(allowed.backend).toBe('webgpu');
        expect(allowed.adapter).toBe(adapter);
      } else {
        expect(auto.backend).toBe('webgpu');
      }
    } finally {
      await selectBackend('webgpu');
    }
  });
});
