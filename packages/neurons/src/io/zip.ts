/**
 * A minimal, strict zip reader (browser-safe): central directory, ZIP64, stored and deflated
 * entries (deflate through `fflate`), CRC-32 checks. Enough for `torch.save` archives.
 */
import { inflateSync } from 'fflate';
import { CheckpointError } from '../core/errors';
import { crc32 } from './binary';

/** One entry of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;

/** Whether `bytes` start like a zip archive (a local header, or the end record of an empty zip). */
export function isZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const sig = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  return sig === SIG_LOCAL || sig === SIG_EOCD;
}

/** Options of {@link readZip}. */
export interface ZipOptions {
  /** File name for error messages. */
  source?: string;
  /** Check each entry's CRC-32 when it is read (default true). */
  verifyCrc?: boolean;
}

/**
 * A zip archive over `bytes`. Entries are located from the central directory and extracted on
 * {@link ZipArchive.read}. Every inconsistency is a {@link CheckpointError} naming the file.
 */
export class ZipArchive {
  /** Entries by name, in central-directory order. */
  readonly entries: Map<string, ZipEntry>;
  private readonly dv: DataView;
  private readonly file: string;
  private readonly verifyCrc: boolean;

  constructor(
    private readonly bytes: Uint8Array,
    opts: ZipOptions = {},
  ) {
    this.file = opts.source ? `zip '${opts.source}'` : 'zip data';
    this.verifyCrc = opts.verifyCrc ?? true;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.entries = this.readCentralDirectory();
  }

  private fail(msg: string): never {
    throw new CheckpointError(`${this.file}: ${msg}`);
  }

  private u16(o: number): number {
    return this.dv.getUint16(o, true);
  }
  private u32(o: number): number {
    return this.dv.getUint32(o, true);
  }
  private u64(o: number): number {
    const v = this.u32(o) + this.u32(o + 4) * 2 ** 32;
    if (!Number.isSafeInteger(v)) this.fail(`64-bit field at offset ${o} is too large`);
    return v;
  }

  private readCentralDirectory(): Map<string, ZipEntry> {
    const len = this.bytes.length;
    if (len < 22) this.fail(`${len} bytes is too short for a zip archive (truncated?)`);
    let eocd = -1;
    for (let o = len - 22; o >= Math.max(0, len - 22 - 0xffff); o--) {
      if (this.u32(o) === SIG_EOCD && o + 22 + this.u16(o + 20) <= len) {
        eocd = o;
        break;
      }
    }
    if (eocd < 0) this.fail('no end-of-central-directory record (truncated or not a zip archive)');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (this.u16(eocd + 4) !== 0 || this.u16(eocd + 6) !== 0)
      this.fail('multi-disk archives are not supported');
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== SIG_EOCD64_LOCATOR) this.fail('ZIP64 locator missing');
      const z = this.u64(loc + 8);
      if (z + 56 > len || this.u32(z) !== SIG_EOCD64)
        this.fail(`ZIP64 end record at ${z} is missing or out of bounds`);
      count = this.u64(z + 32);
      cdSize = this.u64(z + 40);
      cdOffset = this.u64(z + 48);
    }
    if (cdOffset + cdSize > len) {
      this.fail(
        `central directory (offset ${cdOffset}, ${cdSize} bytes) lies outside the ${len}-byte file (truncated?)`,
      );
    }
    const entries = new Map<string, ZipEntry>();
    let p = cdOffset;
    const utf8 = new TextDecoder('utf-8');
    const latin1 = new TextDecoder('latin1');
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdOffset + cdSize || this.u32(p) !== SIG_CENTRAL) {
        this.fail(`central directory entry ${i} at offset ${p} is malformed`);
      }
      const flags = this.u16(p + 8);
      const method = this.u16(p + 10);
      const crc = this.u32(p + 16);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let localHeaderOffset = this.u32(p + 42);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cdOffset + cdSize) this.fail(`central directory entry ${i} runs past the directory`);
      const nameBytes = this.bytes.subarray(p + 46, p + 46 + nameLen);
      const name = (flags & 0x800 ? utf8 : latin1).decode(nameBytes);
      // ZIP64 extended information: the 0xffffffff fields, in order
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = this.u16(e);
        const sz = this.u16(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) {
            size = this.u64(q);
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = this.u64(q);
            q += 8;
          }
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = this.u64(q);
        }
        e += 4 + sz;
      }
      if (flags & 1) this.fail(`entry '${name}' is encrypted`);
      if (entries.has(name)) this.fail(`entry '${name}' appears twice`);
      entries.set(name, { name, method, flags, crc32: crc, compressedSize, size, localHeaderOffset });
      p = end;
    }
    return entries;
  }

  /** Entry names in central-directory order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Whether the archive has an entry of that name. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * The uncompressed bytes of an entry. Stored entries are views into the archive bytes (no copy);
   * deflated ones are inflated.
   */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) this.fail(`no entry '${name}'`);
    const o = entry.localHeaderOffset;
    if (o + 30 > this.bytes.length || this.u32(o) !== SIG_LOCAL) {
      this.fail(`local header of '${name}' at offset ${o} is missing (truncated or corrupt archive)`);
    }
    const start = o + 30 + this.u16(o + 26) + this.u16(o + 28);
    const stop = start + entry.compressedSize;
    if (stop > this.bytes.length) {
      this.fail(
        `data of '${name}' (bytes ${start}..${stop}) runs past the end of the ${this.bytes.length}-byte file (truncated?)`,
      );
    }
    const raw = this.bytes.subarray(start, stop);
    let out: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) {
        this.fail(`stored entry '${name}' has compressed size ${entry.compressedSize} != size ${entry.size}`);
      }
      out = raw;
    } else if (entry.method === 8) {
      if (entry.size > raw.length * 1032 + 1024) {
        this.fail(`deflated entry '${name}' claims ${entry.size} bytes from ${raw.length}: implausible`);
      }
      if (entry.size === 0) {
        out = new Uint8Array(0);
      } else {
        try {
          out = inflateSync(raw, { out: new Uint8Array(entry.size + 1) });
        } catch (err) {
          this.fail(`cannot inflate '${name}': ${(err as Error).message}`);
        }
        if (out.length !== entry.size) {
          this.fail(
            `entry '${name}' inflates to ${out.length === entry.size + 1 ? 'more than' : out.length} bytes, expected ${entry.size}`,
          );
        }
      }
    } else {
      this.fail(
        `entry '${name}' uses compression method ${entry.method} (only stored and deflate are supported)`,
      );
    }
    if (this.verifyCrc) {
      const c = crc32(out);
      if (c !== entry.crc32) {
        this.fail(
          `entry '${name}' fails its CRC-32 check (0x${c.toString(16)} != 0x${entry.crc32.toString(16)}): corrupt archive`,
        );
      }
    }
    return out;
  }
}

/** Opens a zip archive (see {@link ZipArchive}). */
export function readZip(bytes: Uint8Array, opts: ZipOptions = {}): ZipArchive {
  return new ZipArchive(bytes, opts);
}
