/**
 * Test-only: reads the F32 tensors of a reference `.safetensors` fixture (a minimal reader, so the
 * neuron tests do not depend on the io folder).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFixtureBytes } from '../../../../test-support/helpers';

export interface FixtureTensor {
  shape: number[];
  values: Float32Array;
}

export function readF32Fixture(rel: string): Map<string, FixtureTensor> {
  const bytes = readFixtureBytes(rel);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, FixtureTensor>();
  for (const [k, h] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    if (h.dtype !== 'F32') throw new Error(`${rel}: ${k} is ${h.dtype}, expected F32`);
    const [a, b] = h.data_offsets;
    const values = new Float32Array((b - a) / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(8 + n + a + 4 * i, true);
    out.set(k, { shape: h.shape, values });
  }
  return out;
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
