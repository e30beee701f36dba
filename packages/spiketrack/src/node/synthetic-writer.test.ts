import { decode as decodeJpeg } from 'jpeg-js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { SyntheticSequence } from '../synthetic/sequence';
import { SYNTHETIC_V1 } from '../synthetic/suite';
import {
  ensureSyntheticSuite,
  formatBoxLine,
  syntheticCacheDir,
  writeSyntheticSequence,
} from './synthetic-writer';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-synthetic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = { seed: 3, name: 'seq-a', width: 64, height: 48, frames: 4, occlusions: 1 };

/** Every file of a folder (recursively) with its bytes. */
function snapshot(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.set(r, readFileSync(join(root, r)));
    }
  };
  walk('');
  return out;
}

describe.skipIf(testBackend() !== 'cpu')('writeSyntheticSequence', () => {
  it('writes a GOT-10k-style folder whose files match the generator', async () => {
    const folder = await writeSyntheticSequence(opts, join(dir, 'one'));
    expect(folder).toBe(join(dir, 'one', 'seq-a'));
    expect(readdirSync(folder).sort()).toEqual([
      '00000001.jpg',
      '00000002.jpg',
      '00000003.jpg',
      '00000004.jpg',
      'absence.label',
      'cover.label',
      'groundtruth.txt',
      'meta_info.ini',
    ]);
    const seq = new SyntheticSequence(opts);
    const frames = [...seq];
    const gt = readFileSync(join(folder, 'groundtruth.txt'), 'utf8').trim().split('\n');
    expect(gt).toEqual(frames.map((f) => formatBoxLine(f.box)));
    expect(gt[0]).toMatch(/^\d+\.\d{4},\d+\.\d{4},\d+\.\d{4},\d+\.\d{4}$/);
    expect(readFileSync(join(folder, 'cover.label'), 'utf8')).toBe(
      `${frames.map((f) => f.cover).join('\n')}\n`,
    );
    expect(readFileSync(join(folder, 'absence.label'), 'utf8')).toBe(
      `${frames.map((f) => (f.absent ? 1 : 0)).join('\n')}\n`,
    );
    expect(readFileSync(join(folder, 'meta_info.ini'), 'utf8')).toMatch(
      /resolution: \(64, 48\)[\s\S]*seed: 3/,
    );
    // The JPEG decodes to the rendered frame, up to compression error.
    const jpg = decodeJpeg(readFileSync(join(folder, '00000002.jpg')), {
      useTArray: true,
      formatAsRGBA: false,
    });
    expect([jpg.width, jpg.height]).toEqual([64, 48]);
    const rendered = frames[1]?.image.data ?? new Uint8Array(0);
    let err = 0;
    for (let i = 0; i < jpg.data.length; i++) err += Math.abs(jpg.data[i]! - rendered[i]!);
    expect(err / jpg.data.length).toBeLessThan(8);
    expect(readdirSync(join(dir, 'one'))).toEqual(['seq-a']); // no temporary folder left
  });

  it('writes identical bytes for the same seed', async () => {
    await writeSyntheticSequence(opts, join(dir, 'two'));
    const a = snapshot(join(dir, 'one'));
    const b = snapshot(join(dir, 'two'));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, v] of a) expect(b.get(k)?.equals(v), k).toBe(true);
  });

  it('writes only the annotations with images: false, and reports each rendered frame', async () => {
    const seen: number[] = [];
    const folder = await writeSyntheticSequence(opts, join(dir, 'labels'), {
      images: false,
      onFrame: (f, done, total) => seen.push(f.index, done, total),
    });
    expect(readdirSync(folder).sort()).toEqual([
      'absence.label',
      'cover.label',
      'groundtruth.txt',
      'meta_info.ini',
    ]);
    expect(seen).toEqual([0, 1, 4, 1, 2, 4, 2, 3, 4, 3, 4, 4]);
    await expect(writeSyntheticSequence(opts, dir, { quality: 0 })).rejects.toThrow(/quality/);
  });
});

describe.skipIf(testBackend() !== 'cpu')('ensureSyntheticSuite', () => {
  const suite = { ...SYNTHETIC_V1, name: 'mini-suite', sequences: 2, frames: 3, width: 48, height: 32 };

  it('generates a suite once, skips it when complete, and fills in what is missing', async () => {
    const root = join(dir, 'cache', 'mini-suite');
    const progress: number[] = [];
    const first = await ensureSyntheticSuite({
      suite,
      dir: root,
      onProgress: (d, t) => progress.push(d / t),
    });
    expect(first).toEqual({ dir: root, sequences: ['mini-suite-001', 'mini-suite-002'], generated: true });
    expect(progress.at(-1)).toBe(1);
    expect(readFileSync(join(root, 'list.txt'), 'utf8')).toBe('mini-suite-001\nmini-suite-002\n');
    expect(JSON.parse(readFileSync(join(root, '.complete'), 'utf8'))).toMatchObject({ generator: 1, suite });
    const before = snapshot(root);

    const again = await ensureSyntheticSuite({ suite, dir: root });
    expect(again.generated).toBe(false);

    // An interrupted run: no marker, one sequence missing. Only that one is rewritten.
    rmSync(join(root, '.complete'));
    rmSync(join(root, 'mini-suite-002'), { recursive: true });
    const kept = statSync(join(root, 'mini-suite-001', '00000001.jpg')).mtimeMs;
    const third = await ensureSyntheticSuite({ suite, dir: root });
    expect(third.generated).toBe(true);
    expect(statSync(join(root, 'mini-suite-001', '00000001.jpg')).mtimeMs).toBe(kept);
    const after = snapshot(root);
    for (const [k, v] of before) expect(after.get(k)?.equals(v), k).toBe(true);

    // A sequence folder from other options is regenerated.
    writeFileSync(join(root, 'mini-suite-001', 'meta_info.ini'), '[METAINFO]\nseed: 0\n');
    rmSync(join(root, '.complete'));
    await ensureSyntheticSuite({ suite, dir: root });
    expect(
      snapshot(root).get('mini-suite-001/meta_info.ini')?.equals(before.get('mini-suite-001/meta_info.ini')!),
    ).toBe(true);
  });

  it('puts the cache under SPIKETRACK_CACHE, else XDG_CACHE_HOME, else ~/.cache', () => {
    const saved = { a: process.env.SPIKETRACK_CACHE, b: process.env.XDG_CACHE_HOME };
    try {
      process.env.SPIKETRACK_CACHE = '/x/cache';
      expect(syntheticCacheDir()).toBe('/x/cache');
      delete process.env.SPIKETRACK_CACHE;
      process.env.XDG_CACHE_HOME = '/y';
      expect(syntheticCacheDir()).toBe(join('/y', 'spiketrack'));
      delete process.env.XDG_CACHE_HOME;
      expect(syntheticCacheDir()).toMatch(/\.cache[/\\]spiketrack$/);
    } finally {
      for (const [k, v] of [
        ['SPIKETRACK_CACHE', saved.a],
        ['XDG_CACHE_HOME', saved.b],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
