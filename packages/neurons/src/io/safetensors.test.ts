import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, readFixtureBytes } from '../../../../test-support/helpers';
import { CheckpointError, ConfigError } from '../core/errors';
import { bfloat16ToFloat32, float32ToBfloat16, float32ToHalfBits, halfToFloat32 } from './binary';
import {
  decodeSafetensor,
  type EncodableTensor,
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  SAFETENSORS_DTYPE_SIZE,
  type SafetensorsDtype,
  type SafetensorsEntry,
  writeSafetensors,
} from './safetensors';

const enc = new TextEncoder();

/** A safetensors file with a hand-written header (for malformed cases). */
function rawFile(header: unknown, dataBytes = 0, headerLengthOverride?: number): Uint8Array {
  const json = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLengthOverride ?? json.length, true);
  out.set(json, 8);
  return out;
}

function expectCheckpointError(fn: () => unknown, ...parts: (string | RegExp)[]): CheckpointError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a CheckpointError').toBeInstanceOf(CheckpointError);
  for (const p of parts) expect((err as Error).message).toMatch(p);
  return err as CheckpointError;
}

describe('safetensors from a Node Buffer', () => {
  it("decodes the values, not the bytes at the start of the Buffer's memory (Buffer#slice is a view)", () => {
    const values = new Float32Array([0.5, -1.25, 3, 7]);
    const bytes = encodeSafetensors(new Map([['x', { dtype: 'F32' as const, shape: [4], values }]]), {
      metadata: { note: 'a header long enough to matter' },
    });
    // a Buffer that sits inside a larger ArrayBuffer, as Node's file reads and pools give
    const pool = Buffer.alloc(bytes.length + 13);
    pool.set(bytes, 13);
    const buf = pool.subarray(13, 13 + bytes.length);
    const entry = parseSafetensors(buf).tensors.get('x');
    expect(Array.from(decodeSafetensor(entry as SafetensorsEntry).values)).toEqual([0.5, -1.25, 3, 7]);
  });
});

describe('half and bfloat16 conversion', () => {
  it('every finite half value survives half → float32 → half', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = halfToFloat32(all);
    for (let i = 0; i < 65536; i++) {
      const exp = (i >> 10) & 0x1f;
      if (exp === 31 && i & 0x3ff) {
        expect(Number.isNaN(f[i]!)).toBe(true);
        continue;
      }
      expect(float32ToHalfBits(f[i]!), `bits 0x${i.toString(16)}`).toBe(i);
    }
  });

  it('rounds to nearest, ties to even, overflow to infinity', () => {
    const all = halfToFloat32(new Uint16Array(0x7c00).map((_, i) => i)); // +0 … max finite
    for (let i = 0; i + 1 < all.length; i++) {
      const a = all[i]!;
      const b = all[i + 1]!;
      const mid = (a + b) / 2; // exact in float32: halves have 11 significant bits
      expect(Math.fround(mid)).toBe(mid);
      const even = i % 2 === 0 ? i : i + 1;
      expect(float32ToHalfBits(mid), `tie between 0x${i.toString(16)} and next`).toBe(even);
      expect(float32ToHalfBits(Math.fround(mid + (b - a) / 8))).toBe(i + 1);
      expect(float32ToHalfBits(Math.fround(mid - (b - a) / 8))).toBe(i);
      expect(float32ToHalfBits(-mid)).toBe(even | 0x8000);
    }
    expect(float32ToHalfBits(65520)).toBe(0x7c00); // halfway above max finite rounds to inf
    expect(float32ToHalfBits(65519)).toBe(0x7bff);
    expect(float32ToHalfBits(2 ** -26)).toBe(0); // below half of the smallest subnormal
  });

  it('bfloat16 rounds to nearest even and decodes exactly', () => {
    const x = Float32Array.from([1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -7 + 2 ** -9, 3e38]);
    const back = bfloat16ToFloat32(float32ToBfloat16(x));
    expect([...back.slice(0, 5)]).toEqual([1, -2.5, 1, 1 + 2 ** -6, 1 + 2 ** -7]);
    expect(back[5]).toBe(Math.fround(back[5]!));
  });
});

describe('safetensors round trip', () => {
  const cases: { dtype: SafetensorsDtype; values: number[]; expected: number[]; tf: string }[] = [
    {
      dtype: 'F32',
      values: [1.5, -2.25, 3e-39, 1e30],
      expected: [1.5, -2.25, Math.fround(3e-39), Math.fround(1e30)],
      tf: 'float32',
    },
    { dtype: 'F64', values: [0.1, -2, 1e-300], expected: [Math.fround(0.1), -2, 0], tf: 'float32' },
    {
      dtype: 'F16',
      values: [1.5, -2.25, 65504, 2 ** -24, 0.1],
      expected: [1.5, -2.25, 65504, 2 ** -24, 0.0999755859375],
      tf: 'float32',
    },
    { dtype: 'BF16', values: [1.5, -2.25, 0.1], expected: [1.5, -2.25, 0.10009765625], tf: 'float32' },
    {
      dtype: 'I64',
      values: [0, -1, 2 ** 31 - 1, -(2 ** 31)],
      expected: [0, -1, 2 ** 31 - 1, -(2 ** 31)],
      tf: 'int32',
    },
    { dtype: 'I32', values: [7, -8, 2 ** 31 - 1], expected: [7, -8, 2 ** 31 - 1], tf: 'int32' },
    { dtype: 'I16', values: [-32768, 32767], expected: [-32768, 32767], tf: 'int32' },
    { dtype: 'I8', values: [-128, 5, 127], expected: [-128, 5, 127], tf: 'int32' },
    { dtype: 'U8', values: [0, 200, 255], expected: [0, 200, 255], tf: 'int32' },
    { dtype: 'BOOL', values: [1, 0, 1], expected: [1, 0, 1], tf: 'bool' },
  ];

  it('encodes and decodes every dtype, with metadata and aligned data', async () => {
    const map = new Map<string, EncodableTensor>();
    for (const c of cases)
      map.set(`t.${c.dtype}`, { dtype: c.dtype, shape: [c.values.length], values: c.values });
    map.set('odd.u8', { dtype: 'U8', shape: [3, 1], values: [1, 2, 3] });
    map.set('scalar', { dtype: 'F32', shape: [], values: [4] });
    map.set('empty', { dtype: 'F32', shape: [0, 3], values: [] });
    const bytes = encodeSafetensors(map, { metadata: { format: 'pt', note: 'ünï' } });
    const parsed = parseSafetensors(bytes, { source: 'mem.safetensors' });
    expect(parsed.headerLength % 8).toBe(0);
    expect([...parsed.tensors.keys()]).toEqual([...map.keys()]);
    expect(parsed.metadata).toEqual({ format: 'pt', note: 'ünï' });
    for (const [, e] of parsed.tensors) {
      expect((e.bytes.byteOffset - 8 - parsed.headerLength) % SAFETENSORS_DTYPE_SIZE[e.dtype]).toBe(0);
    }
    const { tensors, metadata } = readSafetensors(bytes);
    expect(metadata.format).toBe('pt');
    for (const c of cases) {
      const t = tensors.get(`t.${c.dtype}`)!;
      expect(t.dtype, c.dtype).toBe(c.tf);
      expect([...(await t.data())], c.dtype).toEqual(c.expected);
    }
    expect(tensors.get('odd.u8')!.shape).toEqual([3, 1]);
    expect(tensors.get('scalar')!.shape).toEqual([]);
    expect([...(await tensors.get('scalar')!.data())]).toEqual([4]);
    expect(tensors.get('empty')!.shape).toEqual([0, 3]);
    tf.dispose([...tensors.values()]);
  });

  it('writes tf tensors with dtype overrides (I64 for num_batches_tracked, F16, U8)', async () => {
    const w = tf.tensor2d([
      [1, -2],
      [0.5, 4],
    ]);
    const nbt = tf.scalar(3, 'int32');
    const img = tf.tensor1d([0, 128, 255], 'int32');
    const half = tf.tensor1d([0.1, 1000]);
    const mask = tf.tensor1d([true, false], 'bool');
    const bytes = await writeSafetensors(
      { w, nbt, img, half, mask },
      { metadata: { by: 'test' }, dtypes: { nbt: 'I64', img: 'U8', half: 'F16' } },
    );
    const parsed = parseSafetensors(bytes);
    expect([...parsed.tensors].map(([k, e]) => [k, e.dtype])).toEqual([
      ['w', 'F32'],
      ['nbt', 'I64'],
      ['img', 'U8'],
      ['half', 'F16'],
      ['mask', 'BOOL'],
    ]);
    expect(decodeSafetensor(parsed.tensors.get('nbt')!).values).toEqual(Int32Array.from([3]));
    const back = readSafetensors(bytes).tensors;
    expect([...(await back.get('w')!.data())]).toEqual([1, -2, 0.5, 4]);
    expect([...(await back.get('img')!.data())]).toEqual([0, 128, 255]);
    expect([...(await back.get('half')!.data())]).toEqual([0.0999755859375, 1000]);
    expect([...(await back.get('mask')!.data())]).toEqual([1, 0]);
    tf.dispose([...back.values(), w, nbt, img, half, mask]);
  });

  it('rejects values that do not fit the requested dtype, and bad options', async () => {
    const t = tf.tensor1d([1.5, 300]);
    await expect(writeSafetensors({ t }, { dtypes: { t: 'U8' } })).rejects.toThrow(/'t'.*1\.5.*U8/);
    await expect(writeSafetensors({ t }, { dtypes: { other: 'F32' } })).rejects.toThrow(ConfigError);
    expect(() => encodeSafetensors(new Map([['x', { dtype: 'F32', shape: [3], values: [1] }]]))).toThrow(
      /needs 3 values, got 1/,
    );
    t.dispose();
  });

  it('round-trips a fixture file bit for bit through tf tensors', async () => {
    const bytes = readFixtureBytes('units/trainer_checkpoint.safetensors');
    const a = readSafetensors(bytes, { source: 'trainer_checkpoint.safetensors' });
    const again = await writeSafetensors(a.tensors, { metadata: a.metadata });
    const pa = parseSafetensors(bytes);
    const pb = parseSafetensors(again);
    expect([...pb.tensors.keys()]).toEqual([...pa.tensors.keys()]);
    for (const [k, e] of pa.tensors) {
      expect(pb.tensors.get(k)!.shape).toEqual(e.shape);
      expect(pb.tensors.get(k)!.bytes).toEqual(e.bytes);
    }
    tf.dispose([...a.tensors.values()]);
  });

  it('leaves no tensors behind: results are the caller’s, failures dispose what was made', async () => {
    const bytes = readFixtureBytes('units/ms_mlp_frozen.safetensors');
    await expectNoLeak(() => [...readSafetensors(bytes).tensors.values()]);
    const bad = encodeSafetensors(
      new Map<string, EncodableTensor>([
        ['ok', { dtype: 'F32', shape: [2], values: [1, 2] }],
        ['big', { dtype: 'I64', shape: [1], values: BigInt64Array.from([2n ** 40n]) }],
      ]),
    );
    const before = tf.memory().numTensors;
    expectCheckpointError(
      () => readSafetensors(bad, { source: 'big.safetensors' }),
      "'big.safetensors'",
      "'big'",
      '1099511627776',
      /int32/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('safetensors header validation', () => {
  const src = { source: 'bad.safetensors' };
  const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('accepts the minimal valid file', () => {
    expect(parseSafetensors(rawFile(ok, 8), src).tensors.get('x')!.shape).toEqual([2]);
  });
  it('rejects short files and impossible header lengths', () => {
    expectCheckpointError(() => parseSafetensors(new Uint8Array(5), src), "'bad.safetensors'", /too short/);
    expectCheckpointError(
      () => parseSafetensors(rawFile(ok, 8, 10_000), src),
      "'bad.safetensors'",
      /header length 10000/,
    );
    const huge = rawFile(ok, 8);
    new DataView(huge.buffer).setUint32(4, 1, true); // 2^32 + n
    expectCheckpointError(() => parseSafetensors(huge, src), /exceeds/);
  });
  it('rejects invalid JSON, non-objects and bad metadata', () => {
    expectCheckpointError(
      () => parseSafetensors(rawFile('{"x": ', 0), src),
      "'bad.safetensors'",
      /not valid JSON/,
    );
    expectCheckpointError(() => parseSafetensors(rawFile('[1,2]', 0), src), /must be a JSON object/);
    expectCheckpointError(
      () => parseSafetensors(rawFile({ __metadata__: { a: 1 } }), src),
      /__metadata__\['a'\]/,
    );
    const badUtf8 = rawFile('{"a":1}');
    badUtf8[10] = 0xff;
    expectCheckpointError(() => parseSafetensors(badUtf8, src), /UTF-8/);
  });
  it('names the tensor for dtype, shape and offset errors', () => {
    const entry = (e: unknown) => rawFile({ 'enc.w': e }, 16);
    expectCheckpointError(
      () => parseSafetensors(entry({ dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] }), src),
      "'enc.w'",
      /unsupported dtype/,
    );
    expectCheckpointError(
      () => parseSafetensors(entry({ dtype: 'F32', shape: [-1], data_offsets: [0, 4] }), src),
      "'enc.w'",
      /shape/,
    );
    expectCheckpointError(
      () => parseSafetensors(entry({ dtype: 'F32', shape: [2], data_offsets: [0] }), src),
      "'enc.w'",
      /data_offsets/,
    );
    expectCheckpointError(
      () => parseSafetensors(entry({ dtype: 'F32', shape: [8], data_offsets: [0, 32] }), src),
      "'enc.w'",
      /outside the data section of 16 bytes/,
    );
    expectCheckpointError(
      () => parseSafetensors(entry({ dtype: 'F32', shape: [2], data_offsets: [8, 4] }), src),
      "'enc.w'",
      /outside/,
    );
    expectCheckpointError(
      () => parseSafetensors(entry({ dtype: 'F32', shape: [3], data_offsets: [0, 8] }), src),
      "'enc.w'",
      /needs 12 bytes, data_offsets give 8/,
    );
    expectCheckpointError(() => parseSafetensors(entry('nope'), src), "'enc.w'", /must be an object/);
  });
  it('rejects overlapping tensors', () => {
    const f = rawFile(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      16,
    );
    expectCheckpointError(() => parseSafetensors(f, src), "'bad.safetensors'", "'b'", "'a'", /overlaps/);
  });
  it('is safe with hostile keys', () => {
    // JSON.parse makes "__proto__" an own key; it must come out as a plain tensor name
    const header =
      '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"__proto__":"x"}}';
    const g = rawFile(header, 4);
    const p = parseSafetensors(g, src);
    expect([...p.tensors.keys()]).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(p.metadata, '__proto__')?.value).toBe('x');
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
  });
});
