import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNoLeak, testBackend } from '../../../../test-support/helpers';
import { BackendError } from '../core/errors';
import { NILIF } from '../neurons/modules';
import { selectBackend } from './backend';
import { enableWasmConvThreads } from './wasm-conv-threads';
import { MAX_WASM_THREADS, wasmBackendThreads, wasmThreadsFor } from './wasm-threads';

/** Convolutions, depthwise convolutions, products and a multi-spike neuron, on fixed inputs. */
function workload(): Float32Array[] {
  const neuron = new NILIF();
  const out = tf.tidy(() => {
    const x = tf.randomUniform([1, 24, 20, 32], -1, 1, 'float32', 1) as tf.Tensor4D;
    const f = tf.randomUniform([3, 3, 32, 48], -1, 1, 'float32', 2) as tf.Tensor4D;
    const dw = tf.randomUniform([7, 7, 32, 1], -1, 1, 'float32', 3) as tf.Tensor4D;
    const a = tf.randomUniform([96, 64], -1, 1, 'float32', 4);
    const b = tf.randomUniform([64, 80], -1, 1, 'float32', 5);
    const q = tf.randomUniform([4, 50, 16], -1, 1, 'float32', 6);
    const k = tf.randomUniform([4, 16, 50], -1, 1, 'float32', 7);
    const spikes = neuron.apply(tf.randomUniform([2, 1, 12, 12, 8], -1, 6, 'float32', 8));
    const outs = [
      tf.conv2d(x, f, 1, 'same'),
      tf.conv2d(x, f, 2, 'valid'),
      tf.depthwiseConv2d(x, dw, 1, 'same'),
      tf.matMul(a, b),
      tf.matMul(q, k),
      spikes,
    ];
    return outs.map((t) => t.dataSync() as Float32Array);
  });
  neuron.dispose();
  return out;
}

const expected = (n: number) => Math.min(n, MAX_WASM_THREADS, availableParallelism());

describe.skipIf(testBackend() !== 'wasm')('wasm on XNNPACK threads (Node)', () => {
  // the suite's own count (SPIKETRACK_WASM_THREADS, default 1), put back at the end
  const suiteThreads = wasmBackendThreads();
  afterAll(async () => {
    await selectBackend('wasm', { wasmThreads: suiteThreads });
  });

  it('caps the threads at the cores and 8, and rejects a count that is not a positive integer', () => {
    expect(wasmThreadsFor(1)).toBe(1);
    expect(wasmThreadsFor(64)).toBe(expected(64));
    for (const bad of [0, -2, 1.5, Number.NaN]) {
      expect(() => wasmThreadsFor(bad)).toThrow(/wasmThreads must be a positive integer/);
    }
  });

  it('starts the threaded build and computes what one thread computes, bit for bit', async () => {
    expect((await selectBackend('wasm', { wasmThreads: 1 })).threads).toBe(1);
    const single = workload();
    const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const handlesBefore = handles();
    const selection = await selectBackend('wasm', { wasmThreads: 2 });
    // the pool's workers do not keep the process alive
    expect(handles()).toBe(handlesBefore);
    expect(selection.backend).toBe('wasm');
    expect(selection.threads).toBe(expected(2));
    expect(wasmBackendThreads()).toBe(expected(2));
    const threaded = workload();
    for (let i = 0; i < single.length; i++) {
      expect(Array.from(threaded[i]!), `output ${i}`).toEqual(Array.from(single[i]!));
    }
    // a selection that names no count keeps the running backend
    expect((await selectBackend('wasm')).threads).toBe(expected(2));
  });

  it('leaks no tensors, and leaves the two-thread convolutions of enableWasmConvThreads off', async () => {
    await expectNoLeak(() => workload());
    if (wasmBackendThreads() > 1) expect(await enableWasmConvThreads()).toBe(false);
  });

  it('will not restart a backend that holds tensors, and says how to choose the count', async () => {
    const held = tf.ones([3]);
    const other = wasmBackendThreads() === 1 ? 2 : 1;
    if (expected(other) === wasmBackendThreads()) {
      held.dispose();
      return; // a one-core machine: nothing to switch to
    }
    await expect(selectBackend('wasm', { wasmThreads: other })).rejects.toThrow(BackendError);
    await expect(selectBackend('wasm', { wasmThreads: other })).rejects.toThrow(
      /already runs on \d thread\(s\) and holds 1 tensor\(s\); ask for wasmThreads: \d in the first selectBackend/,
    );
    // the running backend is untouched
    expect(tf.getBackend()).toBe('wasm');
    expect(Array.from(await held.data())).toEqual([1, 1, 1]);
    held.dispose();
  });
});
