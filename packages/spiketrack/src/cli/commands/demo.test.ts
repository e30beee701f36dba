import { GifReader } from 'omggif';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackend } from '../../../../../test-support/helpers';
import { cli } from '../cli.test-helper';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readBoxes = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(',').map(Number));

/** IoU of continuous xywh boxes, computed here independently of the metrics module. */
function overlap(a: number[], b: number[]): number {
  const iw = Math.min(a[0]! + a[2]!, b[0]! + b[2]!) - Math.max(a[0]!, b[0]!);
  const ih = Math.min(a[1]! + a[3]!, b[1]! + b[3]!) - Math.max(a[1]!, b[1]!);
  if (iw <= 0 || ih <= 0) return 0;
  return (iw * ih) / (a[2]! * a[3]! + b[2]! * b[3]! - iw * ih);
}

describe.skipIf(testBackend() !== 'cpu')('spiketrack demo', () => {
  it('tracks a synthetic sequence with the NCC baseline and writes a GIF, boxes and metrics', async () => {
    const out = join(dir, 'run');
    const run = await cli(
      'demo',
      '--tracker',
      'ncc',
      '--out',
      out,
      '--seed',
      '3',
      '--frames',
      '8',
      '--size',
      '96x72',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/tracking with the NCC baseline/);
    expect(run.stderr).not.toMatch(/ETA/); // not a terminal: no progress bar
    expect(run.stdout).toMatch(/mean IoU +\d\.\d{3}/);
    expect(run.stdout).toMatch(/success AUC +\d\.\d{3}/);

    const pred = readBoxes(join(out, 'results', 'demo-3.txt'));
    const gt = readBoxes(join(out, 'dataset', 'demo-3', 'groundtruth.txt'));
    expect(pred).toHaveLength(8);
    expect(gt).toHaveLength(8);
    expect(pred[0]).toEqual(gt[0]);
    expect(readFileSync(join(out, 'dataset', 'list.txt'), 'utf8')).toBe('demo-3\n');
    expect(readdirSync(join(out, 'dataset', 'demo-3')).some((f) => f.endsWith('.jpg'))).toBe(false);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.tracker).toBe('ncc');
    expect(summary.note).toMatch(/NCC baseline/);
    expect(summary.sequence).toMatchObject({ name: 'demo-3', seed: 3, frames: 8, width: 96, height: 72 });
    const ious = pred.map((p, i) => overlap(p, gt[i]!));
    const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
    expect(summary.metrics.mean_iou).toBeCloseTo(mean, 3);
    const thresholds = Array.from({ length: 21 }, (_, i) => i / 20);
    const auc = thresholds.reduce((s, t) => s + ious.filter((v) => v > t).length / ious.length, 0) / 21;
    expect(Math.abs(summary.metrics.success_auc - auc)).toBeLessThanOrEqual(1 / 8 / 21 + 1e-9);
    expect(summary.metrics.success_curve).toHaveLength(21);
    expect(summary.speed.tracker_fps).toBeGreaterThan(0);

    const gif = new GifReader(readFileSync(join(out, 'demo.gif')));
    expect([gif.width, gif.height, gif.numFrames()]).toEqual([48, 36, 8]);

    // Same seed, same boxes.
    const again = await cli(
      'demo',
      '--tracker',
      'ncc',
      '--out',
      join(dir, 'again'),
      '--seed',
      '3',
      '--frames',
      '8',
      '--size',
      '96x72',
    );
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'again', 'results', 'demo-3.txt'), 'utf8')).toBe(
      readFileSync(join(out, 'results', 'demo-3.txt'), 'utf8'),
    );
  });

  it('writes the frames as JPEG with --save-frames', async () => {
    const out = join(dir, 'frames');
    const run = await cli(
      'demo',
      '--tracker',
      'ncc',
      '--out',
      out,
      '--frames',
      '3',
      '--size',
      '64x48',
      '--save-frames',
      '--gif-scale',
      '1',
    );
    expect(run.code, run.stderr).toBe(0);
    const files = readdirSync(join(out, 'dataset', 'demo-1'));
    expect(files.filter((f) => f.endsWith('.jpg')).sort()).toEqual([
      '00000001.jpg',
      '00000002.jpg',
      '00000003.jpg',
    ]);
    expect(new GifReader(readFileSync(join(out, 'demo.gif'))).width).toBe(64);
    expect(run.stderr).toMatch(/tracking with the NCC baseline \(zero-mean normalized cross-correlation/);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).tracker).toBe('ncc');
  });

  it('tracks with the bundled SpikeTrack model by default, with its score and FPS in the GIF', async () => {
    const out = join(dir, 'bundled');
    // no --tracker and no --checkpoint: the bundled model
    const run = await cli(
      'demo',
      '--out',
      out,
      '--seed',
      '4',
      '--frames',
      '5',
      '--size',
      '160x120',
      '--backend',
      'cpu',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /bundled SpikeTrack model spiketrack-synthetic-v1, trained on synthetic sequences only/,
    );
    expect(run.stderr).toMatch(/backend: cpu/);
    expect(run.stdout).toMatch(/tracker +SpikeTrack, bundled model spiketrack-synthetic-v1 \(cpu\)/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      tracker: 'spiketrack',
      model: 'spiketrack-synthetic-v1',
      backend: 'cpu',
    });
    const pred = readBoxes(join(out, 'results', 'demo-4.txt'));
    const gt = readBoxes(join(out, 'dataset', 'demo-4', 'groundtruth.txt'));
    expect(pred).toHaveLength(5);
    expect(pred[0]).toEqual(gt[0]);
    expect(pred.flat().every(Number.isFinite)).toBe(true);
    const ious = pred.map((p, i) => overlap(p, gt[i]!));
    expect(summary.metrics.mean_iou).toBeCloseTo(ious.reduce((a, b) => a + b, 0) / ious.length, 3);
    expect(summary.speed.tracker_fps).toBeGreaterThan(0);
    expect(new GifReader(readFileSync(join(out, 'demo.gif'))).numFrames()).toBe(5);
  });

  it('prints help, and rejects bad options with exit code 2', async () => {
    const help = await cli('demo', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: spiketrack demo \[--out DIR\] \[--seed N\] \[--frames N\]/);
    const all = await cli('--help');
    expect(all.stdout).toMatch(/demo +track a generated synthetic sequence/);
    for (const [args, message] of [
      [['--frames', '1'], /--frames must be an integer in 2\.\./],
      [['--frames', 'many'], /--frames must be an integer/],
      [['--seed=-3'], /--seed must be an integer/],
      [['--size', '640'], /--size must be WxH/],
      [['--gif-scale', '0'], /--gif-scale must be an integer/],
      [['extra'], /unexpected argument 'extra'/],
      [['--bogus'], /bogus/],
      [['--tracker', 'kcf'], /--tracker must be one of spiketrack, ncc; got 'kcf'/],
      [['--tracker', 'ncc', '--checkpoint', 'x.pth.tar'], /--checkpoint is for --tracker spiketrack/],
    ] as const) {
      const r = await cli('demo', '--out', join(dir, 'bad'), ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
