/**
 * Test-only: reads the reference unit fixtures (`units/<name>.safetensors` + `.json`) and
 * converts torch's time-first NCHW to our NHWC.
 */
import type { AnyModule } from '@spiketrack/neurons';
import { refreshExactConstants } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { type FixtureTensor, readFixtureF32 } from '../../../test-support/helpers';
import { type UnitFixture, readUnit, unitWeights } from '../../../test-support/unit-fixtures';

export { type UnitFixture, readUnit, unitWeights };

export type { FixtureTensor };

function get(unit: UnitFixture, key: string): FixtureTensor {
  const t = unit.tensors.get(key);
  if (!t) throw new Error(`${unit.name}: no tensor '${key}'`);
  return t;
}

/** Loads a unit's weights into `m` (strict by default, torch layout; never with unexpected keys), sets eval mode, and makes BN constants exact. */
export async function loadUnitInto(
  unit: UnitFixture,
  m: AnyModule,
  opts: { strict?: boolean } = {},
): Promise<void> {
  const w = unitWeights(unit);
  try {
    const report = m.loadStateDict(w, { strict: opts.strict ?? true, source: unit.name });
    if (report.unexpected.length) throw new Error(`${unit.name}: unexpected keys ${report.unexpected}`);
  } finally {
    for (const t of w.values()) t.dispose();
  }
  m.eval();
  await refreshExactConstants(m);
}

/** A torch time-first `[T, B, C, H, W]` tensor of the unit, as our `[T, B, H, W, C]`. */
export function timeFirstNhwc(unit: UnitFixture, key: string): tf.Tensor5D {
  const t = get(unit, key);
  if (t.shape.length !== 5) throw new Error(`${unit.name}: ${key} has shape [${t.shape}], expected rank 5`);
  return tf.tidy(() =>
    tf.transpose(tf.tensor5d(t.values, t.shape as [number, number, number, number, number]), [0, 1, 3, 4, 2]),
  );
}

/** The values of a torch `[T, B, C, H, W]` tensor of the unit, reordered to `[T, B, H, W, C]`. */
export async function expectedNhwc(unit: UnitFixture, key: string): Promise<Float32Array> {
  const t = timeFirstNhwc(unit, key);
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

/** The tolerance the unit's JSON gives. */
export function unitTolerance(unit: UnitFixture): number {
  return unit.json.tolerance.abs;
}

/**
 * Replaces every trainable parameter of `m` except the NI-LIF decays with seeded uniform values
 * in ±`range` (large enough that the neurons fire, unlike torch's default init of small layers),
 * and sets eval mode. For gradient tests on small shapes.
 */
export async function randomizeParams(m: AnyModule, seed: number, range = 1): Promise<void> {
  let i = 0;
  for (const [k, p] of m.namedParameters()) {
    if (k.endsWith('decay')) continue;
    const r = tf.randomUniform(p.shape, -range, range, 'float32', seed + i++);
    p.assign(r);
    r.dispose();
  }
  m.eval();
  await refreshExactConstants(m);
}

/** The F32 tensors of a whole-model fixture's safetensors file (torch layouts; the caller disposes). */
export function readCaseTensors(rel: string): Map<string, tf.Tensor> {
  return new Map([...readFixtureF32(rel)].map(([k, t]) => [k, tf.tensor(t.values, t.shape, 'float32')]));
}
