/**
 * Test-only: reads the reference fixtures and converts torch's NCHW / time-first NCHW tensors to
 * our NHWC layouts.
 */
import { type AnyModule, refreshExactConstants } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import type { FixtureTensor } from '../../../test-support/helpers';
import { type UnitFixture, readUnit, unitWeights } from '../../../test-support/unit-fixtures';

export { type UnitFixture, readUnit, unitWeights };

/** One raw fixture tensor. */
export function fixtureTensor(tensors: Map<string, FixtureTensor>, key: string): FixtureTensor {
  const t = tensors.get(key);
  if (!t) throw new Error(`fixture has no tensor '${key}'`);
  return t;
}

/**
 * Loads a unit's weights into `m` (torch layout), allowing only `num_batches_tracked` to be missing
 * (the fixtures leave it out), sets eval mode and makes the BN constants exact.
 */
export async function loadUnitInto(unit: UnitFixture, m: AnyModule): Promise<void> {
  const w = unitWeights(unit);
  try {
    const report = m.loadStateDict(w, { strict: false, source: unit.name });
    if (report.unexpected.length) throw new Error(`${unit.name}: unexpected keys ${report.unexpected}`);
    const missing = report.missing.filter((k) => !k.endsWith('num_batches_tracked'));
    if (missing.length) throw new Error(`${unit.name}: missing keys ${missing}`);
  } finally {
    for (const t of w.values()) t.dispose();
  }
  m.eval();
  await refreshExactConstants(m);
}

/**
 * A fixture tensor as a new tf tensor in our layout: images `[B, 3, H, W]` and maps `[B, C, H, W]`
 * become NHWC `[B, H, W, C]`, time-first features `[T, B, C, H, W]` become `[T, B, H, W, C]`;
 * other ranks are unchanged.
 */
export function toNhwc(t: FixtureTensor): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.tensor(t.values, t.shape, 'float32');
    if (t.shape.length === 4) return tf.transpose(x, [0, 2, 3, 1]);
    if (t.shape.length === 5) return tf.transpose(x, [0, 1, 3, 4, 2]);
    return x;
  });
}

/** The values of {@link toNhwc}. */
export async function nhwcValues(t: FixtureTensor): Promise<Float32Array> {
  const x = toNhwc(t);
  const v = (await x.data()) as Float32Array;
  x.dispose();
  return v;
}
