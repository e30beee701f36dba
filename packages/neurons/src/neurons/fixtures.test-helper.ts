/** Test-only: reads the F32 tensors of a reference `.safetensors` fixture. */
import * as tf from '@tensorflow/tfjs-core';
import { type FixtureTensor, readFixtureF32 } from '../../../../test-support/helpers';

export type { FixtureTensor };

export function readF32Fixture(rel: string): Map<string, FixtureTensor> {
  return readFixtureF32(rel);
}

export function fixtureTensor(m: Map<string, FixtureTensor>, key: string): tf.Tensor {
  const t = m.get(key);
  if (!t) throw new Error(`fixture has no tensor '${key}'`);
  return tf.tensor(t.values, t.shape, 'float32');
}

export function fixtureValues(m: Map<string, FixtureTensor>, key: string): Float32Array {
  const t = m.get(key);
  if (!t) throw new Error(`fixture has no tensor '${key}'`);
  return t.values;
}
