/**
 * The example end to end at a tiny size, so that it cannot rot: train.mjs takes two steps of a
 * small custom tracker (R = 32) on two threads, `spiketrack eval --tracker ./tracker.mjs --checkpoint` tracks a
 * two-sequence synthetic suite with it in a worker, energy.mjs measures it, and the module's
 * network works with Tracker, Trainer and trackerEnergy (checked by the scripts themselves).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SYNTHETIC_V1 } from 'spiketrack';
import { ensureSyntheticSuite } from 'spiketrack/node';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const example = join(here, '..');
const cli = join(
  dirname(createRequire(import.meta.url).resolve('spiketrack/package.json')),
  'dist',
  'cli.js',
);
const env = process.env.SPIKETRACK_BACKEND;
const backend = env === 'cpu' || env === 'wasm' ? env : 'wasm';
const root = mkdtempSync(join(tmpdir(), 'custom-tracker-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `node ...args` in the example's folder; resolves to its exit code and output. */
async function node(...args) {
  try {
    const r = await run(process.execPath, args, { cwd: example, maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(e) };
  }
}

describe(`examples/custom-tracker end to end (${backend})`, () => {
  const out = join(root, 'run');
  const model = join(out, 'model.safetensors');

  it('train.mjs trains the custom tracker with spiketrack’s Trainer and saves it with its configuration', async () => {
    const config = JSON.stringify({ resolution: 32, dims: [8, 16, 16, 16], decoderChannel: 16 });
    const r = await node(
      'train.mjs',
      '--out',
      out,
      '--steps',
      '2',
      '--batch',
      '2',
      '--backend',
      backend,
      '--config',
      config,
      '--workers',
      '2',
    );
    expect(r.stderr).toContain(`backend ${backend}, 2 thread(s)`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/calibrated \d+ frozen BatchNorms/);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([0, 1]);
    for (const l of lines) expect(Number.isFinite(l.loss)).toBe(true);
    expect(existsSync(model)).toBe(true);
    // A rerun resumes: nothing is left to do at 2 steps.
    const again = await node('train.mjs', '--out', out, '--steps', '2', '--backend', backend);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('resumed at step 2');
    // --norm-stats switches a resumed run to eval-mode BatchNorms from its step on, and says so.
    const bad = await node('train.mjs', '--out', out, '--steps', '3', '--norm-stats', 'frozen');
    expect([bad.code, bad.stderr]).toEqual([
      2,
      expect.stringMatching(/--norm-stats must be one of batch, running; got 'frozen'/),
    ]);
    const switched = await node(
      'train.mjs',
      '--out',
      out,
      '--steps',
      '3',
      '--backend',
      backend,
      '--norm-stats',
      'running',
    );
    expect(switched.code, switched.stderr).toBe(0);
    expect(switched.stderr).toContain('norm statistics from step 2: batch → running');
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect([run.normStats, run.normStatsChanges]).toEqual([
      'running',
      [{ step: 2, from: 'batch', to: 'running' }],
    ]);
  });

  it('spiketrack eval --tracker ./tracker.mjs --checkpoint tracks a synthetic suite with it', async () => {
    const data = join(root, 'synthetic-tiny');
    await ensureSyntheticSuite({
      suite: { ...SYNTHETIC_V1, name: 'synthetic-tiny', sequences: 2, frames: 5, width: 160, height: 120 },
      dir: data,
    });
    const evalOut = join(root, 'eval');
    const r = await node(
      cli,
      'eval',
      '--format',
      'synthetic',
      '--dataset',
      data,
      '--tracker',
      './tracker.mjs',
      '--checkpoint',
      model,
      '--workers',
      '1',
      '--backend',
      backend,
      '--out',
      evalOut,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`worker ready (backend ${backend})`);
    expect(r.stdout).toMatch(/^overall /m);
    for (const name of ['synthetic-tiny-001', 'synthetic-tiny-002']) {
      const boxes = readFileSync(join(evalOut, 'tracker', `${name}.txt`), 'utf8')
        .trim()
        .split('\n');
      expect(boxes).toHaveLength(5);
      for (const b of boxes) expect(b.split(',').map(Number).every(Number.isFinite)).toBe(true);
    }
    expect(existsSync(join(evalOut, 'success.svg'))).toBe(true);
  });

  it('energy.mjs reports its energy per frame', async () => {
    const json = join(root, 'energy.json');
    const r = await node(
      'energy.mjs',
      '--checkpoint',
      model,
      '--sequences',
      '1',
      '--frames',
      '3',
      '--no-bundled',
      '--backend',
      backend,
      '--json',
      json,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/custom-ilif-shallow-mrm2: R 32, .* µJ/);
    const [custom] = JSON.parse(readFileSync(json, 'utf8'));
    expect(custom.dense_gmacs_per_frame).toBeGreaterThan(0);
    expect(custom.energy_uj_per_frame).toBeGreaterThan(0);
  });

  it('energy.mjs without --checkpoint measures the bundled model alone, and says when there is nothing to measure', async () => {
    const json = join(root, 'energy-bundled.json');
    const r = await node(
      'energy.mjs',
      '--sequences',
      '1',
      '--frames',
      '2',
      '--backend',
      backend,
      '--json',
      json,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/spiketrack-synthetic-v1 \(bundled\): R 128, .* µJ/);
    const results = JSON.parse(readFileSync(json, 'utf8'));
    expect(results.map((x) => x.name)).toEqual(['spiketrack-synthetic-v1 (bundled)']);
    expect(results[0].energy_uj_per_frame).toBeGreaterThan(0);
    const none = await node('energy.mjs', '--no-bundled');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--no-bundled needs --checkpoint/);
  });
});
