/**
 * A minimal ZIP writer: stored (uncompressed) entries with CRC-32, the local headers, the central
 * directory and the end record of the ZIP format (PKWARE APPNOTE 4.3/4.4). Enough for the result
 * archives evaluation servers take; no compression, no ZIP64 (each entry and the archive stay
 * under 4 GiB, at most 65535 entries). Names are UTF-8 (flag bit 11). Timestamps are fixed at
 * 1980-01-01 00:00 so that the same input gives the same bytes.
 */

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, polynomial 0xEDB88320, reflected), as ZIP uses. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    crcTable = table;
  }
  const table = crcTable;
  let crc = 0xffffffff;
  for (const byte of data) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** One file of an archive: its path inside the archive (`/`-separated) and its content. */
export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array | string;
}

const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
const DOS_TIME = 0;

/** Builds a ZIP archive of stored entries. Throws on duplicate names, absolute paths or `..` segments. */
export function writeZip(entries: readonly ZipEntry[]): Uint8Array {
  const enc = new TextEncoder();
  if (entries.length > 0xffff)
    throw new RangeError(`zip: ${entries.length} entries (at most 65535 without ZIP64)`);
  const seen = new Set<string>();
  const files = entries.map((e) => {
    if (e.name.length === 0 || e.name.startsWith('/') || e.name.split('/').includes('..')) {
      throw new RangeError(`zip: invalid entry name '${e.name}'`);
    }
    if (seen.has(e.name)) throw new RangeError(`zip: duplicate entry '${e.name}'`);
    seen.add(e.name);
    const data = typeof e.data === 'string' ? enc.encode(e.data) : e.data;
    return { name: enc.encode(e.name), data, crc: crc32(data) };
  });
  const localSize = files.reduce((s, f) => s + 30 + f.name.length + f.data.length, 0);
  const centralSize = files.reduce((s, f) => s + 46 + f.name.length, 0);
  const total = localSize + centralSize + 22;
  if (localSize + centralSize > 0xffffffff)
    throw new RangeError('zip: archive over 4 GiB (ZIP64 is not supported)');
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let o = 0;
  const u16 = (v: number) => {
    view.setUint16(o, v, true);
    o += 2;
  };
  const u32 = (v: number) => {
    view.setUint32(o, v >>> 0, true);
    o += 4;
  };
  const offsets: number[] = [];
  for (const f of files) {
    offsets.push(o);
    u32(0x04034b50); // local file header
    u16(20); // version needed: 2.0
    u16(0x0800); // flags: UTF-8 names
    u16(0); // method: stored
    u16(DOS_TIME);
    u16(DOS_DATE);
    u32(f.crc);
    u32(f.data.length); // compressed size
    u32(f.data.length); // uncompressed size
    u16(f.name.length);
    u16(0); // extra length
    out.set(f.name, o);
    o += f.name.length;
    out.set(f.data, o);
    o += f.data.length;
  }
  const centralStart = o;
  files.forEach((f, i) => {
    u32(0x02014b50); // central directory header
    u16(20); // version made by: 2.0, MS-DOS attributes
    u16(20);
    u16(0x0800);
    u16(0);
    u16(DOS_TIME);
    u16(DOS_DATE);
    u32(f.crc);
    u32(f.data.length);
    u32(f.data.length);
    u16(f.name.length);
    u16(0); // extra
    u16(0); // comment
    u16(0); // disk number
    u16(0); // internal attributes
    u32(0); // external attributes
    u32(offsets[i]!);
    out.set(f.name, o);
    o += f.name.length;
  });
  const centralBytes = o - centralStart;
  u32(0x06054b50); // end of central directory
  u16(0);
  u16(0);
  u16(files.length);
  u16(files.length);
  u32(centralBytes); // size of the central directory
  u32(centralStart);
  u16(0); // comment length
  return out;
}
