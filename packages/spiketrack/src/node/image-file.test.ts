/** Image files and frame folders: PNG/JPEG decoding, gray/RGBA conversion, sorting, errors. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { drawBox } from '../frames/draw-box';
import { listFrameFiles, readFramesDir } from './frames-dir';
import { decodeImage, encodePng, readImageFile, writePngFile } from './image-file';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const image = { width: 5, height: 3, data: Uint8Array.from({ length: 45 }, (_, i) => (i * 37) % 256) };

// No tfjs: one backend is enough.
describe.skipIf(testBackend() !== 'cpu')('image files and frame folders', () => {
  it('round-trips RGB through PNG and decodes gray PNGs to RGB', async () => {
    expect(decodeImage(encodePng(image))).toEqual(image);
    const path = join(dir, 'a.png');
    await writePngFile(path, image);
    expect(await readImageFile(path)).toEqual(image);
    const gray = new PNG({ width: 2, height: 1, colorType: 0 });
    gray.data.set([10, 10, 10, 255, 200, 200, 200, 255]);
    const g = decodeImage(PNG.sync.write(gray, { colorType: 0 }));
    expect(Array.from(g.data)).toEqual([10, 10, 10, 200, 200, 200]);
  });

  it('decodes JPEG (lossy: close to the encoded pixels)', () => {
    const flat = { width: 16, height: 16, data: new Uint8Array(16 * 16 * 4).fill(128) };
    const jpg = encodeJpeg(flat, 95).data;
    const d = decodeImage(jpg, 'flat.jpg');
    expect([d.width, d.height, d.data.length]).toEqual([16, 16, 768]);
    expect(Math.max(...Array.from(d.data, (v) => Math.abs(v - 128)))).toBeLessThanOrEqual(2);
  });

  it('rejects other files with the file name', () => {
    expect(() => decodeImage(new TextEncoder().encode('GIF89a....'), 'x.gif')).toThrow(
      /x\.gif: not a JPEG or PNG/,
    );
    const broken = encodePng(image).slice(0, 40);
    expect(() => decodeImage(broken, 'broken.png')).toThrow(/broken\.png: cannot decode/);
  });

  it('lists a frames folder in natural order and reads it frame by frame', async () => {
    const frames = join(dir, 'seq');
    mkdirSync(frames);
    for (const n of ['10', '2', '1'])
      writeFileSync(join(frames, `${n}.png`), encodePng(drawBox(image, [0, 0, Number(n), 2])));
    writeFileSync(join(frames, 'groundtruth.txt'), '0,0,1,1\n');
    const files = await listFrameFiles(frames);
    expect(files.map((f) => f.slice(frames.length + 1))).toEqual(['1.png', '2.png', '10.png']);
    let n = 0;
    for await (const f of readFramesDir(frames)) {
      expect([f.width, f.height]).toEqual([5, 3]);
      n++;
    }
    expect(n).toBe(3);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(listFrameFiles(empty)).rejects.toThrow(/no frames \(\.jpg, \.jpeg or \.png files\)/);
  });

  it('draws a box outline, clipped to the image', () => {
    const blank = { width: 4, height: 4, data: new Uint8Array(48) };
    const d = drawBox(blank, [1, 1, 2, 2], { color: [9, 8, 7], thickness: 1 });
    const red = Array.from({ length: 16 }, (_, i) => d.data[i * 3]);
    expect(red).toEqual([0, 0, 0, 0, 0, 9, 9, 0, 0, 9, 9, 0, 0, 0, 0, 0]);
    expect(blank.data.every((v) => v === 0)).toBe(true);
    expect(() => drawBox(blank, [-10, -10, 100, 100])).not.toThrow();
  });
});
