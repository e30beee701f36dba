/**
 * `--threads` (the commands that run a network): its values, and on wasm the threaded backend it
 * starts, reported on stderr.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@spiketrack/neurons/node';
import { afterAll, describe, expect, it } from 'vitest';
import { parseThreads, selectCliBackend } from './backend';
import { captureIO } from './cli.test-helper';
import { UsageError } from './command';

describe('--threads', () => {
  it('takes a positive integer or auto (every core), with a default per command', () => {
    expect(parseThreads('3', 'auto')).toBe(3);
    expect(parseThreads('auto', 1)).toBe(availableParallelism());
    expect(parseThreads(undefined, 'auto')).toBe(availableParallelism());
    expect(parseThreads(undefined, 1)).toBe(1);
    for (const bad of ['0', '-1', '1.5', 'two', '']) {
      expect(() => parseThreads(bad, 'auto')).toThrow(UsageError);
      expect(() => parseThreads(bad, 'auto')).toThrow(/--threads must be a positive integer or auto/);
    }
  });

  describe.skipIf(tf.getBackend() !== 'wasm')('on wasm', () => {
    const suite = { threads: 1 };
    afterAll(async () => {
      await selectBackend('wasm', { wasmThreads: suite.threads });
    });

    it('starts the backend on that many threads and says so', async () => {
      suite.threads = (await selectBackend('wasm')).threads ?? 1;
      const { io, err } = captureIO();
      expect(await selectCliBackend('wasm', io, 2)).toBe('wasm');
      const n = Math.min(2, availableParallelism());
      expect(err()).toContain(`backend: wasm (${n} thread${n > 1 ? 's' : ''})`);
      expect((await selectBackend('wasm')).threads).toBe(n);
    });
  });
});
