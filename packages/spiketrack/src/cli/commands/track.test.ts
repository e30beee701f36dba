/**
 * `spiketrack track` on a tiny generated frames folder with the reference tiny-256-t3 checkpoint
 * (on wasm: three frames of the whole tracker), its bad-input errors (exit code 2), and --help.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GifReader } from 'omggif';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturesDir, testBackend } from '../../../../../test-support/helpers';
import type { RgbImage } from '../../frames/rgb-image';
import { GifWriter } from '../../node/gif-writer';
import { encodePng, readImageFile } from '../../node/image-file';
import { cli } from '../cli.test-helper';
import { parseBoxOption, TIMING_KEYS } from './track';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-track-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const checkpoint = `${fixturesDir}tiny-256-t3/model.pth.tar`;
const W = 128;
const H = 96;

/** A textured frame with a bright 20 × 16 target at (x, y). */
function frameAt(x: number, y: number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const inside = c >= x && c < x + 20 && r >= y && r < y + 16;
      for (let k = 0; k < 3; k++)
        data[(r * W + c) * 3 + k] = inside ? 220 - 30 * k : (r * 5 + c * 11 + k * 40) % 100;
    }
  }
  return { width: W, height: H, data };
}

const frames = join(dir, 'frames-in');
mkdirSync(frames);
[frameAt(50, 40), frameAt(53, 41), frameAt(56, 43)].forEach((f, i) => {
  writeFileSync(join(frames, `${String(i + 1).padStart(8, '0')}.png`), encodePng(f));
});

describe('spiketrack track', () => {
  // The whole tiny-256 tracker per frame is ~1 s on wasm, much slower on cpu and SwiftShader.
  it.skipIf(testBackend() !== 'wasm')(
    'tracks a frames folder with the tiny-256-t3 checkpoint: boxes, timings, annotated frames',
    async () => {
      const out = join(dir, 'out');
      const track = (to: string, ...extra: string[]) =>
        cli(
          'track',
          '--input',
          frames,
          '--box',
          '50,40,20,16',
          '--checkpoint',
          checkpoint,
          '--out',
          to,
          '--backend',
          'wasm',
          ...extra,
        );
      // one thread: the conv-threads run below is compared with this one (XNNPACK's own threads,
      // the default, give the same boxes too: src/cli/threads-option.test.ts, and the parity suite
      // with SPIKETRACK_WASM_THREADS)
      const run = await track(out, '--threads', '1');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/model: tiny_256_t3 \(R = 256, T = 3\); input: frames-dir, 3 frames/);
      expect(run.stderr).toMatch(/\[#+\] 3\/3 100%.*fps/);
      const lines = readFileSync(join(out, 'boxes.txt'), 'utf8').trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe('50,40,20,16');
      for (const l of lines) {
        const b = l.split(',').map(Number);
        expect(b).toHaveLength(4);
        expect(b.every(Number.isFinite)).toBe(true);
        // Clipped into the frame with the reference's margin of 10.
        expect(b[0]).toBeGreaterThanOrEqual(0);
        expect(b[0]).toBeLessThanOrEqual(W - 10);
        expect(b[2]).toBeGreaterThanOrEqual(10);
      }
      const timings = JSON.parse(readFileSync(join(out, 'timings.json'), 'utf8'));
      expect(timings).toMatchObject({ backend: 'wasm', model: 'tiny_256_t3', frames: 3 });
      expect(timings.perFrame).toHaveLength(2);
      for (const f of timings.perFrame) {
        for (const k of TIMING_KEYS) {
          expect(f[k], k).toBeGreaterThanOrEqual(0);
        }
        expect(f.network).toBeLessThanOrEqual(f.total);
      }
      expect(timings.summary.trackerFps).toBeGreaterThan(0);
      // The budget: crop + preprocessing under 10% of a frame's time on wasm (tiny-256).
      const m = timings.summary.meanMs;
      expect(m.crop + m.preprocess).toBeLessThan(0.1 * m.total);
      // Frame 0 is annotated at the given box: its top-left corner pixel is red.
      const first = await readImageFile(join(out, 'frames', '000000.png'));
      const p = (40 * W + 50) * 3;
      expect(Array.from(first.data.subarray(p, p + 3))).toEqual([255, 0, 0]);
      expect(existsSync(join(out, 'frames', '000002.png'))).toBe(true);
      expect(tf.memory().numTensors).toBeLessThan(50); // the tracker and model were disposed

      // --conv-threads: the same boxes, bit for bit, with half of each large conv on a worker
      const threaded = join(dir, 'out-threads');
      const again = await track(threaded, '--annotate', 'none', '--threads', '1', '--conv-threads');
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/conv threads: large convolutions split/);
      expect(readFileSync(join(threaded, 'boxes.txt'), 'utf8')).toBe(
        readFileSync(join(out, 'boxes.txt'), 'utf8'),
      );
      expect(JSON.parse(readFileSync(join(threaded, 'timings.json'), 'utf8')).convThreads).toBe(true);
      expect(timings.convThreads).toBe(false);
    },
    300_000,
  );

  it.skipIf(testBackend() !== 'cpu')(
    'rejects bad input with exit code 2 and a clear message',
    async () => {
      const common = ['--out', join(dir, 'bad'), '--backend', 'cpu'];
      const r1 = await cli('track', '--box', '1,2,3,4', ...common);
      expect([r1.code, r1.stderr]).toEqual([2, expect.stringMatching(/--input is required/)]);
      const r2 = await cli('track', '--input', frames, '--box', '1,2,3', ...common);
      expect([r2.code, r2.stderr]).toEqual([2, expect.stringMatching(/--box must be x,y,w,h/)]);
      const r3 = await cli(
        'track',
        '--input',
        frames,
        '--box',
        '50,40,20,16',
        '--config',
        'tiny_256_t3',
        ...common,
      );
      expect([r3.code, r3.stderr]).toEqual([2, expect.stringMatching(/pass \{ checkpoint \} with it/)]);
      const r4 = await cli('track', '--input', join(dir, 'nope'), '--box', '1,2,3,4', ...common);
      expect([r4.code, r4.stderr]).toEqual([2, expect.stringMatching(/nope/)]);
      const r5 = await cli('track', '--input', frames, '--box', '1,2,3,4', '--annotate', 'avi', ...common);
      expect([r5.code, r5.stderr]).toEqual([
        2,
        expect.stringMatching(/--annotate must be one of png, gif, none; got/),
      ]);
      const r6 = await cli(
        'track',
        '--input',
        frames,
        '--box',
        '500,40,20,16',
        '--checkpoint',
        checkpoint,
        ...common,
      );
      expect([r6.code, r6.stderr]).toEqual([2, expect.stringMatching(/outside the 128 × 96 frame/)]);
      // A video without ffmpeg: the message says how to install it.
      const video = join(dir, 'clip.mp4');
      writeFileSync(video, 'not really');
      const saved = process.env.SPIKETRACK_FFMPEG;
      process.env.SPIKETRACK_FFMPEG = join(dir, 'no-ffmpeg-here');
      try {
        const r7 = await cli('track', '--input', video, '--box', '1,2,3,4', ...common);
        expect(r7.code).toBe(2);
        expect(r7.stderr).toMatch(/was not found[\s\S]*apt-get install ffmpeg/);
      } finally {
        if (saved === undefined) delete process.env.SPIKETRACK_FFMPEG;
        else process.env.SPIKETRACK_FFMPEG = saved;
      }
      expect(() => parseBoxOption('1,2,0,4')).toThrow(/positive/);
      expect(parseBoxOption(' 1.5, 2 ,3,4')).toEqual([1.5, 2, 3, 4]);
    },
    120_000,
  );

  it.skipIf(testBackend() !== 'cpu')('writes annotated GIFs frame by frame', async () => {
    const gif = new GifWriter(50);
    const a = frameAt(10, 10);
    gif.add(a);
    gif.add(frameAt(12, 11));
    const path = join(dir, 'a.gif');
    await gif.save(path);
    const reader = new GifReader(new Uint8Array(readFileSync(path)));
    expect([reader.width, reader.height, reader.numFrames()]).toEqual([W, H, 2]);
    const rgba = new Uint8Array(W * H * 4);
    reader.decodeAndBlitFrameRGBA(0, rgba);
    // The target's colour survives the 256-colour palette.
    const p = 12 * W + 12;
    expect(Array.from(rgba.subarray(p * 4, p * 4 + 3))).toEqual(
      Array.from(a.data.subarray(p * 3, p * 3 + 3)),
    );
  });

  it('prints its help and is listed', async () => {
    const help = await cli('track', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: spiketrack track --input VIDEO\|FRAMES_DIR --box x,y,w,h/);
    const all = await cli('--help');
    expect(all.stdout).toMatch(/track +track a target/);
  });
});
