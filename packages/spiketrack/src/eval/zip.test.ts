/**
 * The ZIP writer and the server archives: CRC-32 check values, the archive read back with a small
 * independent parser written here from the format's specification, and (where present on the
 * machine) `unzip -t` / Python's zipfile as outside checks.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { packGot10kResults, packTrackingNetResults } from './server';
import type { Box, Sequence } from './types';
import { crc32, writeZip } from './zip';

/** Reads a stored-only ZIP through its central directory; checks the local headers agree. */
function readZip(bytes: Uint8Array): Map<string, string> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = bytes.length - 22;
  expect(v.getUint32(eocd, true)).toBe(0x06054b50);
  const count = v.getUint16(eocd + 10, true);
  const cdSize = v.getUint32(eocd + 12, true);
  let p = v.getUint32(eocd + 16, true);
  expect(p + cdSize).toBe(eocd);
  const dec = new TextDecoder();
  const out = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    expect(v.getUint32(p, true)).toBe(0x02014b50);
    const crc = v.getUint32(p + 16, true);
    const size = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true);
    const local = v.getUint32(p + 42, true);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    expect(v.getUint32(local, true)).toBe(0x04034b50);
    expect(v.getUint16(local + 8, true)).toBe(0); // stored
    expect(v.getUint32(local + 14, true)).toBe(crc);
    const localName = v.getUint16(local + 26, true);
    const extra = v.getUint16(local + 28, true);
    const data = bytes.subarray(local + 30 + localName + extra, local + 30 + localName + extra + size);
    expect(crc32(data)).toBe(crc);
    out.set(name, dec.decode(data));
    p += 46 + nameLen;
  }
  return out;
}

const has = (cmd: string, args: string[]) => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const tmp = mkdtempSync(join(tmpdir(), 'spiketrack-zip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const seq = (name: string, frames: number): Sequence => ({
  name,
  dataset: 'got10k',
  frames: Array.from({ length: frames }, (_, i) => `${i}.jpg`),
  groundTruth: [[1, 2, 3, 4]],
  hasGroundTruth: false,
});
const boxes: Box[] = [
  [1, 2, 3, 4],
  [1.5, 2.25, 3.125, 4.0001],
];

describe.skipIf(testBackend() !== 'cpu')('zip writer and server archives', () => {
  it('computes CRC-32 check values', () => {
    const enc = new TextEncoder();
    expect(crc32(new Uint8Array())).toBe(0);
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(enc.encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('writes stored entries that read back, deterministically', () => {
    const bytes = writeZip([
      { name: 'a.txt', data: 'hello\n' },
      { name: 'dir/b.bin', data: new Uint8Array([0, 1, 2, 255]) },
      { name: 'ünï.txt', data: '' },
    ]);
    const files = readZip(bytes);
    expect([...files.keys()]).toEqual(['a.txt', 'dir/b.bin', 'ünï.txt']);
    expect(files.get('a.txt')).toBe('hello\n');
    expect(writeZip([{ name: 'a.txt', data: 'hello\n' }])).toEqual(
      writeZip([{ name: 'a.txt', data: 'hello\n' }]),
    );
    expect(readZip(writeZip([])).size).toBe(0);
    expect(() => writeZip([{ name: '../x', data: '' }])).toThrow(/invalid entry name/);
    expect(() =>
      writeZip([
        { name: 'x', data: '' },
        { name: 'x', data: '' },
      ]),
    ).toThrow(/duplicate entry 'x'/);
  });

  it('packs GOT-10k results as <seq>/<seq>_001.txt + <seq>_time.txt', () => {
    const zip = packGot10kResults(new Map([['GOT-10k_Test_000001', { boxes, times: [0.5, 0.0125] }]]), [
      seq('GOT-10k_Test_000001', 2),
    ]);
    const files = readZip(zip);
    expect([...files.keys()]).toEqual([
      'GOT-10k_Test_000001/GOT-10k_Test_000001_001.txt',
      'GOT-10k_Test_000001/GOT-10k_Test_000001_time.txt',
    ]);
    expect(files.get('GOT-10k_Test_000001/GOT-10k_Test_000001_001.txt')).toBe(
      '1,2,3,4\n1.5,2.25,3.125,4.0001\n',
    );
    expect(files.get('GOT-10k_Test_000001/GOT-10k_Test_000001_time.txt')).toBe('0.50000000\n0.01250000\n');
    expect(() => packGot10kResults(new Map(), [seq('GOT-10k_Test_000002', 2)])).toThrow(
      /no results for sequence 'GOT-10k_Test_000002'/,
    );
    expect(() => packGot10kResults(new Map([['s', { boxes }]]), [seq('s', 3)])).toThrow(
      /2 boxes for 3 frames/,
    );
    expect(() => packGot10kResults(new Map([['s', { boxes: [[0, 0, Number.NaN, 1]] }]]))).toThrow(
      /not a finite box/,
    );
  });

  it('packs TrackingNet results as <seq>.txt at the root', () => {
    const files = readZip(
      packTrackingNetResults(
        new Map([
          ['vid_a', { boxes }],
          ['vid_b', { boxes: [boxes[0]!] }],
        ]),
      ),
    );
    expect([...files.keys()]).toEqual(['vid_a.txt', 'vid_b.txt']);
    expect(files.get('vid_b.txt')).toBe('1,2,3,4\n');
  });

  it.skipIf(!has('unzip', ['-v']) && !has('python3', ['--version']))(
    'passes unzip -t / python zipfile -t',
    () => {
      const file = join(tmp, 'got.zip');
      writeFileSync(
        file,
        packGot10kResults(
          new Map([
            ['s1', { boxes }],
            ['s2', { boxes }],
          ]),
        ),
      );
      if (has('unzip', ['-v']))
        expect(execFileSync('unzip', ['-t', file]).toString()).toMatch(/No errors detected/);
      if (has('python3', ['--version'])) execFileSync('python3', ['-m', 'zipfile', '-t', file]);
    },
  );
});
