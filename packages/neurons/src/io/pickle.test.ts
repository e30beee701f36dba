import { describe, expect, it, vi } from 'vitest';
import { CheckpointError } from '../core/errors';
import {
  findPlaceholders,
  PickleGlobal,
  PickleObject,
  pickleOpcodeName,
  pickleState,
  pythonDataGlobals,
  unpickle,
} from './pickle';
import { PickleBuilder } from './pickle-builder.test-helper';

/**
 * The same object pickled by CPython 3 with protocols 0–5 (`pickle.dumps(obj, protocol=p)`),
 * where
 * ```python
 * shared = [7]
 * obj = {'none': None, 't': True, 'f': False,
 *        'ints': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31-1, 2**31, 2**53, -2**63, 2**70],
 *        'floats': [0.5, -1.25e-8, float('inf')], 'str': 'ünï€😀\n\\', 'bytes': b'\x00\xff',
 *        'ba': bytearray(b'ab'), 'tuple': (1, 'x', (2, 3)), 'empty': ((), [], {}), 'set': {1, 2},
 *        'fs': frozenset([3]), 'nested': {1: 'one', 'k': shared, 'k2': shared},
 *        'od': collections.OrderedDict([('a', 1)])}
 * ```
 */
const CPYTHON: Record<number, string> = {
  0: 'KGRwMApWbm9uZQpwMQpOc1Z0CnAyCkkwMQpzVmYKcDMKSTAwCnNWaW50cwpwNAoobHA1CkkwCmFJMQphSS0xCmFJMjU1CmFJMjU2CmFJNjU1MzUKYUk2NTUzNgphSS0yMTQ3NDgzNjQ4CmFJMjE0NzQ4MzY0NwphTDIxNDc0ODM2NDhMCmFMOTAwNzE5OTI1NDc0MDk5MkwKYUwtOTIyMzM3MjAzNjg1NDc3NTgwOEwKYUwxMTgwNTkxNjIwNzE3NDExMzAzNDI0TAphc1ZmbG9hdHMKcDYKKGxwNwpGMC41CmFGLTEuMjVlLTA4CmFGaW5mCmFzVnN0cgpwOApW/G7vXHUyMGFjXFUwMDAxZjYwMFx1MDAwYVx1MDA1YwpwOQpzVmJ5dGVzCnAxMApjX2NvZGVjcwplbmNvZGUKcDExCihWXHUwMDAw/wpwMTIKVmxhdGluMQpwMTMKdHAxNApScDE1CnNWYmEKcDE2CmNfX2J1aWx0aW5fXwpieXRlYXJyYXkKcDE3CihnMTEKKFZhYgpwMTgKZzEzCnRwMTkKUnAyMAp0cDIxClJwMjIKc1Z0dXBsZQpwMjMKKEkxClZ4CnAyNAooSTIKSTMKdHAyNQp0cDI2CnNWZW1wdHkKcDI3CigodChscDI4CihkcDI5CnRwMzAKc1ZzZXQKcDMxCmNfX2J1aWx0aW5fXwpzZXQKcDMyCigobHAzMwpJMQphSTIKYXRwMzQKUnAzNQpzVmZzCnAzNgpjX19idWlsdGluX18KZnJvemVuc2V0CnAzNwooKGxwMzgKSTMKYXRwMzkKUnA0MApzVm5lc3RlZApwNDEKKGRwNDIKSTEKVm9uZQpwNDMKc1ZrCnA0NAoobHA0NQpJNwphc1ZrMgpwNDYKZzQ1CnNzVm9kCnA0NwpjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcDQ4Cih0UnA0OQpWYQpwNTAKSTEKc3Mu',
  1: 'fXEAKFgEAAAAbm9uZXEBTlgBAAAAdHECSTAxClgBAAAAZnEDSTAwClgEAAAAaW50c3EEXXEFKEsASwFK/////0v/TQABTf//SgAAAQBKAAAAgEr///9/TDIxNDc0ODM2NDhMCkw5MDA3MTk5MjU0NzQwOTkyTApMLTkyMjMzNzIwMzY4NTQ3NzU4MDhMCkwxMTgwNTkxNjIwNzE3NDExMzAzNDI0TAplWAYAAABmbG9hdHNxBl1xByhHP+AAAAAAAABHvkrX8pq8r0hHf/AAAAAAAABlWAMAAABzdHJxCFgOAAAAw7xuw6/igqzwn5iAClxxCVgFAAAAYnl0ZXNxCmNfY29kZWNzCmVuY29kZQpxCyhYAwAAAADDv3EMWAYAAABsYXRpbjFxDXRxDlJxD1gCAAAAYmFxEGNfX2J1aWx0aW5fXwpieXRlYXJyYXkKcREoaAsoWAIAAABhYnESaA10cRNScRR0cRVScRZYBQAAAHR1cGxlcRcoSwFYAQAAAHhxGChLAksDdHEZdHEaWAUAAABlbXB0eXEbKCldcRx9cR10cR5YAwAAAHNldHEfY19fYnVpbHRpbl9fCnNldApxIChdcSEoSwFLAmV0cSJScSNYAgAAAGZzcSRjX19idWlsdGluX18KZnJvemVuc2V0CnElKF1xJksDYXRxJ1JxKFgGAAAAbmVzdGVkcSl9cSooSwFYAwAAAG9uZXErWAEAAABrcSxdcS1LB2FYAgAAAGsycS5oLXVYAgAAAG9kcS9jY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcTApUnExWAEAAABhcTJLAXN1Lg==',
  2: 'gAJ9cQAoWAQAAABub25lcQFOWAEAAAB0cQKIWAEAAABmcQOJWAQAAABpbnRzcQRdcQUoSwBLAUr/////S/9NAAFN//9KAAABAEoAAACASv///3+KBQAAAIAAigcAAAAAAAAgiggAAAAAAAAAgIoJAAAAAAAAAABAZVgGAAAAZmxvYXRzcQZdcQcoRz/gAAAAAAAAR75K1/KavK9IR3/wAAAAAAAAZVgDAAAAc3RycQhYDgAAAMO8bsOv4oKs8J+YgApccQlYBQAAAGJ5dGVzcQpjX2NvZGVjcwplbmNvZGUKcQtYAwAAAADDv3EMWAYAAABsYXRpbjFxDYZxDlJxD1gCAAAAYmFxEGNfX2J1aWx0aW5fXwpieXRlYXJyYXkKcRFoC1gCAAAAYWJxEmgNhnETUnEUhXEVUnEWWAUAAAB0dXBsZXEXSwFYAQAAAHhxGEsCSwOGcRmHcRpYBQAAAGVtcHR5cRspXXEcfXEdh3EeWAMAAABzZXRxH2NfX2J1aWx0aW5fXwpzZXQKcSBdcSEoSwFLAmWFcSJScSNYAgAAAGZzcSRjX19idWlsdGluX18KZnJvemVuc2V0CnElXXEmSwNhhXEnUnEoWAYAAABuZXN0ZWRxKX1xKihLAVgDAAAAb25lcStYAQAAAGtxLF1xLUsHYVgCAAAAazJxLmgtdVgCAAAAb2RxL2Njb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxMClScTFYAQAAAGFxMksBc3Uu',
  3: 'gAN9cQAoWAQAAABub25lcQFOWAEAAAB0cQKIWAEAAABmcQOJWAQAAABpbnRzcQRdcQUoSwBLAUr/////S/9NAAFN//9KAAABAEoAAACASv///3+KBQAAAIAAigcAAAAAAAAgiggAAAAAAAAAgIoJAAAAAAAAAABAZVgGAAAAZmxvYXRzcQZdcQcoRz/gAAAAAAAAR75K1/KavK9IR3/wAAAAAAAAZVgDAAAAc3RycQhYDgAAAMO8bsOv4oKs8J+YgApccQlYBQAAAGJ5dGVzcQpDAgD/cQtYAgAAAGJhcQxjYnVpbHRpbnMKYnl0ZWFycmF5CnENQwJhYnEOhXEPUnEQWAUAAAB0dXBsZXERSwFYAQAAAHhxEksCSwOGcROHcRRYBQAAAGVtcHR5cRUpXXEWfXEXh3EYWAMAAABzZXRxGWNidWlsdGlucwpzZXQKcRpdcRsoSwFLAmWFcRxScR1YAgAAAGZzcR5jYnVpbHRpbnMKZnJvemVuc2V0CnEfXXEgSwNhhXEhUnEiWAYAAABuZXN0ZWRxI31xJChLAVgDAAAAb25lcSVYAQAAAGtxJl1xJ0sHYVgCAAAAazJxKGgndVgCAAAAb2RxKWNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxKilScStYAQAAAGFxLEsBc3Uu',
  4: 'gASVaQEAAAAAAAB9lCiMBG5vbmWUTowBdJSIjAFmlImMBGludHOUXZQoSwBLAUr/////S/9NAAFN//9KAAABAEoAAACASv///3+KBQAAAIAAigcAAAAAAAAgiggAAAAAAAAAgIoJAAAAAAAAAABAZYwGZmxvYXRzlF2UKEc/4AAAAAAAAEe+StfymryvSEd/8AAAAAAAAGWMA3N0cpSMDsO8bsOv4oKs8J+YgApclIwFYnl0ZXOUQwIA/5SMAmJhlIwIYnVpbHRpbnOUjAlieXRlYXJyYXmUk5RDAmFilIWUUpSMBXR1cGxllEsBjAF4lEsCSwOGlIeUjAVlbXB0eZQpXZR9lIeUjANzZXSUj5QoSwFLApCMAmZzlChLA5GUjAZuZXN0ZWSUfZQoSwGMA29uZZSMAWuUXZRLB2GMAmsylGgjdYwCb2SUjAtjb2xsZWN0aW9uc5SMC09yZGVyZWREaWN0lJOUKVKUjAFhlEsBc3Uu',
  5: 'gAWVUwEAAAAAAAB9lCiMBG5vbmWUTowBdJSIjAFmlImMBGludHOUXZQoSwBLAUr/////S/9NAAFN//9KAAABAEoAAACASv///3+KBQAAAIAAigcAAAAAAAAgiggAAAAAAAAAgIoJAAAAAAAAAABAZYwGZmxvYXRzlF2UKEc/4AAAAAAAAEe+StfymryvSEd/8AAAAAAAAGWMA3N0cpSMDsO8bsOv4oKs8J+YgApclIwFYnl0ZXOUQwIA/5SMAmJhlJYCAAAAAAAAAGFilIwFdHVwbGWUSwGMAXiUSwJLA4aUh5SMBWVtcHR5lCldlH2Uh5SMA3NldJSPlChLAUsCkIwCZnOUKEsDkZSMBm5lc3RlZJR9lChLAYwDb25llIwBa5RdlEsHYYwCazKUaB51jAJvZJSMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpSMAWGUSwFzdS4=',
};

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

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

describe('unpickle: CPython protocols 0–5', () => {
  for (const p of [0, 1, 2, 3, 4, 5]) {
    it(`protocol ${p}`, () => {
      const r = unpickle(b64(CPYTHON[p]!), { globals: pythonDataGlobals() });
      expect(r.protocol).toBe(p < 2 ? 0 : p);
      const o = r.value as Map<string, unknown>;
      expect(o).toBeInstanceOf(Map);
      expect([...o.keys()]).toEqual([
        'none',
        't',
        'f',
        'ints',
        'floats',
        'str',
        'bytes',
        'ba',
        'tuple',
        'empty',
        'set',
        'fs',
        'nested',
        'od',
      ]);
      expect(o.get('none')).toBeNull();
      expect(o.get('t')).toBe(true);
      expect(o.get('f')).toBe(false);
      expect(o.get('ints')).toEqual([
        0,
        1,
        -1,
        255,
        256,
        65535,
        65536,
        -(2 ** 31),
        2 ** 31 - 1,
        2 ** 31,
        2n ** 53n,
        -(2n ** 63n),
        2n ** 70n,
      ]);
      expect(o.get('floats')).toEqual([0.5, -1.25e-8, Infinity]);
      expect(o.get('str')).toBe('ünï€😀\n\\');
      expect(o.get('bytes')).toEqual(Uint8Array.from([0, 255]));
      expect(o.get('ba')).toEqual(Uint8Array.from([97, 98]));
      const tup = o.get('tuple') as unknown[];
      expect(tup).toEqual([1, 'x', [2, 3]]);
      expect(Object.isFrozen(tup)).toBe(true);
      const empty = o.get('empty') as unknown[];
      expect(empty[0]).toEqual([]);
      expect(empty[1]).toEqual([]);
      expect(empty[2]).toEqual(new Map());
      expect(o.get('set')).toEqual(new Set([1, 2]));
      expect(o.get('fs')).toEqual(new Set([3]));
      const nested = o.get('nested') as Map<unknown, unknown>;
      expect(nested.get(1)).toBe('one');
      expect(nested.get('k')).toEqual([7]);
      expect(nested.get('k')).toBe(nested.get('k2')); // memo keeps shared references shared
      expect(o.get('od')).toEqual(new Map([['a', 1]]));
      expect(findPlaceholders(o)).toEqual([]);
    });
  }

  it('without the data globals, their calls stay inert placeholders', () => {
    const o = unpickle(b64(CPYTHON[2]!)).value as Map<string, unknown>;
    const set = o.get('set') as PickleObject;
    expect(set).toBeInstanceOf(PickleObject);
    expect(set.className).toBe('__builtin__.set');
    expect(set.args).toEqual([[1, 2]]);
  });
});

describe('unpickle: hand-written opcodes', () => {
  it('protocol-0 text opcodes, STRING escapes, INST/OBJ, PERSID, POP/DUP/POP_MARK', () => {
    const enc = new TextEncoder();
    const text = (s: string) => [...enc.encode(s)];
    const p = new PickleBuilder()
      .raw(0x28) // MARK for the final list
      .raw(0x53, ...text("'a\\x41\\n\\'\\101'\n")) // STRING 'aA\n'A'
      .raw(0x55, 2, ...text('hi')) // SHORT_BINSTRING
      .raw(0x54, 3, 0, 0, 0, ...text('abc')) // BINSTRING
      .raw(0x46, ...text('-2.5e3\n')) // FLOAT
      .raw(0x4c, ...text('-123456789012345678901234567890L\n')) // LONG
      .raw(0x8b, 2, 0, 0, 0, 0x00, 0x80) // LONG4 -32768
      .raw(0x8d, 1, 0, 0, 0, 0, 0, 0, 0, ...text('z')) // BINUNICODE8
      .raw(0x8e, 1, 0, 0, 0, 0, 0, 0, 0, 9) // BINBYTES8
      .raw(0x42, 1, 0, 0, 0, 8) // BINBYTES
      .raw(0x28, 0x4b, 1, 0x69, ...text('mod\nKlass\n')) // INST mod.Klass(1)
      .raw(0x28, 0x63, ...text('mod\nOther\n'), 0x4b, 2, 0x6f) // OBJ mod.Other(2)
      .raw(0x50, ...text('pid-1\n')) // PERSID
      .raw(0x4b, 5, 0x32, 0x30) // 5, DUP, POP
      .raw(0x28, 0x4b, 6, 0x31) // MARK 6 POP_MARK
      .raw(0x4e, 0x30) // NONE POP
      .raw(0x6c, 0x2e) // LIST STOP
      .bytes();
    const pids: unknown[] = [];
    const r = unpickle(p, {
      persistentLoad: (pid) => {
        pids.push(pid);
        return `loaded:${pid}`;
      },
    });
    const v = r.value as unknown[];
    expect(v.slice(0, 10)).toEqual([
      "aA\n'A",
      'hi',
      'abc',
      -2500,
      -123456789012345678901234567890n,
      -32768,
      'z',
      Uint8Array.from([9]),
      Uint8Array.from([8]),
      expect.any(PickleObject),
    ]);
    const inst = v[9] as PickleObject;
    expect(inst.className).toBe('mod.Klass');
    expect(inst.kind).toBe('inst');
    expect(inst.args).toEqual([1]);
    const obj = v[10] as PickleObject;
    expect([obj.className, obj.kind, obj.args]).toEqual(['mod.Other', 'obj', [2]]);
    expect(v.slice(11)).toEqual(['loaded:pid-1', 5]);
    expect(pids).toEqual(['pid-1']);
    expect(r.globals).toEqual(['mod.Klass', 'mod.Other']);
  });

  it('NEWOBJ_EX, BUILD, SETITEMS/APPENDS/ADDITEMS on placeholders, MEMOIZE, FRAME', () => {
    const p = new PickleBuilder()
      .proto(4)
      .raw(0x95, 0, 0, 0, 0, 0, 0, 0, 0) // FRAME (length unused)
      .stackGlobal('pkg.mod', 'Thing')
      .raw(0x94) // MEMOIZE → 0
      .mark()
      .int(1)
      .tuple()
      .emptyDict()
      .str('k')
      .int(2)
      .setitem()
      .raw(0x92) // NEWOBJ_EX
      .emptyDict()
      .str('field')
      .str('value')
      .setitem()
      .build()
      .mark()
      .str('a')
      .int(1)
      .setitems()
      .mark()
      .int(9)
      .appends()
      .mark()
      .int(3)
      .raw(0x90) // ADDITEMS
      .raw(0x68, 0) // BINGET 0 → the global again
      .tuple2()
      .stop()
      .bytes();
    const [thing, g] = unpickle(p).value as [PickleObject, PickleGlobal];
    expect(thing.kind).toBe('newobj_ex');
    expect(thing.className).toBe('pkg.mod.Thing');
    expect(thing.args).toEqual([1]);
    expect(thing.kwargs).toEqual(new Map([['k', 2]]));
    expect(thing.state).toEqual(new Map([['field', 'value']]));
    expect(thing.dictItems).toEqual(new Map([['a', 1]]));
    expect(thing.listItems).toEqual([9]);
    expect(thing.setItems).toEqual([3]);
    expect(g).toBe(thing.callee);
    expect(g).toBeInstanceOf(PickleGlobal);
  });

  it('records BUILD state on allowlisted objects (torch `_metadata` on an OrderedDict)', () => {
    const p = new PickleBuilder()
      .proto(2)
      .global('collections', 'OrderedDict')
      .emptyTuple()
      .reduce()
      .str('w')
      .int(1)
      .setitem()
      .emptyDict()
      .str('_metadata')
      .emptyDict()
      .setitem()
      .build()
      .stop()
      .bytes();
    const d = unpickle(p, { globals: pythonDataGlobals() }).value as Map<string, unknown>;
    expect(d).toEqual(new Map([['w', 1]]));
    expect(pickleState(d)).toEqual(new Map([['_metadata', new Map()]]));
  });

  it('handles very long lines and lists without blowing the call stack', () => {
    const long = 'm'.repeat(300_000);
    const v = unpickle(new PickleBuilder().global(long, 'x').stop().bytes()).value as PickleGlobal;
    expect(v.module.length).toBe(300_000);
    const p = new PickleBuilder().proto(2).emptyList().mark();
    for (let i = 0; i < 300_000; i++) p.int(1);
    const list = unpickle(p.appends().stop().bytes()).value as number[];
    expect(list.length).toBe(300_000);
  });

  it('names unknown opcodes with their byte value and offset', () => {
    const p = new PickleBuilder().proto(2).int(1).raw(0xff).stop().bytes();
    expectError(() => unpickle(p, { source: 'x.pkl' }), "'x.pkl'", /unknown pickle opcode 0xff at offset 4/);
    expect(pickleOpcodeName(0x80)).toBe('PROTO');
    expect(pickleOpcodeName(0xff)).toBeUndefined();
  });

  it('rejects truncated and malformed streams', () => {
    const full = new PickleBuilder().proto(2).str('hello').stop().bytes();
    for (let cut = 1; cut < full.length; cut++) {
      expectError(() => unpickle(full.subarray(0, cut)), /truncated/);
    }
    expectError(() => unpickle(new PickleBuilder().proto(6).none().stop().bytes()), /protocol 6/);
    expectError(() => unpickle(new PickleBuilder().stop().bytes()), /stack underflow/, /STOP at offset 0/);
    expectError(() => unpickle(new PickleBuilder().tuple().stop().bytes()), /no MARK/);
    expectError(() => unpickle(new PickleBuilder().raw(0x68, 3).stop().bytes()), /memo key 3/);
    expectError(
      () => unpickle(new PickleBuilder().emptyTuple().int(1).append().stop().bytes()),
      /append to tuple/,
    );
    expectError(() => unpickle(new PickleBuilder().int(1).int(2).reduce().stop().bytes()), /tuple/);
    expectError(
      () => unpickle(new PickleBuilder().raw(0x82, 1).stop().bytes()),
      /extension registry/,
      /EXT1/,
    );
    expectError(() => unpickle(new PickleBuilder().raw(0x97).stop().bytes()), /out-of-band/);
    expectError(() => unpickle(new PickleBuilder().none().binpersid().stop().bytes()), /persistent ids/);
    expectError(() => unpickle(new PickleBuilder().mark().int(1).pop().stop().bytes()), /stack underflow/);
  });
});

describe('unpickle never executes anything', () => {
  it('keeps os.system, eval and friends inert, recording name and arguments', () => {
    const marker = `/tmp/spiketrack-pwned-${process.pid}-${Date.now()}`;
    const p = new PickleBuilder()
      .proto(2)
      .mark()
      .global('os', 'system')
      .str(`touch ${marker}`)
      .tuple1()
      .reduce()
      .global('builtins', 'eval')
      .str('globalThis.__pwned = 1')
      .tuple1()
      .reduce()
      .stackGlobal('builtins', '__import__')
      .str('subprocess')
      .tuple1()
      .reduce()
      .list()
      .stop()
      .bytes();
    const r = unpickle(p, { globals: pythonDataGlobals() });
    const [sys, ev, imp] = r.value as PickleObject[];
    expect(sys).toBeInstanceOf(PickleObject);
    expect(sys!.className).toBe('os.system');
    expect(sys!.args).toEqual([`touch ${marker}`]);
    expect(ev!.className).toBe('builtins.eval');
    expect(imp!.className).toBe('builtins.__import__');
    expect((globalThis as Record<string, unknown>).__pwned).toBeUndefined();
    expect(r.globals).toEqual(['os.system', 'builtins.eval', 'builtins.__import__']);
    expect(findPlaceholders(r.value).map((x) => String(x.value))).toContain('<inert os.system(…)>');
  });

  it('never turns pickle names into JavaScript lookups', () => {
    const probe = vi.fn();
    (globalThis as Record<string, unknown>).__spiketrackProbe = probe;
    try {
      const p = new PickleBuilder()
        .proto(2)
        .mark()
        .global('__main__', '__spiketrackProbe')
        .emptyTuple()
        .reduce()
        .global('globalThis', '__spiketrackProbe')
        .emptyTuple()
        .reduce()
        .global('__proto__', 'constructor')
        .str('return 1')
        .tuple1()
        .reduce()
        .global('Object', 'prototype')
        .global('', 'constructor')
        .list()
        .stop()
        .bytes();
      const v = unpickle(p, { globals: pythonDataGlobals() }).value as unknown[];
      expect(probe).not.toHaveBeenCalled();
      for (const x of v) expect(x instanceof PickleObject || x instanceof PickleGlobal).toBe(true);
      expect(typeof v[2]).toBe('object'); // not a Function
    } finally {
      delete (globalThis as Record<string, unknown>).__spiketrackProbe;
    }
  });

  it('cannot pollute prototypes through dict keys or BUILD state', () => {
    const p = new PickleBuilder()
      .proto(2)
      .emptyDict()
      .str('__proto__')
      .emptyDict()
      .str('polluted')
      .bool(true)
      .setitem()
      .setitem()
      .global('evil', 'Klass')
      .emptyTuple()
      .newobj()
      .emptyDict()
      .str('__proto__')
      .emptyDict()
      .str('polluted2')
      .bool(true)
      .setitem()
      .setitem()
      .build()
      .tuple2()
      .stop()
      .bytes();
    const [d, o] = unpickle(p).value as [Map<string, unknown>, PickleObject];
    expect(d.get('__proto__')).toEqual(new Map([['polluted', true]]));
    expect(o.state).toBeInstanceOf(Map);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
  });

  it("with unknownGlobals: 'error', rejects any global outside the allowlist at once", () => {
    const p = new PickleBuilder().proto(2).global('os', 'system').stop().bytes();
    expectError(
      () => unpickle(p, { unknownGlobals: 'error', source: 'evil.pkl' }),
      /global os\.system is not on the allowlist/,
      /GLOBAL at offset 2/,
      "'evil.pkl'",
    );
  });
});
