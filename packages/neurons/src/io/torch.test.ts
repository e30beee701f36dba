import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, readFixtureBytes, readFixtureJson } from '../../../../test-support/helpers';
import { CheckpointError } from '../core/errors';
import { detectWeightFormat, readWeights } from './format';
import { PickleGlobal, PickleObject, pickleState } from './pickle';
import {
  f32Bytes,
  i64Bytes,
  PickleBuilder,
  torchZip,
  writeStateDict,
  writeTensor,
} from './pickle-builder.test-helper';
import { Conv2d } from '../nn/conv';
import { parseSafetensors, readSafetensors, writeSafetensors } from './safetensors';
import {
  findStateDict,
  readTorchCheckpoint,
  readTorchPickle,
  TORCH_PICKLE_ALLOWLIST,
  TorchTensorRef,
  torchValuesForTf,
} from './torch';
import { readZip } from './zip';

function expectError(fn: () => unknown, ...parts: (string | RegExp)[]): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a CheckpointError').toBeInstanceOf(CheckpointError);
  for (const p of parts) expect((err as Error).message).toMatch(p);
  return (err as Error).message;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

interface ConfigJson {
  num_keys: number;
  keys: Record<string, { shape: number[]; dtype: string }>;
}

const TORCH_TO_TF: Record<string, string> = { float32: 'float32', int64: 'int32' };

describe('official-format checkpoint: tiny-256-t3/model.pth.tar', () => {
  const bytes = readFixtureBytes('tiny-256-t3/model.pth.tar');
  const config = readFixtureJson<ConfigJson>('configs/tiny_256_t3.json');

  it('has exactly the keys, shapes and dtypes of the reference config', () => {
    const pk = readTorchPickle(bytes, { source: 'model.pth.tar' });
    expect(pk.prefix).toBe('model.pth/');
    expect(pk.protocol).toBe(2);
    expect(pk.globals.sort()).toEqual([
      'collections.OrderedDict',
      'torch.FloatStorage',
      'torch.LongStorage',
      'torch._utils._rebuild_tensor_v2',
    ]);
    const { path, dict } = findStateDict(pk.root);
    expect(path).toEqual(['net']);
    expect(dict.size).toBe(1359);
    expect(config.num_keys).toBe(1359);
    expect([...dict.keys()].sort()).toEqual(Object.keys(config.keys).sort());
    for (const [k, ref] of dict) {
      expect(k.startsWith('encoder.') || k.startsWith('decoder.'), k).toBe(true);
      expect([...ref.shape], k).toEqual(config.keys[k]!.shape);
      expect(ref.dtype, k).toBe(config.keys[k]!.dtype);
    }
    const nbt = [...dict].filter(([k]) => k.endsWith('num_batches_tracked'));
    expect(nbt.length).toBeGreaterThan(0);
    for (const [, ref] of nbt) {
      expect(ref.dtype).toBe('int64');
      expect(ref.shape).toEqual([]);
    }
    // torch's `_metadata` rides on the OrderedDict through one BUILD
    const meta = pickleState(dict) as Map<string, unknown>;
    expect(meta.get('_metadata')).toBeInstanceOf(Map);
  });

  it('values follow the fixture recipe (short dyadic weights, exact BatchNorm variances)', () => {
    const { dict } = findStateDict(readTorchPickle(bytes).root);
    let checked = 0;
    const bad: string[] = [];
    for (const [k, ref] of dict) {
      const v = ref.values as Float32Array;
      let ok: (x: number) => boolean;
      if (k.endsWith('running_var')) {
        // running_var + 1e-5 is exactly 4^k, k ∈ {-1, 0, 1}
        ok = (x) => [0.25, 1, 4].includes(Math.fround(x + Math.fround(1e-5)));
      } else if (k.endsWith('.decay')) {
        ok = (x) => x === -40 || x === 0;
      } else if (k.endsWith('weight') && ref.shape.length >= 3) {
        ok = (x) => Number.isInteger(x * 256);
      } else continue;
      checked++;
      if (!v.every(ok)) bad.push(k);
    }
    expect(bad).toEqual([]);
    expect(checked).toBe(187 + 189 + 202);
  });

  it('the T=1 case ignores keys that exist in this checkpoint', () => {
    const t1 = readFixtureJson<{ checkpoint: { ignored_keys: string[] } }>('tiny-256-t1/case.json');
    const { dict } = findStateDict(readTorchPickle(bytes).root);
    expect(t1.checkpoint.ignored_keys.length).toBe(144);
    for (const k of t1.checkpoint.ignored_keys) expect(dict.has(k), k).toBe(true);
  });

  it('reads into tf tensors (int64 → int32) and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const ck = readTorchCheckpoint(bytes, { source: 'model.pth.tar' });
    expect(ck.tensors.size).toBe(1359);
    expect(tf.memory().numTensors).toBe(before + 1359);
    for (const [k, t] of ck.tensors) {
      expect(t.dtype, k).toBe(TORCH_TO_TF[config.keys[k]!.dtype]);
      expect(t.shape, k).toEqual(config.keys[k]!.shape);
    }
    const w = ck.tensors.get('encoder.downsample1_1.encode_conv.weight')!;
    const ref = findStateDict(readTorchPickle(bytes).root).dict.get(
      'encoder.downsample1_1.encode_conv.weight',
    )!;
    expect(await w.data()).toEqual(ref.values);
    tf.dispose([...ck.tensors.values()]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkpoint → module → safetensors', () => {
  it('loads torch-layout weights into a module (which transposes) and re-exports them', async () => {
    const bytes = readFixtureBytes('tiny-256-t3/model.pth.tar');
    const prefix = 'encoder.downsample1_1.encode_conv.';
    const ck = readTorchCheckpoint(bytes);
    const sub = new Map(
      [...ck.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]),
    );
    expect([...sub.keys()]).toEqual(['weight', 'bias']);
    const conv = new Conv2d({ inChannels: 3, outChannels: 12, kernelSize: 7, stride: 2, padding: 3 });
    conv.loadStateDict(sub, { source: 'model.pth.tar' });
    // native [kh, kw, I, O] is torch [O, I, kh, kw] transposed
    const torchW = (await sub.get('weight')!.data()) as Float32Array;
    const native = (await conv.weight.data()) as Float32Array;
    expect(conv.weight.shape).toEqual([7, 7, 3, 12]);
    for (const [o, i, y, x] of [
      [0, 0, 0, 0],
      [11, 2, 6, 5],
      [5, 1, 3, 0],
    ] as const) {
      expect(native[((y * 7 + x) * 3 + i) * 12 + o]).toBe(torchW[((o * 3 + i) * 7 + y) * 7 + x]);
    }
    // and back: torch layout → safetensors → the same bytes as the checkpoint's storage
    const exported = conv.stateDict({ layout: 'torch' });
    const st = parseSafetensors(await writeSafetensors(exported));
    const ref = findStateDict(readTorchPickle(bytes).root).dict.get(`${prefix}weight`)!;
    const v = ref.values as Float32Array;
    expect(
      sameBytes(st.tensors.get('weight')!.bytes, new Uint8Array(v.buffer, v.byteOffset, v.byteLength)),
    ).toBe(true);
    tf.dispose([...ck.tensors.values(), ...exported.values()]);
    conv.dispose();
  });
});

describe('trainer checkpoint: units/trainer_checkpoint.pth.tar', () => {
  const bytes = readFixtureBytes('units/trainer_checkpoint.pth.tar');
  const st = readFixtureBytes('units/trainer_checkpoint.safetensors');
  const info = readFixtureJson<{ net_keys: number }>('units/trainer_checkpoint.json');

  it("'net' equals the safetensors twin bit for bit", () => {
    const pk = readTorchPickle(bytes, { source: 'trainer_checkpoint.pth.tar' });
    const { path, dict } = findStateDict(pk.root);
    expect(path).toEqual(['net']);
    expect(dict.size).toBe(info.net_keys);
    const twin = parseSafetensors(st).tensors;
    const nbt = [...dict.keys()].filter((k) => k.endsWith('num_batches_tracked'));
    expect(twin.size + nbt.length).toBe(dict.size);
    for (const [k, e] of twin) {
      const ref = dict.get(k)!;
      expect(ref, k).toBeInstanceOf(TorchTensorRef);
      expect([...ref.shape], k).toEqual(e.shape);
      expect(ref.dtype).toBe('float32');
      const v = ref.values as Float32Array;
      expect(sameBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), e.bytes), k).toBe(true);
    }
    for (const k of nbt) {
      const d = torchValuesForTf(dict.get(k)!);
      expect(d.dtype).toBe('int32');
      expect(d.values.length).toBe(1);
    }
  });

  it('reads the optimizer state and keeps trainer classes inert with their state', () => {
    const root = readTorchPickle(bytes).root as Map<string, unknown>;
    expect([...root.keys()]).toEqual([
      'epoch',
      'actor_type',
      'net_type',
      'net',
      'net_info',
      'constructor',
      'optimizer',
      'stats',
      'settings',
    ]);
    expect(root.get('epoch')).toBe(2);
    expect(root.get('actor_type')).toBe('SpikeTrackActor');
    const net = root.get('net') as Map<string, TorchTensorRef>;
    const params = [...net].filter(([k]) => !/running_(mean|var)$|num_batches_tracked$/.test(k));
    const opt = root.get('optimizer') as Map<string, unknown>;
    const state = opt.get('state') as Map<number, Map<string, unknown>>;
    const groups = opt.get('param_groups') as Map<string, unknown>[];
    expect(groups[0]!.get('lr')).toBe(0.0004);
    expect(groups[0]!.get('betas')).toEqual([0.9, 0.999]);
    expect(groups[0]!.get('params')).toEqual(params.map((_, i) => i));
    expect(state.size).toBeGreaterThan(0);
    for (const [i, s] of state) {
      const shape = params[i]![1].shape;
      const avg = s.get('exp_avg') as TorchTensorRef;
      const sq = s.get('exp_avg_sq') as TorchTensorRef;
      expect(avg.shape, `exp_avg ${i}`).toEqual(shape);
      expect(sq.shape).toEqual(shape);
      expect((sq.values as Float32Array).every((x) => x >= 0)).toBe(true);
      const step = s.get('step') as TorchTensorRef;
      expect(step.shape).toEqual([]);
      expect(step.values[0]).toBeGreaterThan(0);
    }
    const settings = root.get('settings') as PickleObject;
    expect(settings).toBeInstanceOf(PickleObject);
    expect(settings.className).toBe('lib.train.admin.settings.Settings');
    expect(settings.kind).toBe('newobj');
    expect(settings.state).toEqual(
      new Map<string, unknown>([
        ['project_path', 'train/spiketrack/tiny'],
        ['batchsize', 16],
        ['env', null],
      ]),
    );
    const loss = (root.get('stats') as Map<string, Map<string, unknown>>)
      .get('train')!
      .get('Loss') as PickleObject;
    expect(loss.className).toBe('lib.train.admin.stats.AverageMeter');
    expect(loss.state).toEqual(
      new Map<string, unknown>([
        ['avg', 0.5],
        ['count', 3],
      ]),
    );
  });

  it('readTorchCheckpoint picks net; strict allowlisting rejects the trainer classes', async () => {
    const ck = readTorchCheckpoint(bytes, { source: 'trainer_checkpoint.pth.tar' });
    expect(ck.stateDictPath).toEqual(['net']);
    expect(ck.tensors.size).toBe(info.net_keys);
    const twin = readSafetensors(st).tensors;
    for (const [k, t] of twin) expect(await ck.tensors.get(k)!.data(), k).toEqual(await t.data());
    tf.dispose([...twin.values(), ...ck.tensors.values()]);
    expectError(
      () => readTorchCheckpoint(bytes, { unknownGlobals: 'error' }),
      /lib\.train\.admin\.stats\.AverageMeter is not on the allowlist/,
    );
    expectError(() => readTorchCheckpoint(bytes, { stateDictKey: 'optimizer' }), /'state' is dict of/);
    expectError(() => readTorchCheckpoint(bytes, { stateDictKey: 'nope' }), /no key 'nope'/, /net/);
  });

  it('leaks no tensors', async () => {
    await expectNoLeak(() => [...readTorchCheckpoint(bytes).tensors.values()]);
    await expectNoLeak(() => [...readWeights(bytes).tensors.values()]);
  });
});

// ------------------------------------------------------------------ hand-made checkpoints

/** A state dict `{'net': {...}}` with the given tensors and extra writer for more entries. */
function makeCheckpoint(
  opts: { prefix?: string; level?: 0 | 6; extra?: ((p: PickleBuilder) => void)[]; wrap?: boolean } = {},
): Uint8Array {
  const p = new PickleBuilder().proto(2);
  const wrap = opts.wrap ?? true;
  if (wrap) p.emptyDict().str('net');
  writeStateDict(
    p,
    [
      { name: 'w', storage: 'FloatStorage', key: '0', numel: 12, size: [2, 3] },
      // a transposed view with an offset into the same storage
      { name: 'wT', storage: 'FloatStorage', key: '0', numel: 12, offset: 1, size: [3, 2], stride: [1, 3] },
      { name: 'step', storage: 'FloatStorage', key: '0', numel: 12, offset: 11, size: [] },
      { name: 'empty', storage: 'FloatStorage', key: '0', numel: 12, size: [0, 4] },
      { name: 'nbt', storage: 'LongStorage', key: '1', numel: 2, offset: 1, size: [] },
      { name: 'h', storage: 'HalfStorage', key: '2', numel: 3, size: [3] },
      { name: 'b', storage: 'BFloat16Storage', key: '3', numel: 2, size: [2] },
      { name: 'd', storage: 'DoubleStorage', key: '4', numel: 2, size: [2, 1], stride: [1, 5] },
    ],
    opts.extra ?? [],
  );
  if (wrap) p.setitem();
  p.stop();
  const half = new Uint16Array([0x3c00, 0xc000, 0x3555]); // 1, -2, 0.333251953125
  const bf = new Uint16Array([0x3f80, 0x4049]); // 1, 3.140625
  return torchZip(
    opts.prefix ?? 'archive',
    p.bytes(),
    {
      '0': f32Bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
      '1': i64Bytes([99, 7]),
      '2': new Uint8Array(half.buffer),
      '3': new Uint8Array(bf.buffer),
      '4': new Uint8Array(Float64Array.from([0.1, -3]).buffer),
    },
    opts.level ?? 0,
  );
}

describe('hand-made checkpoints: dtypes, views, compression', () => {
  for (const level of [0, 6] as const) {
    it(`reads views, offsets and every storage dtype (${level ? 'deflated' : 'stored'})`, async () => {
      const ck = readTorchCheckpoint(makeCheckpoint({ level, prefix: 'any_name' }), { source: 'mem.pth' });
      const t = ck.tensors;
      expect(t.get('w')!.shape).toEqual([2, 3]);
      expect([...(await t.get('w')!.data())]).toEqual([0, 1, 2, 3, 4, 5]);
      // wT[i][j] = storage[1 + i + 3j]
      expect([...(await t.get('wT')!.data())]).toEqual([1, 4, 2, 5, 3, 6]);
      expect(t.get('step')!.shape).toEqual([]);
      expect([...(await t.get('step')!.data())]).toEqual([11]);
      expect(t.get('empty')!.shape).toEqual([0, 4]);
      expect(t.get('nbt')!.dtype).toBe('int32');
      expect([...(await t.get('nbt')!.data())]).toEqual([7]);
      expect([...(await t.get('h')!.data())]).toEqual([1, -2, 0.333251953125]);
      expect([...(await t.get('b')!.data())]).toEqual([1, 3.140625]);
      expect(t.get('d')!.dtype).toBe('float32');
      expect([...(await t.get('d')!.data())]).toEqual([Math.fround(0.1), -3]);
      tf.dispose([...t.values()]);
    });
  }

  it('finds the state dict at the top level, under a chosen key, or along a path', () => {
    const top = readTorchCheckpoint(makeCheckpoint({ wrap: false }));
    expect(top.stateDictPath).toEqual([]);
    expect(top.tensors.size).toBe(8);
    tf.dispose([...top.tensors.values()]);
    const chosen = readTorchCheckpoint(makeCheckpoint(), { stateDictKey: ['net'] });
    expect(chosen.tensors.size).toBe(8);
    tf.dispose([...chosen.tensors.values()]);
    expectError(
      () => readTorchCheckpoint(makeCheckpoint(), { stateDictKey: null }),
      /top-level object.*'net' is dict/,
    );
  });

  it('rejects int64 values outside int32, naming the tensor', () => {
    const p = new PickleBuilder().proto(2);
    writeStateDict(p, [{ name: 'big', storage: 'LongStorage', key: '0', numel: 1, size: [1] }]).stop();
    const z = torchZip('a', p.bytes(), { '0': i64Bytes([2n ** 33n]) });
    const before = tf.memory().numTensors;
    expectError(
      () => readTorchCheckpoint(z, { source: 'big.pth' }),
      "'big.pth'",
      "'big'",
      /8589934592/,
      /int32/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('lists the allowlist', () => {
    expect(TORCH_PICKLE_ALLOWLIST).toContain('torch._utils._rebuild_tensor_v2');
    expect(TORCH_PICKLE_ALLOWLIST).toContain('collections.OrderedDict');
    expect(TORCH_PICKLE_ALLOWLIST).toContain('torch.FloatStorage');
    expect(TORCH_PICKLE_ALLOWLIST).not.toContain('os.system');
  });
});

describe('hostile and broken checkpoints', () => {
  it("rejects an os.system REDUCE under 'net' without running it", () => {
    const marker = `/tmp/spiketrack-pwned-${process.pid}-${Date.now()}`;
    const evil = (p: PickleBuilder) => {
      p.str('evil');
      p.global('os', 'system').str(`touch ${marker}`).tuple1().reduce();
    };
    const z = makeCheckpoint({ extra: [evil] });
    const before = tf.memory().numTensors;
    expectError(
      () => readTorchCheckpoint(z, { source: 'evil.pth' }),
      "'evil.pth'",
      /'evil' is inert placeholder os\.system/,
      /no pickle code was run/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(existsSync(marker)).toBe(false);
    // the placeholder records what would have been called
    const net = (readTorchPickle(z).root as Map<string, Map<string, unknown>>).get('net')!;
    const o = net.get('evil') as PickleObject;
    expect(o.className).toBe('os.system');
    expect(o.args).toEqual([`touch ${marker}`]);
    expect(existsSync(marker)).toBe(false);
  });

  it("rejects 'net' itself being a placeholder", () => {
    const p = new PickleBuilder().proto(2).emptyDict().str('net');
    p.global('subprocess', 'check_output').str('id').tuple1().reduce().setitem().stop();
    expectError(
      () => readTorchCheckpoint(torchZip('x', p.bytes(), {})),
      /'net' is inert placeholder subprocess\.check_output/,
      /no pickle code was run/,
    );
  });

  it('rejects forbidden globals where they would have to be called or used as storage', () => {
    // a forbidden storage class in the persistent id
    let p = new PickleBuilder().proto(2);
    p.global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('os', 'system').str('0').str('cpu').int(1).tuple().binpersid();
    p.int(0).ints([1]).ints([1]).bool(false).emptyDict().tuple().reduce().stop();
    expectError(
      () => readTorchPickle(torchZip('x', p.bytes(), { '0': f32Bytes([1]) })),
      /global os\.system as storage type/,
      /BINPERSID/,
    );
    // a placeholder handed to the rebuild function instead of a storage
    p = new PickleBuilder().proto(2);
    p.global('torch._utils', '_rebuild_tensor_v2').mark();
    p.global('os', 'system').str('ls').tuple1().reduce();
    p.int(0).ints([1]).ints([1]).bool(false).emptyDict().tuple().reduce().stop();
    expectError(
      () => readTorchPickle(torchZip('x', p.bytes(), {})),
      /_rebuild_tensor_v2 expects a storage, got inert placeholder os\.system/,
    );
    // a lookalike rebuild function is not ours: its result is inert
    p = new PickleBuilder().proto(2).emptyDict().str('net').emptyDict().str('w');
    p.global('torch._utils', '_rebuild_tensor_v9').emptyTuple().reduce().setitem().setitem().stop();
    expectError(
      () => readTorchCheckpoint(torchZip('x', p.bytes(), {})),
      /'w' is inert placeholder torch\._utils\._rebuild_tensor_v9/,
    );
  });

  it('rejects unknown opcodes, naming the byte and offset', () => {
    const p = new PickleBuilder().proto(2).emptyDict().raw(0xf0).stop().bytes();
    expectError(
      () => readTorchPickle(torchZip('m', p, {}), { source: 'm.pth' }),
      "'m.pth:m/data.pkl'",
      /unknown pickle opcode 0xf0 at offset 3/,
    );
  });

  it('rejects non-zip data, naming the legacy format', () => {
    expectError(
      () => readTorchCheckpoint(new Uint8Array([1, 2, 3, 4, 5]), { source: 'x.bin' }),
      "'x.bin'",
      /not a zip archive/,
      /01 02 03 04 05/,
    );
    // torch < 1.6 pickled a magic number first: PROTO 2, LONG1 of 10 bytes
    const legacy = new PickleBuilder()
      .proto(2)
      .int(0x1950a86a20f9469cfc6cn)
      .proto(2)
      .int(1001)
      .stop()
      .bytes();
    expect(detectWeightFormat(legacy)).toBe('torch-legacy');
    expectError(
      () => readTorchCheckpoint(legacy, { source: 'old.pth' }),
      "'old.pth'",
      /legacy \(pre-1\.6, non-zip\)/,
    );
    expectError(() => readWeights(legacy), /legacy/);
    const tar = new Uint8Array(1024);
    tar.set(new TextEncoder().encode('ustar'), 257);
    expectError(() => readTorchCheckpoint(tar), /tar archive/);
    expectError(
      () => readWeights(new Uint8Array(16), { source: 'z.bin' }),
      "'z.bin'",
      /neither safetensors nor/,
    );
  });

  it('rejects truncated and corrupt archives', () => {
    const z = makeCheckpoint();
    for (const cut of [10, 100, z.length - 30, z.length - 1]) {
      expectError(() => readTorchCheckpoint(z.subarray(0, cut), { source: 'cut.pth' }), "'cut.pth'");
    }
    // a flipped byte inside the stored data of storage '0' fails its CRC
    const arch = readZip(z);
    const e = arch.entries.get('archive/data/0')!;
    const corrupt = z.slice();
    const dv = new DataView(z.buffer, z.byteOffset, z.byteLength);
    const o = e.localHeaderOffset;
    const dataStart = o + 30 + dv.getUint16(o + 26, true) + dv.getUint16(o + 28, true);
    corrupt[dataStart + 5]! ^= 0x40;
    expectError(() => readTorchCheckpoint(corrupt), /'archive\/data\/0' fails its CRC-32 check/);
    expect(readTorchCheckpoint(corrupt, { verifyCrc: false }).tensors.size).toBe(8);
  });

  it('rejects a missing storage entry and a storage too small for its view', () => {
    const p = new PickleBuilder().proto(2);
    writeStateDict(p, [{ name: 'w', storage: 'FloatStorage', key: '7', numel: 4, size: [4] }]).stop();
    expectError(
      () => readTorchCheckpoint(torchZip('pre', p.bytes(), {})),
      /storage entry 'pre\/data\/7' is missing/,
    );
    expectError(
      () => readTorchCheckpoint(torchZip('pre', p.bytes(), { '7': f32Bytes([1, 2]) })),
      /'pre\/data\/7' has 8 bytes, but 4 float32 element\(s\) need 16/,
    );
    const q = new PickleBuilder().proto(2);
    writeStateDict(q, [
      { name: 'v', storage: 'FloatStorage', key: '0', numel: 4, size: [2, 2], stride: [3, 1] },
    ]).stop();
    expectError(
      () => readTorchCheckpoint(torchZip('pre', q.bytes(), { '0': f32Bytes([1, 2, 3, 4]) })),
      /reaches element 4/,
    );
  });

  it('rejects archives with zero or several data.pkl, and TorchScript archives', () => {
    const pk = new PickleBuilder().proto(2).emptyDict().stop().bytes();
    expectError(() => readTorchPickle(zipSync({ 'a/x.pkl': pk })), /found none/);
    expectError(
      () => readTorchPickle(zipSync({ 'a/data.pkl': pk, 'b/data.pkl': pk })),
      /a\/data\.pkl, b\/data\.pkl/,
    );
    expectError(() => readTorchPickle(zipSync({ 'a/data.pkl': pk, 'a/constants.pkl': pk })), /TorchScript/);
  });

  it('stays inert for unknown tensor subclasses and records parameters', async () => {
    const p = new PickleBuilder().proto(2).emptyDict();
    // torch._utils._rebuild_parameter(tensor, True, OrderedDict())
    p.str('param').global('torch._utils', '_rebuild_parameter').mark();
    writeTensor(p, { name: '', storage: 'FloatStorage', key: '0', numel: 2, size: [2] });
    p.bool(true).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce().setitem();
    p.str('other').global('mylib', 'Tensorish').emptyTuple().newobj().setitem().stop();
    const root = readTorchPickle(torchZip('x', p.bytes(), { '0': f32Bytes([3, 4]) })).root as Map<
      string,
      unknown
    >;
    const param = root.get('param') as TorchTensorRef;
    expect(param).toBeInstanceOf(TorchTensorRef);
    expect(param.requiresGrad).toBe(true);
    expect([...(param.values as Float32Array)]).toEqual([3, 4]);
    expect((root.get('other') as PickleObject).callee).toBeInstanceOf(PickleGlobal);
    expectError(
      () => readTorchCheckpoint(torchZip('x', p.bytes(), { '0': f32Bytes([3, 4]) }), { stateDictKey: null }),
      /'other' is inert placeholder mylib\.Tensorish/,
    );
  });
});
