import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { type Box, iou, SyntheticSequence, type SyntheticSequenceOptions } from 'spiketrack';
import { preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserUnavailable,
  type LaunchedBrowser,
  launchChromium,
  servePreview,
} from '../../../test-support/browser';
import type { DemoState } from '../src/main';
import { trackInNode } from './node-reference';
import { y4m } from './y4m';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const DIST = here('../dist/');
/** Screenshots and the results summary (git-ignored). */
const OUT = here('../../../.tmp/web-demo/');
const FIXTURES = here('../../../../shared/fixtures/reference/');

const skip = browserUnavailable();
if (skip) console.warn(`web-demo browser tests skipped: ${skip}`);

/** Frames the WebGPU test tracks after the initial one: few, as SwiftShader is slow. */
const WEBGPU_FRAMES = 4;
const SEQUENCE: SyntheticSequenceOptions = { seed: 11, frames: WEBGPU_FRAMES + 1, width: 320, height: 240 };

declare global {
  // The page's state, for the tests (src/main.ts).
  var spiketrackDemo: DemoState;
}

const demoState = (page: Page): Promise<DemoState> => page.evaluate(() => globalThis.spiketrackDemo);

/** Waits until the page's status is one of `statuses`; errors carry the page's console. */
async function waitFor(
  b: LaunchedBrowser,
  statuses: DemoState['status'][],
  timeout: number,
): Promise<DemoState> {
  const { page } = b;
  try {
    await page.waitForFunction(
      (s) => s.includes(globalThis.spiketrackDemo?.status) || globalThis.spiketrackDemo?.status === 'error',
      statuses,
      { timeout, polling: 250 },
    );
  } catch (e) {
    const now = await demoState(page).catch(() => null);
    throw new Error(
      `waiting for ${statuses.join(' or ')}: ${(e as Error).message}\nstatus: ${now?.status}\npage console:\n${b.log.join('\n')}`,
    );
  }
  const state = await demoState(page);
  if (state.status === 'error')
    throw new Error(`the page failed: ${state.error}\npage console:\n${b.log.join('\n')}`);
  return state;
}

/** Drags a box on the stage canvas with the mouse, from frame pixels. */
async function dragBox(page: Page, box: Box, frameWidth: number, frameHeight: number): Promise<void> {
  const r = await page.locator('#stage').boundingBox();
  if (!r) throw new Error('the stage canvas is not visible');
  const sx = r.width / frameWidth;
  const sy = r.height / frameHeight;
  await page.mouse.move(r.x + box[0] * sx, r.y + box[1] * sy);
  await page.mouse.down();
  await page.mouse.move(r.x + (box[0] + box[2] * 0.5) * sx, r.y + (box[1] + box[3] * 0.5) * sy, { steps: 3 });
  await page.mouse.move(r.x + (box[0] + box[2]) * sx, r.y + (box[1] + box[3]) * sy, { steps: 3 });
  await page.mouse.up();
}

async function startSynthetic(b: LaunchedBrowser, seq: SyntheticSequenceOptions): Promise<void> {
  const { page } = b;
  await page.check('input[name="source"][value="synthetic"]');
  await page.fill('#seed', String(seq.seed));
  await page.fill('#frames', String(seq.frames));
  await page.selectOption('#size', `${seq.width}x${seq.height}`);
  await page.click('#start');
  await waitFor(b, ['selecting'], 60_000);
}

/** Browser boxes against Node's: IoU per frame, and both against the ground truth. */
function compare(browser: Box[], node: Box[], truth: Box[]) {
  const agreement = browser.map((b, i) => iou(b, node[i] as Box));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    agreement,
    meanIouBrowser: mean(browser.map((b, i) => iou(b, truth[i] as Box))),
    meanIouNode: mean(node.map((b, i) => iou(b, truth[i] as Box))),
  };
}

describe.skipIf(skip !== null)('the web demo in Chromium', () => {
  let server: Awaited<ReturnType<typeof servePreview>>;
  let url: string;
  let weights: Uint8Array;
  const summary: Record<string, unknown> = {};

  beforeAll(async () => {
    const asset = readdirSync(join(DIST, 'assets')).find((f) => f.endsWith('.safetensors'));
    if (!asset)
      throw new Error(`no bundled weights in ${DIST}assets: run 'npm run build' in examples/web-demo first`);
    // The very bytes the page serves, so Node and the browser run the same model.
    weights = new Uint8Array(readFileSync(join(DIST, 'assets', asset)));
    server = await servePreview(preview, here('..'));
    url = server.url;
    mkdirSync(OUT, { recursive: true });
  });

  afterAll(async () => {
    await server?.close();
    if (Object.keys(summary).length)
      writeFileSync(join(OUT, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  });

  it('tracks a synthetic sequence on WebGPU with the boxes Node computes on wasm', async () => {
    const b = await launchChromium();
    try {
      const { page } = b;
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(url);
      const ready = await waitFor(b, ['ready'], 120_000);
      // Everything came from the app itself (no CDN), and from now on it works offline.
      expect(requests.filter((r) => !r.startsWith(url) && !/^(data|blob):/.test(r))).toEqual([]);
      expect(requests.some((r) => r.endsWith('.safetensors'))).toBe(true);
      await b.context.setOffline(true);
      expect(ready.backend, b.log.join('\n')).toBe('webgpu');
      expect(ready.adapter).toMatch(/\S/);
      expect(ready.fallbackReason).toBeNull();
      expect(ready.crossOriginIsolated).toBe(true);
      expect(ready.model?.source).toMatch(/^bundled: spiketrack-synthetic-v1/);
      expect(await page.isHidden('#notice')).toBe(true);

      await startSynthetic(b, SEQUENCE);
      const seq = new SyntheticSequence(SEQUENCE);
      await dragBox(page, seq.groundTruth(0), seq.width, seq.height);
      const t0 = performance.now();
      const done = await waitFor(b, ['finished'], 360_000);
      const seconds = (performance.now() - t0) / 1000;
      await page.screenshot({ path: join(OUT, 'webgpu-synthetic.png'), fullPage: true });
      // The README's picture (examples/web-demo/screenshot.jpg is a copy of a run's).
      await page.screenshot({
        path: join(OUT, 'webgpu-synthetic.jpg'),
        fullPage: true,
        type: 'jpeg',
        quality: 82,
      });

      const init = done.initBox as Box;
      expect(done.initFrame).toBe(0);
      // The drag lands on the truth up to the mouse's CSS-pixel rounding.
      expect(iou(init, seq.groundTruth(0))).toBeGreaterThan(0.9);
      expect(done.results.map((r) => r.frame)).toEqual(
        Array.from({ length: WEBGPU_FRAMES }, (_, i) => i + 1),
      );
      const ref = await trackInNode(weights, SEQUENCE, init, WEBGPU_FRAMES);
      const c = compare(
        done.results.map((r) => r.box),
        ref.boxes,
        ref.truth,
      );
      summary.webgpu = {
        frames: WEBGPU_FRAMES,
        seconds,
        adapter: done.adapter,
        ...c,
        results: done.results,
        node: ref.boxes,
      };
      console.log(
        `WebGPU (${done.adapter}) vs Node wasm, IoU per frame: ${c.agreement.map((v) => v.toFixed(4)).join(', ')}; ` +
          `mean IoU with the truth: browser ${c.meanIouBrowser.toFixed(3)}, Node ${c.meanIouNode.toFixed(3)}; ${seconds.toFixed(0)} s`,
      );
      // A trained model's peak score may saturate at the same value on every frame; the boxes
      // must still move with the target, or the output does not depend on the frame.
      if (new Set(done.results.map((r) => JSON.stringify(r.box))).size === 1) {
        console.warn(
          'the model gave the same box on every frame: its output may not depend on the frame, which makes this comparison weak',
        );
      }
      for (const [i, v] of c.agreement.entries()) expect(v, `frame ${i + 1}`).toBeGreaterThanOrEqual(0.99);
      // Nothing leaks from frame to frame.
      const tensors = done.results.map((r) => r.tensors);
      expect(new Set(tensors.slice(1)).size, `live tensors per frame: ${tensors.join(', ')}`).toBe(1);
      // The overlays were drawn: score, FPS, firing rates per stage, energy.
      expect(await page.textContent('#s-score')).toMatch(/^\d\.\d{3}$/);
      expect(await page.locator('#rates li').count()).toBeGreaterThan(3);
      expect(await page.textContent('#e-snn')).toMatch(/µJ$/);
      expect(await page.textContent('#e-ratio')).toMatch(/% of the ANN$/);
    } finally {
      await b.close();
    }
  });

  it('tracks the webcam (Chromium fake capture of a synthetic y4m), on wasm with the notice when WebGPU is off', async () => {
    const seq = new SyntheticSequence({ seed: 5, frames: 30, width: 320, height: 240 });
    const dir = join(tmpdir(), `spiketrack-y4m-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'synthetic.y4m');
    writeFileSync(file, y4m([...seq].map((f) => f.image)));
    // No --enable-unsafe-webgpu: no adapter, so the page must fall back to wasm and say why.
    const b = await launchChromium({
      webgpu: false,
      args: [
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${file}`,
      ],
    });
    try {
      const { page } = b;
      await page.goto(url);
      const ready = await waitFor(b, ['ready'], 120_000);
      expect(ready.backend).toBe('wasm');
      expect(ready.fallbackReason).toMatch(/\S/);
      expect(await page.isVisible('#notice')).toBe(true);
      expect(await page.textContent('#notice')).toMatch(/WebGPU is not available/);

      await page.check('input[name="source"][value="webcam"]');
      await page.click('#start');
      const selecting = await waitFor(b, ['selecting'], 60_000);
      expect(selecting.source).toMatchObject({ kind: 'webcam', width: 320, height: 240 });
      await dragBox(page, seq.groundTruth(0), 320, 240);
      await page.waitForFunction(() => globalThis.spiketrackDemo.results.length >= 5, null, {
        timeout: 120_000,
      });
      await page.keyboard.press('Space'); // pause (keyboard)
      const paused = await waitFor(b, ['paused'], 30_000);
      const n = paused.results.length;
      await page.keyboard.press('n'); // one step
      await page.waitForFunction((k) => globalThis.spiketrackDemo.results.length === k + 1, n, {
        timeout: 30_000,
      });
      // Re-initialize from the keyboard: R, move and resize the proposed box, Enter.
      await page.keyboard.press('r');
      await waitFor(b, ['selecting'], 30_000);
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('Shift+ArrowDown');
      await page.keyboard.press('Enter');
      await waitFor(b, ['tracking'], 30_000);
      const reinit = await demoState(page);
      const side = Math.round(240 / 5);
      expect(reinit.initBox).toEqual([
        Math.round(160 - side / 2) - 4,
        Math.round(120 - side / 2),
        side,
        side + 4,
      ]);
      await page.waitForFunction(() => globalThis.spiketrackDemo.results.length >= 2, null, {
        timeout: 60_000,
      });
      await page.keyboard.press('Space');
      await waitFor(b, ['paused'], 30_000);
      await page.screenshot({ path: join(OUT, 'webcam-wasm.png'), fullPage: true });
      // Phone-sized: one column, nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(OUT, 'webcam-wasm-phone.png'), fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, 'horizontal overflow on a 390 px wide screen').toBeLessThanOrEqual(0);
      const s = await demoState(page);
      for (const r of s.results) {
        const [x, y, w, h] = r.box;
        expect(Number.isFinite(x + y + w + h) && w > 0 && h > 0, `frame ${r.frame}: ${r.box}`).toBe(true);
        expect(x >= 0 && y >= 0 && x + w <= 320.001 && y + h <= 240.001, `frame ${r.frame}: ${r.box}`).toBe(
          true,
        );
        expect(r.iou).toBeNull();
      }
      summary.webcam = { frames: s.results.length, results: s.results };
    } finally {
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tracks a local video file (a WebM recorded in the page), stepping while paused', async () => {
    const b = await launchChromium({ webgpu: false });
    try {
      const { page } = b;
      await page.goto(`${url}?backend=wasm`);
      await waitFor(b, ['ready'], 120_000);
      // Record 1.5 s of a square moving over a gradient with MediaRecorder, as a user's clip.
      await page.evaluate(async () => {
        const canvas = document.createElement('canvas');
        canvas.width = 320;
        canvas.height = 240;
        const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
        const recorder = new MediaRecorder(canvas.captureStream(30), { mimeType: 'video/webm' });
        const chunks: Blob[] = [];
        recorder.ondataavailable = (e) => chunks.push(e.data);
        const stopped = new Promise((r) => {
          recorder.onstop = r;
        });
        recorder.start();
        const t0 = performance.now();
        await new Promise<void>((done) => {
          const draw = () => {
            const t = (performance.now() - t0) / 1500;
            const g = ctx.createLinearGradient(0, 0, 320, 240);
            g.addColorStop(0, '#345');
            g.addColorStop(1, '#a87');
            ctx.fillStyle = g;
            ctx.fillRect(0, 0, 320, 240);
            ctx.fillStyle = '#e33';
            ctx.fillRect(100 + 60 * t, 90 + 20 * t, 40, 40);
            if (t < 1) requestAnimationFrame(draw);
            else done();
          };
          draw();
        });
        recorder.stop();
        await stopped;
        const file = new File(chunks, 'clip.webm', { type: 'video/webm' });
        const data = new DataTransfer();
        data.items.add(file);
        (document.getElementById('video-file') as HTMLInputElement).files = data.files;
      });
      await page.check('input[name="source"][value="video"]');
      expect(await page.isVisible('#video-file')).toBe(true);
      await page.click('#start');
      const selecting = await waitFor(b, ['selecting'], 60_000);
      expect(selecting.source).toMatchObject({
        kind: 'video',
        label: 'video: clip.webm',
        width: 320,
        height: 240,
      });
      await dragBox(page, [100, 90, 40, 40], 320, 240);
      await page.waitForFunction(() => globalThis.spiketrackDemo.results.length >= 2, null, {
        timeout: 60_000,
      });
      await page.click('#play'); // pause
      const paused = await waitFor(b, ['paused'], 30_000);
      await page.click('#step');
      await page.waitForFunction(
        (k) => globalThis.spiketrackDemo.results.length === k + 1,
        paused.results.length,
        {
          timeout: 30_000,
        },
      );
      const s = await demoState(page);
      for (const r of s.results)
        expect(r.box.every(Number.isFinite) && r.box[2] > 0 && r.box[3] > 0).toBe(true);
    } finally {
      await b.close();
    }
  });

  it('reads a dropped .pth.tar, infers its configuration, and tracks as Node does', async () => {
    const checkpoint = join(FIXTURES, 'tiny-256-t3', 'model.pth.tar');
    const b = await launchChromium();
    try {
      const { page } = b;
      // wasm: this network (R = 256, T = 3) is ~5 GFLOP a frame, minutes on SwiftShader's WebGPU.
      await page.goto(`${url}?backend=wasm`);
      await waitFor(b, ['ready'], 120_000);
      // A file that is no checkpoint: a clear error on the page, and the bundled model stays.
      await page.evaluate(() => {
        const data = new DataTransfer();
        data.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
        document
          .getElementById('drop')
          ?.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      });
      await page.waitForFunction(() => globalThis.spiketrackDemo.status === 'error', null, {
        timeout: 10_000,
      });
      expect(await page.textContent('#notice')).toMatch(
        /'notes\.txt' is not a checkpoint: expected a \.pth\.tar/,
      );
      expect((await demoState(page)).model?.source).toMatch(/^bundled/);
      // A real drop event carrying the file (set on a detached input, as a file manager would give it).
      await page.evaluate(() => {
        const input = document.createElement('input');
        input.type = 'file';
        input.id = 'test-drop-source';
        input.hidden = true;
        document.body.append(input);
      });
      await page.setInputFiles('#test-drop-source', checkpoint);
      await page.evaluate(() => {
        const input = document.getElementById('test-drop-source') as HTMLInputElement;
        const data = new DataTransfer();
        data.items.add(input.files?.[0] as File);
        document
          .getElementById('drop')
          ?.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      });
      await page.waitForFunction(
        () =>
          globalThis.spiketrackDemo.model?.source === 'model.pth.tar' ||
          (globalThis.spiketrackDemo.status === 'error' &&
            !globalThis.spiketrackDemo.error?.includes('notes.txt')),
        null,
        {
          timeout: 120_000,
        },
      );
      const loaded = await waitFor(b, ['ready'], 10_000);
      expect(await page.isHidden('#notice')).toBe(true);
      expect(loaded.model?.config).toEqual({
        name: 'tiny_256_t3',
        dims: [24, 48, 96, 128],
        resolution: 256,
        templates: 3,
      });
      expect(await page.textContent('#model')).toMatch(
        /model\.pth\.tar — tiny_256_t3: dims \[24, 48, 96, 128\], R = 256, T = 3/,
      );

      const seq: SyntheticSequenceOptions = { seed: 3, frames: 4, width: 320, height: 240 };
      await startSynthetic(b, seq);
      await dragBox(page, new SyntheticSequence(seq).groundTruth(0), 320, 240);
      const done = await waitFor(b, ['finished'], 180_000);
      await page.screenshot({ path: join(OUT, 'dropped-checkpoint.png'), fullPage: true });
      const ref = await trackInNode(new Uint8Array(readFileSync(checkpoint)), seq, done.initBox as Box, 3);
      const c = compare(
        done.results.map((r) => r.box),
        ref.boxes,
        ref.truth,
      );
      summary.dropped = { checkpoint: 'tiny-256-t3/model.pth.tar', backend: done.backend, ...c };
      for (const [i, v] of c.agreement.entries()) expect(v, `frame ${i + 1}`).toBeGreaterThanOrEqual(0.99);
    } finally {
      await b.close();
    }
  });
});
