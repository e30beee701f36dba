import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIF, NILIF, selectBackend } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs';
import { preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserUnavailable, launchChromium, servePreview } from '../../../test-support/browser';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const OUT = here('../../../.tmp/web-layer/');
const skip = browserUnavailable();
if (skip) console.warn(`web-layer browser test skipped: ${skip}`);

interface LayerResult {
  backend?: string;
  adapter?: string;
  spikes?: Record<string, number[][]>;
  error?: string;
}

describe.skipIf(skip !== null)('the single-layer page in Chromium', () => {
  let server: Awaited<ReturnType<typeof servePreview>>;
  beforeAll(async () => {
    server = await servePreview(preview, here('..'));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs NI-LIF and LIF on WebGPU, with the spikes Node computes on cpu', async () => {
    const b = await launchChromium();
    let result: LayerResult;
    try {
      await b.page.goto(server.url);
      await b.page.waitForFunction(() => 'webLayer' in globalThis, null, { timeout: 120_000 });
      result = await b.page.evaluate(() => (globalThis as unknown as { webLayer: LayerResult }).webLayer);
      mkdirSync(OUT, { recursive: true });
      await b.page.screenshot({ path: join(OUT, 'web-layer.png'), fullPage: true });
      expect(result.error, b.log.join('\n')).toBeUndefined();
      expect(await b.page.textContent('#status')).toMatch(/^backend: webgpu/);
    } finally {
      await b.close();
    }
    expect(result.backend).toBe('webgpu');
    const spikes = result.spikes as Record<string, number[][]>;
    const niLif = spikes['NI-LIF (spike counts 0-4)'] as number[][];
    const lif = spikes['LIF (tau 2)'] as number[][];
    expect(niLif.flat().every((v) => [0, 0.25, 0.5, 0.75, 1].includes(v))).toBe(true);
    expect(lif.flat().every((v) => v === 0 || v === 1)).toBe(true);
    expect(niLif.flat().some((v) => v > 0) && lif.flat().some((v) => v > 0)).toBe(true);

    // The same layers on the same seeded input in Node (cpu): the same spikes.
    await selectBackend('cpu');
    const x = tf.randomUniform([8, 24], -0.5, 2.5, 'float32', 7);
    const ref = [new NILIF({ maxSteps: 8 }), new LIF({ tau: 2 })].map((layer) => {
      const s = layer.apply(x);
      const v = s.arraySync() as number[][];
      s.dispose();
      layer.dispose();
      return v;
    });
    x.dispose();
    expect(niLif).toEqual(ref[0]);
    expect(lif).toEqual(ref[1]);
  });
});
