import { describe, expect, it } from 'vitest';
import { isPowerOfTwo, lifLoop, lifLoopConfig, niLifLoop } from './loops';

describe('kernel loops', () => {
  it('isPowerOfTwo: exactly the float32 powers of two whose reciprocal is a float32', () => {
    for (const v of [1, 2, 4, 0.5, 2 ** 22, 2 ** -126, 2 ** 127])
      expect(isPowerOfTwo(v), String(v)).toBe(true);
    for (const v of [0, -2, 3, 1.5, 2 ** -127, 2 ** 128, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(isPowerOfTwo(v), String(v)).toBe(false);
    }
  });

  it('NI-LIF by hand: two neurons, three steps, σ = 1/2', () => {
    // mem_0 = x_0; s = round(clamp(mem))/4; mem_t = (mem − s)·0.5 + x_t
    const x = new Float32Array([2.5, 5, 1, -1, 0.5, 3]);
    const y = new Float32Array(6);
    niLifLoop(x, y, new Float32Array([0.5, 0.5]), 3, 2, 4, 'cpu', 'spikes');
    // n0: mem 2.5 → round 2 (tie to even) → s .5; mem (2.5−.5)·.5+1 = 2 → s .5; (2−.5)·.5+.5 = 1.25 → s .25
    // n1: mem 5 → 4 → s 1; (5−1)·.5−1 = 1 → s .25; (1−.25)·.5+3 = 3.375 → s .75
    expect(Array.from(y)).toEqual([0.5, 1, 0.5, 0.25, 0.25, 0.75]);
    niLifLoop(x, y, new Float32Array([0.5, 0.5]), 3, 2, 4, 'cpu', 'membrane');
    expect(Array.from(y)).toEqual([2.5, 5, 2, 1, 1.25, 3.375]);
  });

  it('LIF by hand: hard reset, τ = 2, V_th = 1', () => {
    const x = new Float32Array([2, 1, 2]);
    const y = new Float32Array(3);
    lifLoop(x, y, 3, 1, lifLoopConfig(2, 1, 'hard', 0, true), 'spikes');
    // H = 0 + 2/2 = 1 → spike, V = 0; H = 0.5 → none, V = 0.5; H = 0.5 + 1.5/2 = 1.25 → spike
    expect(Array.from(y)).toEqual([1, 0, 1]);
    lifLoop(x, y, 3, 1, lifLoopConfig(2, 1, 'hard', 0, true), 'membrane');
    expect(Array.from(y)).toEqual([1, 0.5, 1.25]);
  });
});
