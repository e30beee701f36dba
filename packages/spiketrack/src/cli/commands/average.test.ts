import { readSafetensors } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../checkpoint/save';
import { SpikeTrackModel } from '../../model/model';
import { TINY_TRAIN_CONFIG } from '../../train/tiny-config.test-helper';
import { cli } from '../cli.test-helper';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-average-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('spiketrack average', () => {
  it('writes the mean of the checkpoints, which loads as the same network', async () => {
    const files: string[] = [];
    for (const [seed, step] of [
      [1, 250],
      [2, 500],
      [3, 750],
    ] as const) {
      const m = new SpikeTrackModel({ config: TINY_TRAIN_CONFIG, seed });
      const f = join(dir, `model-${step}.safetensors`);
      writeFileSync(f, await saveCheckpoint(m, { metadata: { 'spiketrack.trainer.step': String(step) } }));
      m.dispose();
      files.push(f);
    }
    const out = join(dir, 'swa.safetensors');
    const run = await cli('average', '--out', out, '--dtype', 'f16', ...files);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/swa\.safetensors: the mean of 3 checkpoints \(steps 250, 500, 750\)/);
    const bytes = new Uint8Array(await readFile(out));
    const model = await SpikeTrackModel.fromCheckpoint(bytes);
    expect(model.config.dims).toEqual([8, 8, 16, 16]);
    model.dispose();
    // one weight, by hand: the mean of the three files' values, rounded to F16
    const parts = await Promise.all(
      files.map(async (f) => readSafetensors(new Uint8Array(await readFile(f)))),
    );
    const avg = readSafetensors(bytes);
    expect(avg.metadata['spiketrack.average.of']).toBe('250,500,750');
    const name = 'decoder.conv1_ctr.0.weight';
    const want = tf.tidy(() => tf.div(tf.addN(parts.map((p) => p.tensors.get(name)!)), 3));
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(avg.tensors.get(name)!, want))));
    expect((await err.data())[0]).toBeLessThan(2e-3);
    tf.dispose([err, want, ...avg.tensors.values(), ...parts.flatMap((p) => [...p.tensors.values()])]);
  });

  it('rejects bad input with exit code 2 and a message that names it', async () => {
    const a = join(dir, 'a.safetensors');
    writeFileSync(a, await saveCheckpoint(new SpikeTrackModel({ config: TINY_TRAIN_CONFIG })));
    const broken = join(dir, 'broken.safetensors');
    writeFileSync(broken, new Uint8Array([1, 2, 3]));
    const out = join(dir, 'bad.safetensors');
    for (const [args, message] of [
      [[a], /at least two checkpoints/],
      [[a, join(dir, 'missing.safetensors')], /missing\.safetensors/],
      [[a, broken], /broken\.safetensors/],
      [[a, join(dir, 'model.pth.tar')], /reads \.safetensors files/],
      [['--dtype', 'f8', a, a], /--dtype must be one of f32, f16, bf16; got 'f8'/],
      [[a, `${dir}/./bad.safetensors`], /--out .* is also an input/],
    ] as const) {
      const r = await cli('average', '--out', out, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const noOut = await cli('average', a, a);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--out/);
    expect(existsSync(out)).toBe(false);
  });
});
