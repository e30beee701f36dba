/**
 * `spiketrack metrics` end to end on a small fake OTB folder and two results folders: JSON values
 * computed by hand, the printed table, the SVG plots, the server archive, and exit code 2 with a
 * message naming the problem (missing results, bad options, malformed files).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackend } from '../../../../../test-support/helpers';
import { cli } from '../cli.test-helper';

const tmp = mkdtempSync(join(tmpdir(), 'spiketrack-metrics-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tmp, rel)), { recursive: true });
    writeFileSync(join(tmp, rel), text);
  }
}

put({
  'otb/Basketball/groundtruth_rect.txt': '0,0,10,10\n0,0,10,10\n0,0,10,10\n',
  'otb/David/groundtruth_rect.txt': '0\t0\t10\t10\n0\t0\t10\t10\n',
  'mine/Basketball.txt': '0,0,10,10\n5,0,10,10\n0,0,10,10\n',
  'mine/David.txt': '0\t0\t10\t10\n0\t0\t10\t10\n',
  'perfect/Basketball.txt': '0,0,10,10\n0,0,10,10\n0,0,10,10\n',
  'perfect/David.txt': '0,0,10,10\n0,0,10,10\n',
  'partial/Basketball.txt': '0,0,10,10\n',
  'got/test/GOT-10k_Test_000001/groundtruth.txt': '1,2,3,4\n',
  'got/test/GOT-10k_Test_000001/00000001.jpg': '',
  'got/test/GOT-10k_Test_000001/00000002.jpg': '',
  'got/results/GOT-10k_Test_000001.txt': '1,2,3,4\n2,3,4,5\n',
  'got/results/GOT-10k_Test_000001_time.txt': '0.1\n0.02\n',
  // the synthetic suite's layout (GOT-10k's), as `spiketrack eval --format synthetic` writes it
  'synthetic/synthetic-v1-001/groundtruth.txt': '0,0,10,10\n0,0,10,10\n',
  'synthetic/synthetic-v1-001/00000001.jpg': '',
  'synthetic/synthetic-v1-001/00000002.jpg': '',
  'synthetic-results/synthetic-v1-001.txt': '0,0,10,10\n0,0,10,5\n',
});
const otb = join(tmp, 'otb');
/** `spiketrack metrics --format otb --dataset <the fake OTB> …args`. */
const onOtb = (...args: string[]) => cli('metrics', '--format', 'otb', '--dataset', otb, ...args);
/** `spiketrack metrics` on the fake GOT-10k test split and its results, `…args`. */
const gotDir = join(tmp, 'got');
const onGotTest = (...args: string[]) =>
  cli(
    'metrics',
    '--format',
    'got10k',
    '--dataset',
    `${gotDir}/test`,
    '--results',
    `${gotDir}/results`,
    ...args,
  );

describe.skipIf(testBackend() !== 'cpu')('spiketrack metrics', () => {
  it('prints pytracking-convention metrics as JSON (fractions), per sequence and overall', async () => {
    const r = await onOtb('--results', join(tmp, 'mine'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/98 OTB-100 sequence\(s\) not in/);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j.sequences)).toEqual(['Basketball', 'David']);
    // Basketball: overlaps 1, 1/3, 1 over 3 frames; David perfect over 2 frames.
    const b = j.sequences.Basketball;
    expect(b.success_auc).toBeCloseTo(47 / 63, 12);
    expect(b.precision).toBe(1);
    expect(b.norm_precision).toBeCloseTo(2 / 3, 12);
    expect(b.ao).toBeCloseTo(7 / 9, 12);
    expect(b.sr50).toBeCloseTo(2 / 3, 12);
    expect(b.frames).toBe(3);
    expect(j.sequences.David.success_auc).toBeCloseTo(20 / 21, 12);
    const o = j.overall;
    expect(Object.keys(o)).toEqual(['success_auc', 'precision', 'norm_precision', 'ao', 'sr50', 'sr75']);
    expect(o.success_auc).toBeCloseTo(107 / 126, 12);
    expect(o.precision).toBe(1);
    expect(o.norm_precision).toBeCloseTo(5 / 6, 12);
    expect(o.ao).toBeCloseTo(8 / 9, 12);
    expect(o.sr50).toBeCloseTo(5 / 6, 12);
    expect(o.sr75).toBeCloseTo(5 / 6, 12);
  });

  it('prints tables, compares trackers and writes the SVG plots', async () => {
    const plots = join(tmp, 'plots');
    const r = await cli(
      'metrics',
      '--format=otb',
      `--dataset=${otb}`,
      `--results=ours=${join(tmp, 'mine')}`,
      `--results=${join(tmp, 'perfect')}`,
      '--plots',
      plots,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OTB-100: 2 sequences, tracker 'ours' \(rates in %\)/);
    expect(r.stdout).toMatch(/overall +84\.92 +100\.00 +83\.33 +88\.89 +83\.33 +83\.33/);
    expect(r.stdout).toMatch(/Basketball +74\.60/);
    expect(r.stdout).toMatch(/tracker 'perfect'/);
    const success = readFileSync(join(plots, 'success.svg'), 'utf8');
    expect(success).toContain('<title>perfect [95.2]</title>');
    expect(success).toContain('<title>ours [84.9]</title>');
    expect(success.indexOf('perfect [95.2]')).toBeLessThan(success.indexOf('ours [84.9]'));
    expect(readFileSync(join(plots, 'precision.svg'), 'utf8')).toContain('Precision plot: OTB-100');
    expect(readFileSync(join(plots, 'norm_precision.svg'), 'utf8')).toContain('</svg>');

    const two = await onOtb(
      '--results',
      join(tmp, 'mine'),
      '--results',
      `b=${join(tmp, 'perfect')}`,
      '--json',
    );
    expect(Object.keys(JSON.parse(two.stdout).trackers)).toEqual(['mine', 'b']);
  });

  it('--format synthetic scores the synthetic suite, named synthetic-v1 in the table and plots', async () => {
    const plots = join(tmp, 'plots-synthetic');
    const args = ['metrics', '--format', 'synthetic', '--dataset', join(tmp, 'synthetic')];
    const r = await cli(
      ...args,
      '--results',
      `SpikeTrack=${join(tmp, 'synthetic-results')}`,
      '--plots',
      plots,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^synthetic-v1: 1 sequences, tracker 'SpikeTrack'/m);
    // IoU 1 (frame 0) exceeds 20 of the 21 thresholds 0, 0.05, …, 1; IoU 0.5 exceeds 10: 30 / 42
    expect(r.stdout).toMatch(/^overall +71\.43 /m);
    expect(readFileSync(join(plots, 'success.svg'), 'utf8')).toContain('Success plot: synthetic-v1');
    const pack = await cli(
      ...args,
      '--results',
      join(tmp, 'synthetic-results'),
      '--pack',
      join(tmp, 'x.zip'),
    );
    expect(pack.code).toBe(2);
    expect(pack.stderr).toMatch(/--pack is for GOT-10k test and TrackingNet test/);
  });

  it('packs GOT-10k test results for the server', async () => {
    const zip = join(tmp, 'got.zip');
    const r = await onGotTest('--pack', zip);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote .*got\.zip \(1 sequences/);
    const text = readFileSync(zip).toString('latin1');
    expect(text).toContain('GOT-10k_Test_000001/GOT-10k_Test_000001_001.txt1,2,3,4\n2,3,4,5\n');
    expect(text).toContain('GOT-10k_Test_000001/GOT-10k_Test_000001_time.txt0.10000000\n0.02000000\n');
    const scored = await onGotTest();
    expect(scored.code).toBe(2);
    expect(scored.stderr).toMatch(/not public/);
  });

  it('exits 2 with a message naming the problem', async () => {
    const missing = await onOtb('--results', join(tmp, 'partial'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no results for sequence 'David'/);
    const fmt = await cli('metrics', '--format', 'vot', '--dataset', otb, '--results', join(tmp, 'mine'));
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toMatch(/--format must be one of lasot, got10k, otb, uav, nfs, trackingnet, tnl2k/);
    const noResults = await cli('metrics', '--format', 'otb', '--dataset', otb);
    expect(noResults.code).toBe(2);
    expect(noResults.stderr).toMatch(/--results is required/);
    put({ 'bad/Basketball.txt': '0,0,10,10\n1;2;3;4\n', 'bad/David.txt': '0,0,10,10\n' });
    const bad = await onOtb('--results', join(tmp, 'bad'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\/Basketball\.txt:2: expected 4 values/);
    const help = await cli('metrics', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: spiketrack metrics --format FORMAT/);
  });
});
