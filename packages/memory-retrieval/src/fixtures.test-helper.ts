/**
 * Test-only: reads the reference fixtures (`units/<name>.safetensors` + `.json`, whole-model cases)
 * and converts torch's time-first NCHW to our NHWC.
 */
import type { AnyModule } from '@spiketrack/neurons';
import { refreshExactConstants } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { type FixtureTensor, readFixtureF32 } from '../../../test-support/helpers';
import { type UnitFixture, readUnit, unitWeights } from '../../../test-support/unit-fixtures';

export { type UnitFixture, readUnit, unitWeights };

/** One raw fixture tensor. */
export function raw(unit: UnitFixture, key: string): FixtureTensor {
  const t = unit.tensors.get(key);
  if (!t) throw new Error(`${unit.name}: no tensor '${key}'`);
  return t;
}

/** Loads a state dict into `m` (torch layout), sets eval mode and makes BN constants exact. Disposes `w`. */
export async function loadInto(
  m: AnyModule,
  w: Map<string, tf.Tensor>,
  opts: { strict?: boolean; source?: string } = {},
): Promise<{ unexpected: string[]; missing: string[] }> {
  try {
    const report = m.loadStateDict(w, { strict: opts.strict ?? true, source: opts.source ?? 'fixture' });
    m.eval();
    await refreshExactConstants(m);
    return { unexpected: report.unexpected, missing: report.missing };
  } finally {
    for (const t of w.values()) t.dispose();
  }
}

/**
 * Loads a unit's weights into `m`, eval mode, exact BN constants. Every key must match; only the
 * int64 `num_batches_tracked` counters, which the unit fixtures leave out, may be missing.
 */
export async function loadUnitInto(unit: UnitFixture, m: AnyModule): Promise<void> {
  const r = await loadInto(m, unitWeights(unit), { source: unit.name, strict: false });
  const missing = r.missing.filter((k) => !k.endsWith('num_batches_tracked'));
  if (missing.length || r.unexpected.length) {
    throw new Error(`${unit.name}: missing keys [${missing}], unexpected keys [${r.unexpected}]`);
  }
}

/** A torch time-first `[T, B, C, H, W]` tensor as our `[T, B, H, W, C]`. */
export function timeFirstNhwc(unit: UnitFixture, key: string): tf.Tensor5D {
  const t = raw(unit, key);
  if (t.shape.length !== 5) throw new Error(`${unit.name}: ${key} has shape [${t.shape}], expected rank 5`);
  return tf.tidy(() =>
    tf.transpose(tf.tensor5d(t.values, t.shape as [number, number, number, number, number]), [0, 1, 3, 4, 2]),
  );
}

/** A torch `[B, C, H, W]` tensor as our `[B, H, W, C]`. */
export function nhwc(unit: UnitFixture, key: string): tf.Tensor4D {
  const t = raw(unit, key);
  if (t.shape.length !== 4) throw new Error(`${unit.name}: ${key} has shape [${t.shape}], expected rank 4`);
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(t.values, t.shape as [number, number, number, number]), [0, 2, 3, 1]),
  );
}

/** The values of a torch `[T, B, C, H, W]` (or `[B, C, H, W]`) tensor reordered channels-last. */
export async function expectedNhwc(unit: UnitFixture, key: string): Promise<Float32Array> {
  const t = raw(unit, key).shape.length === 5 ? timeFirstNhwc(unit, key) : nhwc(unit, key);
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

/** Keeps a copy of every output of `m.apply` while `run` executes (forward hooks); the caller disposes. */
export function captureOutputs<R>(m: AnyModule, run: () => R): { result: R; outputs: tf.Tensor[] } {
  const outputs: tf.Tensor[] = [];
  const remove = m.onForward((_mod, _in, out) => {
    outputs.push(tf.keep(tf.clone(out as tf.Tensor)));
  });
  try {
    return { result: run(), outputs };
  } finally {
    remove();
  }
}

/**
 * Replaces every trainable parameter of `m` except the NI-LIF decays with seeded uniform values in
 * ±`range`, and sets eval mode. For tests on small random models.
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
export function readCaseTensors(
  rel: string,
  keep: (k: string) => boolean = () => true,
): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [k, t] of readFixtureF32(rel)) if (keep(k)) out.set(k, tf.tensor(t.values, t.shape, 'float32'));
  return out;
}
