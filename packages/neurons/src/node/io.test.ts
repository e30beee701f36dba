import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturesDir } from '../../../../test-support/helpers';
import { CheckpointError } from '../core/errors';
import { PickleObject } from '../io/pickle';
import { readTensorFile, readTorchPickleFile, writeSafetensorsFile } from './io';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node weight files', () => {
  it('detects the format by content, not by name', async () => {
    // a torch checkpoint under a misleading name
    const disguised = join(dir, 'weights.safetensors');
    copyFileSync(`${fixturesDir}units/trainer_checkpoint.pth.tar`, disguised);
    const a = await readTensorFile(disguised);
    expect(a.format).toBe('torch');
    expect(a.tensors.size).toBe(103);
    const b = await readTensorFile(`${fixturesDir}units/trainer_checkpoint.safetensors`);
    expect(b.format).toBe('safetensors');
    for (const [k, t] of b.tensors) expect(await a.tensors.get(k)!.data(), k).toEqual(await t.data());
    tf.dispose([...a.tensors.values(), ...b.tensors.values()]);
  });

  it('writes safetensors files that read back, with metadata and dtypes', async () => {
    const path = join(dir, 'out.safetensors');
    const w = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const n = tf.scalar(5, 'int32');
    await writeSafetensorsFile(path, { w, n }, { metadata: { k: 'v' }, dtypes: { n: 'I64' } });
    const r = await readTensorFile(path);
    expect(r.metadata).toEqual({ k: 'v' });
    expect([...(await r.tensors.get('w')!.data())]).toEqual([1, 2, 3, 4]);
    expect(r.tensors.get('n')!.dtype).toBe('int32');
    tf.dispose([w, n, ...r.tensors.values()]);
  });

  it('reads whole trainer checkpoints with inert placeholders', async () => {
    const pk = await readTorchPickleFile(`${fixturesDir}units/trainer_checkpoint.pth.tar`);
    expect((pk.root as Map<string, unknown>).get('settings')).toBeInstanceOf(PickleObject);
  });

  it('names the path in every error', async () => {
    const missing = join(dir, 'nope.pth');
    await expect(readTensorFile(missing)).rejects.toThrow(CheckpointError);
    await expect(readTensorFile(missing)).rejects.toThrow(missing);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]));
    await expect(readTensorFile(junk)).rejects.toThrow(`'${junk}'`);
    const cut = join(dir, 'cut.pth');
    writeFileSync(
      cut,
      new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    );
    await expect(readTensorFile(cut)).rejects.toThrow(`'${cut}'`);
    const t = tf.scalar(1);
    await expect(writeSafetensorsFile(join(dir, 'no/such/dir/x.safetensors'), { t })).rejects.toThrow(
      /cannot write/,
    );
    t.dispose();
  });
});
