import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { Prng } from './prng';
import { createHash } from 'node:crypto';
import {
  fbm,
  fbmIn,
  fbmLattices,
  noiseLattice,
  objectTexture,
  sampleTexture,
  similarTexture,
  type Texture,
  valueNoise,
  valueNoiseIn,
} from './texture';

/** Pearson correlation of two textures' values. */
function correlation(a: Texture, b: Texture): number {
  const n = a.data.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a.data[i]!;
    mb += b.data[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a.data[i]! - ma;
    const db = b.data[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe.skipIf(testBackend() !== 'cpu')('textures', () => {
  it('fBm stays in [0, 1] and is not constant', () => {
    const f = fbm(new Prng(1), 50, 40, 16, 3);
    expect(Math.min(...f)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...f)).toBeLessThanOrEqual(1);
    expect(Math.max(...f) - Math.min(...f)).toBeGreaterThan(0.2);
  });

  it('evaluates any region of a noise exactly as the whole image there', () => {
    // fBm as generator version 1 computed it (SHA-256 of the float32 values).
    const whole = fbm(new Prng(3), 50, 40, 16, 3);
    const bytes = new Uint8Array(whole.buffer);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      '6f794ba002eeafe7d0ded052e199fd5673a10b897b792491087535c7e930ea45',
    );
    const layers = fbmLattices(new Prng(3), 50, 40, 16, 3);
    const noise = noiseLattice(new Prng(4), 50, 40, 5.5);
    const noiseWhole = valueNoise(new Prng(4), 50, 40, 5.5);
    for (const r of [
      { x0: 0, y0: 0, x1: 50, y1: 40 },
      { x0: 7, y0: 3, x1: 29, y1: 31 },
      { x0: 49, y0: 0, x1: 50, y1: 40 },
      { x0: 16, y0: 16, x1: 17, y1: 17 },
    ]) {
      const rw = r.x1 - r.x0;
      const part = fbmIn(layers, r);
      const noisePart = valueNoiseIn(noise, r);
      for (let y = r.y0; y < r.y1; y++) {
        for (let x = r.x0; x < r.x1; x++) {
          const j = (y - r.y0) * rw + (x - r.x0);
          if (part[j] !== whole[y * 50 + x]) expect([x, y, part[j]]).toEqual([x, y, whole[y * 50 + x]]);
          if (noisePart[j] !== noiseWhole[y * 50 + x]) {
            expect([x, y, noisePart[j]]).toEqual([x, y, noiseWhole[y * 50 + x]]);
          }
        }
      }
    }
  });

  it('makes distractor textures that resemble the target more than another object does', () => {
    const p = new Prng(3);
    const target = objectTexture(p.fork(1), 32);
    const look = similarTexture(p.fork(2), target, 0.45);
    const other = objectTexture(p.fork(3), 32);
    const similar = correlation(target, look);
    expect(similar).toBeGreaterThan(0.5);
    expect(similar).toBeLessThan(0.99);
    expect(similar).toBeGreaterThan(correlation(target, other) + 0.2);
  });

  it('samples bilinearly: texel centres exactly, midpoints as the mean', () => {
    const tex: Texture = {
      width: 2,
      height: 2,
      data: new Float32Array([0, 0, 0, 10, 20, 30, 40, 40, 40, 50, 60, 70]),
    };
    const out = new Float32Array(3);
    sampleTexture(tex, 1, 0, out);
    expect([...out]).toEqual([10, 20, 30]);
    sampleTexture(tex, 0.5, 0.5, out);
    expect([...out]).toEqual([25, 30, 35]);
    sampleTexture(tex, -3, 9, out);
    expect([...out]).toEqual([40, 40, 40]);
  });
});
