/**
 * Test-only: the reference unit fixtures (`units/<name>.safetensors` + `.json`), shared by every
 * package's parity tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type FixtureTensor, readFixtureF32, readFixtureJson } from './helpers';

export interface UnitFixture {
  name: string;
  json: {
    what: string;
    tolerance: { abs: number } & Record<string, unknown>;
    tensors: Record<string, { shape: number[] }>;
  } & Record<string, unknown>;
  tensors: Map<string, FixtureTensor>;
}

const cache = new Map<string, UnitFixture>();

/** Reads `units/<name>` (cached per test file). */
export function readUnit(name: string): UnitFixture {
  const hit = cache.get(name);
  if (hit) return hit;
  const tensors = readFixtureF32(`units/${name}.safetensors`);
  const unit = { name, json: readFixtureJson(`units/${name}.json`) as UnitFixture['json'], tensors };
  cache.set(name, unit);
  return unit;
}

/** The module weights of a unit (every key but `in.*`, `out.*`, `grad.*`) as new tensors, torch layout. */
export function unitWeights(unit: UnitFixture, prefix = ''): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [k, t] of unit.tensors) {
    if (/^(in|out|grad)\./.test(k)) continue;
    out.set(prefix + k, tf.tensor(t.values, t.shape, 'float32'));
  }
  return out;
}
