import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { decodeSafetensor, parseSafetensors } from '../packages/neurons/src/io/safetensors';

/** The name of the backend the current test runs on. */
export const testBackend = (): string => tf.getBackend();

/** True on the slow software WebGPU: tests use smaller shapes there. */
export const onWebGPU = (): boolean => tf.getBackend() === 'webgpu';

/** Absolute path of the shared reference fixtures (`../shared/fixtures/reference`). */
export const fixturesDir = fileURLToPath(new URL('../../shared/fixtures/reference/', import.meta.url));

export function readFixtureJson<T = Record<string, unknown>>(rel: string): T {
  return JSON.parse(readFileSync(`${fixturesDir}${rel}`, 'utf8')) as T;
}

export function readFixtureBytes(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(`${fixturesDir}${rel}`));
}

/**
 * Asserts that repeated calls of `fn` do not grow `tf.memory().numTensors`.
 * `fn` runs once to warm up (kernels may cache constants), then `times` more.
 */
export async function expectNoLeak(fn: () => unknown | Promise<unknown>, times = 3): Promise<void> {
  const dispose = (r: unknown) => {
    if (r instanceof tf.Tensor) r.dispose();
    else if (r && typeof r === 'object') tf.dispose(r as tf.TensorContainer);
  };
  dispose(await fn());
  const before = tf.memory().numTensors;
  for (let i = 0; i < times; i++) dispose(await fn());
  expect(tf.memory().numTensors).toBe(before);
}

/** Max absolute difference between two arrays of numbers. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Asserts elementwise closeness with a message that gives the worst index. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  what = 'values',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let m = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= m)) {
      m = d;
      worst = i;
    }
  }
  expect(
    m,
    `${what}: max |diff| ${m} at index ${worst} (actual ${actual[worst]}, expected ${expected[worst]}) > ${atol}`,
  ).toBeLessThanOrEqual(atol);
}

/** One float32 fixture tensor, read without creating a tf tensor. */
export interface FixtureTensor {
  shape: number[];
  values: Float32Array;
}

/**
 * Reads the F32 tensors of a reference `.safetensors` fixture (relative to the fixtures dir) with
 * our own safetensors parser, as raw float32 arrays.
 */
export function readFixtureF32(rel: string): Map<string, FixtureTensor> {
  const parsed = parseSafetensors(readFixtureBytes(rel), { source: rel });
  const out = new Map<string, FixtureTensor>();
  for (const [name, entry] of parsed.tensors) {
    if (entry.dtype !== 'F32') throw new Error(`${rel}: ${name} is ${entry.dtype}, expected F32`);
    const d = decodeSafetensor(entry, { source: rel, name });
    out.set(name, { shape: entry.shape, values: d.values as Float32Array });
  }
  return out;
}
