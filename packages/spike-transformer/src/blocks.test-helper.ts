/** Test-only: shared checks of the block modules. */
import type { AnyModule } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { readFixtureJson } from '../../../test-support/helpers';

/** The torch shapes of `configs/tiny_256_t3.json` under `prefix` (prefix removed). */
export function referenceShapes(prefix: string): Map<string, number[]> {
  const cfg = readFixtureJson<{ keys: Record<string, { shape: number[] }> }>('configs/tiny_256_t3.json');
  const out = new Map<string, number[]>();
  for (const [k, v] of Object.entries(cfg.keys))
    if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v.shape);
  return out;
}

/** Asserts that `m`'s torch-layout state dict has exactly `expected`'s keys and shapes. */
export function expectStateShapes(m: AnyModule, expected: Map<string, number[]>): void {
  const ours = m.stateShapes({ layout: 'torch' });
  expect([...ours.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [k, s] of expected) expect(ours.get(k), k).toEqual(s);
}

/**
 * Asserts that `loss` has a finite gradient for every trainable parameter of `m`, non-zero unless
 * its name matches `zero` (which must then be zero or absent).
 */
export async function expectParamGrads(m: AnyModule, loss: () => tf.Scalar, zero?: RegExp): Promise<void> {
  const params = [...m.trainableParameters()];
  const { value, grads } = tf.variableGrads(
    loss,
    params.map((p) => p[1]),
  );
  try {
    for (const [k, p] of params) {
      const shouldBeZero = zero?.test(k) ?? false;
      const g = grads[p.name];
      if (!g && shouldBeZero) continue;
      expect(g, k).toBeDefined();
      const v = await g!.data();
      expect(v.every(Number.isFinite), `${k}: finite`).toBe(true);
      expect(
        v.some((e) => e !== 0),
        `${k}: gradient ${shouldBeZero ? 'should be zero' : 'is zero'}`,
      ).toBe(!shouldBeZero);
    }
  } finally {
    tf.dispose([value, grads]);
  }
}
