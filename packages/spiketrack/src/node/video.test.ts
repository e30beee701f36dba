/**
 * Video decoding through ffmpeg. ffmpeg is usually not installed here, so the streaming is
 * tested with a stand-in `ffmpeg`: a real Node process that reads its input file (a small raw
 * video: a `WxH N` header line and N rgb24 frames), reports it on stderr in ffmpeg's words, and
 * writes the frames to stdout in odd-sized chunks, as ffmpeg's rawvideo pipe does. With a real
 * ffmpeg on PATH, a generated clip is decoded too.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { FrameError } from '../frames/frame-error';
import { openFrameSource } from './frame-source';
import { FfmpegNotFoundError, openVideo, parseFfmpegStderr } from './video';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-video-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FAKE = `#!/usr/bin/env node
const fs = require('node:fs');
const file = process.argv[process.argv.indexOf('-i') + 1];
let bytes;
try { bytes = fs.readFileSync(file); } catch { process.stderr.write(file + ': No such file or directory\\n'); process.exit(1); }
const nl = bytes.indexOf(10);
const m = /^(\\d+)x(\\d+) (\\d+)$/.exec(bytes.subarray(0, nl).toString());
if (!m) { process.stderr.write(file + ': Invalid data found when processing input\\n'); process.exit(1); }
const [w, h, n] = [Number(m[1]), Number(m[2]), Number(m[3])];
process.stderr.write("Input #0, fake, from '" + file + "':\\n  Duration: 00:00:0" + (n / 25).toFixed(2) + ", bitrate: N/A\\n" +
  "  Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24, " + w + "x" + h + ", 25 fps, 25 tbr\\n" +
  "Output #0, rawvideo, to 'pipe:':\\n  Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc), " + w + "x" + h + ", q=2-31, 25 fps\\n");
const data = bytes.subarray(nl + 1);
let off = 0;
const pump = () => {
  while (off < data.length) {
    const chunk = data.subarray(off, off + 777);
    off += chunk.length;
    if (!process.stdout.write(chunk)) { process.stdout.once('drain', pump); return; }
  }
  process.stdout.end();
};
pump();
`;
const fake = join(dir, 'ffmpeg');
writeFileSync(fake, FAKE);
chmodSync(fake, 0o755);

/** A raw clip for the stand-in: frame k has value (k·31 + i) mod 256 at byte i. */
function rawClip(path: string, w: number, h: number, n: number): Uint8Array[] {
  const frames = Array.from({ length: n }, (_, k) =>
    Uint8Array.from({ length: w * h * 3 }, (_, i) => (k * 31 + i) % 256),
  );
  writeFileSync(path, Buffer.concat([Buffer.from(`${w}x${h} ${n}\n`), ...frames]));
  return frames;
}

const hasFfmpeg = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// No tfjs: one backend is enough.
describe.skipIf(testBackend() !== 'cpu')('openVideo (ffmpeg)', () => {
  it('streams rgb24 frames one by one from the ffmpeg process', async () => {
    const clip = join(dir, 'clip.raw');
    const expected = rawClip(clip, 13, 7, 5);
    const video = await openVideo(clip, { ffmpeg: fake });
    expect(video.info).toEqual({ width: 13, height: 7, fps: 25, frameCount: 5 });
    const got: Uint8Array[] = [];
    for await (const f of video.frames()) {
      expect([f.width, f.height]).toEqual([13, 7]);
      got.push(f.data);
    }
    expect(got).toEqual(expected);
  });

  it('stops ffmpeg when the reader stops early, and works as a frame source', async () => {
    const clip = join(dir, 'long.raw');
    rawClip(clip, 64, 48, 40);
    const source = await openFrameSource(clip, { ffmpeg: fake });
    expect(source.kind).toBe('video');
    let n = 0;
    for await (const _ of source.frames()) if (++n === 2) break;
    expect(n).toBe(2);
    source.close();
  });

  it('says how to install ffmpeg when it is missing', async () => {
    const clip = join(dir, 'clip.raw');
    const err = await openVideo(clip, { ffmpeg: join(dir, 'no-such-ffmpeg') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegNotFoundError);
    expect(err).toBeInstanceOf(FrameError);
    expect((err as Error).message).toMatch(/was not found \(ENOENT\)/);
    expect((err as Error).message).toMatch(/apt-get install ffmpeg/);
    expect((err as Error).message).toMatch(/SPIKETRACK_FFMPEG/);
  });

  it("reports ffmpeg's own message for an unreadable file", async () => {
    const bad = join(dir, 'bad.raw');
    writeFileSync(bad, 'not a video\n');
    await expect(openVideo(bad, { ffmpeg: fake })).rejects.toThrow(
      /could not read the video \(exit code 1\):\n.*Invalid data found/,
    );
  });

  it("parses ffmpeg's report: the output stream's size, fps and duration", () => {
    const text = `Input #0, mov,mp4, from 'a.mp4':
  Duration: 00:01:02.50, start: 0.000000, bitrate: 1205 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1920x1080, 1000 kb/s, 29.97 fps, 29.97 tbr
Output #0, rawvideo, to 'pipe:':
  Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, progressive), 1080x1920, q=2-31, 29.97 fps
`;
    expect(parseFfmpegStderr(text)).toEqual({ size: [1080, 1920], fps: 29.97, duration: 62.5 });
    expect(parseFfmpegStderr(text.split('Output')[0] as string).size).toBeNull();
  });

  it.skipIf(!hasFfmpeg)('decodes a clip made by the real ffmpeg', async () => {
    const clip = join(dir, 'test.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x48:rate=10',
      '-frames:v',
      '3',
      '-y',
      clip,
    ]);
    const video = await openVideo(clip);
    expect([video.info.width, video.info.height]).toEqual([64, 48]);
    let n = 0;
    for await (const f of video.frames()) {
      expect(f.data.length).toBe(64 * 48 * 3);
      n++;
    }
    expect(n).toBe(3);
  });
});
