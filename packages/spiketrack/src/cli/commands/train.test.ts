import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onWebGPU, testBackend } from '../../../../../test-support/helpers';
import { TINY_TRAIN_CONFIG } from '../../train/tiny-config.test-helper';
import { cli } from '../cli.test-helper';

// A tiny network at R = 32 on the synthetic generator; SwiftShader is far too slow for training.
const CONFIG = JSON.stringify(TINY_TRAIN_CONFIG);

describe.skipIf(onWebGPU())('spiketrack train', { timeout: 300_000 }, () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it.skipIf(testBackend() !== 'wasm')('trains, checkpoints, logs, evaluates, and resumes', async () => {
    const out = await mkdtemp(join(tmpdir(), 'spiketrack-train-'));
    dirs.push(out);
    const common = [
      '--config',
      CONFIG,
      '--batch',
      '2',
      '--out',
      out,
      '--backend',
      'wasm',
      '--checkpoint-every',
      '1',
      '--encoder-lr-scale',
      '0.5',
      '--recalibrate-every',
      '1',
    ];
    const first = await cli(
      'train',
      ...common,
      '--steps',
      '1',
      '--eval-every',
      '1',
      '--eval-sequences',
      '1',
      '--eval-frames',
      '3',
    );
    expect(first.code, first.stderr).toBe(0);
    for (const f of ['state.safetensors', 'model.safetensors', 'metrics.jsonl', 'eval.jsonl', 'run.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const line = JSON.parse((await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim());
    expect(Object.keys(line)).toEqual(
      expect.arrayContaining([
        'step',
        'epoch',
        'lr',
        'loss',
        'giou',
        'l1',
        'focal',
        'mean_iou',
        'grad_norm',
        'samples_per_s',
      ]),
    );
    expect(line.lr).toBeCloseTo(4e-4, 10);
    const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
    expect(run.encoderLrScale).toBe(0.5);
    expect(run.recalibrateEvery).toBe(1);
    const ev = JSON.parse((await readFile(join(out, 'eval.jsonl'), 'utf8')).trim());
    expect(ev.step).toBe(1);
    expect(ev.success_auc).toBeGreaterThanOrEqual(0);

    const again = await cli('train', ...common, '--steps', '2');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run.*--resume/);

    // a line logged after the last checkpoint (as after a crash between saves) is dropped on resume
    await appendFile(join(out, 'metrics.jsonl'), `${JSON.stringify({ step: 1, loss: 0 })}\n`);
    const resumed = await cli('train', ...common, '--steps', '2', '--resume', '--keep-every', '2');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed .* at step 1/);
    // --keep-every 2: the weights of step 2 kept beside the checkpoint's (the same bytes)
    expect(await readFile(join(out, 'snapshots', 'model-2.safetensors'))).toEqual(
      await readFile(join(out, 'model.safetensors')),
    );
    expect(existsSync(join(out, 'snapshots', 'model-1.safetensors'))).toBe(false);
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).step)).toEqual([0, 1]);
    expect(JSON.parse(lines[1] as string).loss).not.toBe(0);

    const changed = await cli(
      'train',
      ...common.map((v) => (v === '2' ? '3' : v)),
      '--steps',
      '3',
      '--resume',
    );
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/options differ/);

    // the schedule may change, with --amend, from the resumed step on
    const relr = (...more: string[]) =>
      cli('train', ...common, '--steps', '3', '--lr', '1e-4', '--resume', ...more);
    const refused = await relr();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/schedule options differ .*lr 0\.0004 → 0\.0001.*pass --amend/);
    const amended = await relr('--amend');
    expect(amended.code, amended.stderr).toBe(0);
    expect(amended.stderr).toMatch(/amended from step 2: lr 0\.0004 → 0\.0001/);
    const after = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
    expect(after.lr).toBe(1e-4);
    expect(after.amendments).toEqual([{ step: 2, from: { lr: 4e-4 }, to: { lr: 1e-4 } }]);
    const last = JSON.parse(
      (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').at(-1) as string,
    );
    expect(last.step).toBe(2);
    expect(last.lr).toBeCloseTo(1e-4, 10);
    // the amended run resumes with its new options, and keeps its history
    const again3 = await cli('train', ...common, '--steps', '3', '--lr', '1e-4', '--resume');
    expect(again3.code, again3.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).amendments).toHaveLength(1);
    // a run.json from before --norm-stats resumes as a batch-statistics run; --amend switches it
    const legacy = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
    delete legacy.normStats;
    await writeFile(join(out, 'run.json'), JSON.stringify(legacy));
    const plain = await cli('train', ...common, '--steps', '3', '--lr', '1e-4', '--resume');
    expect(plain.code, plain.stderr).toBe(0);
    const running = await cli(
      'train',
      ...common,
      ...['--steps', '4', '--lr', '1e-4', '--norm-stats', 'running', '--resume', '--amend'],
    );
    expect(running.code, running.stderr).toBe(0);
    expect(running.stderr).toMatch(/amended from step 3: normStats "batch" → "running"/);
    expect(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).normStats).toBe('running');
  });

  it.skipIf(testBackend() !== 'wasm')('--workers 2 shares each batch with a worker thread', async () => {
    const out = await mkdtemp(join(tmpdir(), 'spiketrack-train-'));
    dirs.push(out);
    const r = await cli(
      'train',
      '--config',
      CONFIG,
      '--batch',
      '2',
      '--steps',
      '2',
      '--workers',
      '2',
      '--out',
      out,
      '--backend',
      'wasm',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/data parallel: 2 threads \(1 workers on wasm\)/);
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([0, 1]);
    for (const l of lines) expect(Number.isFinite(l.loss) && Number.isFinite(l.grad_norm)).toBe(true);
    const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
    expect(run.workers).toBeUndefined();
  });

  it.skipIf(testBackend() !== 'cpu')('rejects bad options with exit code 2', async () => {
    const out = await mkdtemp(join(tmpdir(), 'spiketrack-train-'));
    dirs.push(out);
    const cases: [string[], RegExp][] = [
      [['--out', out], /--config is required/],
      [['--config', 'huge', '--out', out], /--config must be one of/],
      [['--config', '{nope', '--out', out], /not valid JSON/],
      [['--config', CONFIG, '--steps', '0', '--out', out], /--steps must be an integer ≥ 1/],
      [
        ['--config', CONFIG, '--encoder-lr-scale', '0', '--out', out],
        /--encoder-lr-scale must be a positive number/,
      ],
      [['--config', CONFIG, '--resume', '--out', out], /has no state\.safetensors/],
      [
        ['--config', CONFIG, '--data', join(out, 'none'), '--format', 'got10k', '--out', out],
        /no such folder/,
      ],
      [['--config', CONFIG, '--data', out, '--format', 'imagenet', '--out', out], /--format must be one of/],
      [['--config', CONFIG, '--workers', '0', '--out', out], /--workers must be an integer ≥ 1/],
      [['--config', CONFIG, '--amend', '--out', out], /--amend changes a resumed run: pass --resume too/],
      [
        ['--config', CONFIG, '--norm-stats', 'frozen', '--out', out],
        /--norm-stats must be one of batch, running/,
      ],
      [
        ['--config', CONFIG, '--batch', '2', '--workers', '3', '--out', out],
        /--workers 3: more threads than samples per step \(--batch 2\)/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await cli('train', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });
});
