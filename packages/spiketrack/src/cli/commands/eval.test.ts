/**
 * `spiketrack eval` end to end on a tiny GOT-10k-layout dataset written here (PNG frames, 64 × 64):
 * the NCC baseline (tfjs-free, so on the cpu project only) through the result files, the resume,
 * the shards and their merge, the metrics and plots, and the errors; the SpikeTrack tracker with
 * the reference tiny-256-t3 checkpoint on wasm (2 sequences × 2 frames, 2 workers). Skipped on
 * WebGPU (SwiftShader is far too slow for the whole tracker).
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturesDir, testBackend } from '../../../../../test-support/helpers';
import { evaluate } from '../../eval/index';
import type { RgbImage } from '../../frames/rgb-image';
import { readDataset, readResults } from '../../node/eval-files';
import { runEvalPool } from '../../node/eval-runner/pool';
import { encodePng } from '../../node/image-file';
import type { Box } from '../../tracker/box';
import { cli } from '../cli.test-helper';
import { metricsTable } from './metrics';

const root = mkdtempSync(join(tmpdir(), 'spiketrack-eval-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const S = 64;

/** A textured 64 × 64 frame with a bright 14 × 12 target at (x, y). */
function frameAt(x: number, y: number, seed: number): RgbImage {
  const data = new Uint8Array(S * S * 3);
  for (let r = 0; r < S; r++) {
    for (let c = 0; c < S; c++) {
      const inside = c >= x && c < x + 14 && r >= y && r < y + 12;
      for (let k = 0; k < 3; k++) {
        const tex = (r * 7 + c * 13 + k * 31 + seed * 17 + ((r * c) % 5) * 9) % 90;
        data[(r * S + c) * 3 + k] = inside ? 200 - 25 * k + ((r + c) % 3) * 15 : tex;
      }
    }
  }
  return { width: S, height: S, data };
}

/** Writes a GOT-10k-style split: `<dir>/<name>/00000001.png …`, groundtruth.txt, list.txt. */
function writeDataset(dir: string, names: string[], frames: number): Record<string, Box[]> {
  const gt: Record<string, Box[]> = {};
  names.forEach((name, s) => {
    const seq = join(dir, name);
    mkdirSync(seq, { recursive: true });
    gt[name] = [];
    for (let i = 0; i < frames; i++) {
      const box: Box = [12 + 3 * i + 2 * s, 20 + 2 * i - s, 14, 12];
      gt[name].push(box);
      writeFileSync(
        join(seq, `${String(i + 1).padStart(8, '0')}.png`),
        encodePng(frameAt(box[0], box[1], s)),
      );
    }
    writeFileSync(join(seq, 'groundtruth.txt'), `${gt[name].map((b) => b.join(',')).join('\n')}\n`);
  });
  writeFileSync(join(dir, 'list.txt'), `${names.join('\n')}\n`);
  return gt;
}

const NAMES = ['seq-c', 'seq-a', 'seq-b'];
const data = join(root, 'data');
const truth = writeDataset(data, NAMES, 4);
const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n');
const boxesOf = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.txt') && !f.endsWith('_time.txt'))
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );

/** `spiketrack eval --format got10k --dataset <data> --tracker ncc ...rest`. */
const ncc = (...rest: string[]) =>
  cli('eval', '--format', 'got10k', '--dataset', data, '--tracker', 'ncc', ...rest);

describe.skipIf(testBackend() !== 'cpu')('spiketrack eval (NCC baseline)', () => {
  const out = join(root, 'out');

  it('tracks every sequence in 2 workers, writes the results, prints the metrics and writes the plots', async () => {
    const run = await ncc('--workers', '2', '--out', out);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('0 already finished, skipped; 3 to run on 2 worker(s)');
    for (const name of NAMES) {
      const boxes = lines(join(out, 'ncc', `${name}.txt`)).map((l) => l.split(',').map(Number));
      expect(boxes).toHaveLength(4);
      expect(boxes[0]).toEqual(truth[name]?.[0]);
      for (const b of boxes) expect(b.every(Number.isFinite)).toBe(true);
      const times = lines(join(out, 'ncc', `${name}_time.txt`)).map(Number);
      expect(times).toHaveLength(4);
      for (const t of times) expect(t).toBeGreaterThanOrEqual(0);
    }
    // No temporary files are left behind.
    expect(readdirSync(join(out, 'ncc')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The printed table is `spiketrack metrics`' table of these files.
    const dataset = await readDataset(data, 'got10k');
    const e = evaluate((await readResults(join(out, 'ncc'), dataset.sequences)).boxes, dataset.sequences);
    expect(run.stdout).toBe(metricsTable(dataset, 'ncc', e));
    // A bright target that moves a few pixels: NCC follows it.
    expect(e.overall.success_auc).toBeGreaterThan(0.7);
    expect(e.overall.precision).toBe(1);
    for (const f of ['success.svg', 'precision.svg', 'norm_precision.svg']) {
      expect(readFileSync(join(out, f), 'utf8')).toMatch(/^<svg|^<\?xml/);
    }
  });

  it('skips finished sequences on a rerun and runs only the missing ones', async () => {
    const file = (n: string) => join(out, 'ncc', `${n}.txt`);
    const before = Object.fromEntries(NAMES.map((n) => [n, statSync(file(n)).mtimeMs]));
    const again = await ncc('--out', out);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('3 already finished, skipped; 0 to run');
    for (const n of NAMES) expect(statSync(file(n)).mtimeMs).toBe(before[n]);
    const firstOutput = readFileSync(file('seq-b'), 'utf8');
    rmSync(file('seq-b'));
    const resumed = await ncc('--out', out);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('2 already finished, skipped; 1 to run');
    expect(readFileSync(file('seq-b'), 'utf8')).toBe(firstOutput);
    expect(statSync(file('seq-a')).mtimeMs).toBe(before['seq-a']);
    // --format synthetic reads the same GOT-10k layout (the generator's), named synthetic-v1.
    const synthetic = await cli(
      'eval',
      '--format',
      'synthetic',
      '--dataset',
      data,
      '--tracker',
      'ncc',
      '--out',
      out,
    );
    expect(synthetic.code).toBe(0);
    expect(synthetic.stderr).toContain('3 already finished, skipped; 0 to run');
    expect(synthetic.stdout).toMatch(/^synthetic-v1: 3 sequences, tracker 'ncc'/m);
  });

  it('a frame that does not decode is bad input (exit 2) naming its sequence; finished ones are kept', async () => {
    const broken = join(root, 'broken');
    writeDataset(broken, ['ok-1', 'zz-bad'], 3);
    writeFileSync(join(broken, 'zz-bad', '00000002.png'), 'not a png');
    const out = join(root, 'out-broken');
    const r = await cli(
      'eval',
      '--format',
      'got10k',
      '--dataset',
      broken,
      '--tracker',
      'ncc',
      '--workers',
      '1',
      '--out',
      out,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sequence zz-bad');
    expect(readdirSync(join(out, 'ncc')).sort()).toEqual(['ok-1.txt', 'ok-1_time.txt']);
  });

  it('--shard 0/2 and 1/2 partition the sorted sequences; their merged folders equal the unsharded run', async () => {
    const shardOut = (i: number) => join(root, `shard${i}`);
    for (const i of [0, 1]) {
      const r = await ncc('--shard', `${i}/2`, '--out', shardOut(i));
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`(shard ${i}/2 of 3)`);
      expect(r.stderr).toContain('metrics of shard');
    }
    // Sorted: seq-a, seq-b, seq-c → shard 0 takes indices 0 and 2, shard 1 index 1.
    expect(Object.keys(boxesOf(join(shardOut(0), 'ncc'))).sort()).toEqual(['seq-a.txt', 'seq-c.txt']);
    expect(Object.keys(boxesOf(join(shardOut(1), 'ncc')))).toEqual(['seq-b.txt']);
    const merged = join(root, 'merged');
    for (const i of [0, 1]) cpSync(join(shardOut(i), 'ncc'), join(merged, 'ncc'), { recursive: true });
    expect(boxesOf(join(merged, 'ncc'))).toEqual(boxesOf(join(out, 'ncc')));
    // The merged folder is whole: a run on it has nothing left to do.
    const r = await ncc('--out', merged);
    expect(r.stderr).toContain('3 already finished, skipped; 0 to run');
  });

  it('without public ground truth (GOT-10k test) writes the server archive instead of metrics', async () => {
    const test = join(root, 'got10k-test');
    writeDataset(test, ['GOT-10k_Test_000001', 'GOT-10k_Test_000002'], 3);
    for (const n of ['GOT-10k_Test_000001', 'GOT-10k_Test_000002']) {
      const gt = join(test, n, 'groundtruth.txt');
      writeFileSync(gt, `${lines(gt)[0]}\n`);
    }
    const out = join(root, 'out-test');
    const r = await cli('eval', '--format', 'got10k', '--dataset', test, '--tracker', 'ncc', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const zip = readFileSync(join(out, 'ncc_got10k.zip')).toString('latin1');
    expect(zip).toContain('GOT-10k_Test_000002/GOT-10k_Test_000002_001.txt');
    expect(zip).toContain('GOT-10k_Test_000001/GOT-10k_Test_000001_time.txt');
    expect(r.stderr).toContain('evaluation server');
  });

  it('an aborted pool keeps what finished and schedules nothing more', async () => {
    const dataset = await readDataset(data, 'got10k');
    const resultsDir = join(root, 'aborted');
    mkdirSync(resultsDir);
    const jobs = [...dataset.sequences]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((s) => ({ name: s.name, frames: s.frames, initBox: s.groundTruth[0] as Box }));
    const controller = new AbortController();
    const r = await runEvalPool(jobs, {
      config: { tracker: 'ncc', preset: 'default', backend: 'cpu', resultsDir },
      workers: 1,
      signal: controller.signal,
      onSequence: () => controller.abort(),
    });
    expect(r).toEqual({ finished: ['seq-a'], aborted: true });
    expect(readdirSync(resultsDir).sort()).toEqual(['seq-a.txt', 'seq-a_time.txt']);
  });

  it('reports bad input with exit code 2', async () => {
    const base = ['eval', '--tracker', 'ncc', '--out', join(root, 'bad')];
    const missing = await cli(...base, '--format', 'got10k', '--dataset', join(root, 'nope'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('dataset folder not found');
    for (const shard of ['2/2', 'x', '1/0']) {
      const r = await cli(...base, '--format', 'got10k', '--dataset', data, '--shard', shard);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--shard must be i/n');
    }
    const format = await cli(...base, '--format', 'vot', '--dataset', data);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format must be one of');
    const ds = ['--format', 'got10k', '--dataset', data, '--out', join(root, 'bad')];
    const name = await cli('eval', ...ds, '--tracker', 'sot');
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('--tracker must be one of spiketrack, ncc or the path of a tracker module');
    const noModule = await cli('eval', ...ds, '--tracker', join(root, 'none.mjs'));
    expect(noModule.code).toBe(2);
    expect(noModule.stderr).toContain('none.mjs not found');
    const nccCheckpoint = await cli(
      'eval',
      ...ds,
      '--tracker',
      'ncc',
      '--checkpoint',
      join(data, 'list.txt'),
    );
    expect(nccCheckpoint.code).toBe(2);
    expect(nccCheckpoint.stderr).toContain('--tracker ncc has none');
    const backend = await cli(...base, '--format', 'got10k', '--dataset', data, '--backend', 'gpu');
    expect(backend.code).toBe(2);
    expect(backend.stderr).toContain('--backend must be one of auto');
    const workers = await cli(...base, '--format', 'got10k', '--dataset', data, '--workers', '0');
    expect(workers.code).toBe(2);
    const help = await cli('eval', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--shard i/n');
    expect(existsSync(join(root, 'bad', 'ncc'))).toBe(false);
  });
});

describe('spiketrack eval --tracker MODULE', () => {
  it('imports the module in each worker and refuses one without createModel, or whose model is no TrackingNetwork (exit 2)', async () => {
    const ds = ['--format', 'got10k', '--dataset', data, '--workers', '1', '--backend', 'cpu'];
    const empty = join(root, 'empty-tracker.mjs');
    writeFileSync(empty, 'export const name = 1;\n');
    const r1 = await cli('eval', ...ds, '--tracker', empty, '--out', join(root, 'out-empty'));
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/--tracker: .*exports no createModel function/);
    const notNet = join(root, 'not-a-net.mjs');
    writeFileSync(
      notNet,
      'export function createModel() { return { config: { resolution: 64, templates: 1 } }; }\n',
    );
    const r2 = await cli('eval', ...ds, '--tracker', notNet, '--out', join(root, 'out-notnet'));
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('createModel(): not a tracking network: no forward');
    expect(r2.stderr).toContain('tracker not-a-net');
    const broken = join(root, 'broken-tracker.mjs');
    writeFileSync(broken, 'export function createModel( {\n');
    const r3 = await cli('eval', ...ds, '--tracker', broken, '--out', join(root, 'out-broken-module'));
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/--tracker: cannot import the network module/);
  });
});

describe.skipIf(testBackend() !== 'wasm')('spiketrack eval (SpikeTrack, tiny-256-t3)', () => {
  it('runs the checkpoint in 2 workers, each on its own wasm backend', { timeout: 120_000 }, async () => {
    const small = join(root, 'small');
    writeDataset(small, ['one', 'two'], 2);
    const out = join(root, 'out-spiketrack');
    const run = await cli(
      'eval',
      '--format',
      'got10k',
      '--dataset',
      small,
      '--checkpoint',
      `${fixturesDir}tiny-256-t3/model.pth.tar`,
      '--backend',
      'wasm',
      '--workers',
      '2',
      '--out',
      out,
    );
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('2 to run on 2 worker(s)');
    expect(run.stderr.match(/worker ready \(backend wasm\)/g)).toHaveLength(2);
    for (const name of ['one', 'two']) {
      const boxes = lines(join(out, 'spiketrack', `${name}.txt`)).map((l) => l.split(',').map(Number));
      expect(boxes).toHaveLength(2);
      for (const b of boxes) expect(b.every(Number.isFinite)).toBe(true);
      expect(lines(join(out, 'spiketrack', `${name}_time.txt`))).toHaveLength(2);
    }
    expect(run.stdout).toContain("tracker 'spiketrack'");
    expect(run.stdout).toMatch(/^overall /m);
    expect(existsSync(join(out, 'success.svg'))).toBe(true);
  });
});
