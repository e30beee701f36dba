import { type ChildProcess, spawn } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { FrameError } from '../frames/frame-error';
import type { RgbImage } from '../frames/rgb-image';

/** How to get ffmpeg, for the error when it is missing. */
export const FFMPEG_INSTALL_HELP = [
  'Install ffmpeg (https://ffmpeg.org/download.html) and make sure `ffmpeg` is on PATH:',
  '  Debian/Ubuntu: sudo apt-get install ffmpeg',
  '  Fedora: sudo dnf install ffmpeg',
  '  macOS: brew install ffmpeg',
  '  Windows: winget install ffmpeg',
  'or set SPIKETRACK_FFMPEG to the ffmpeg executable, or give a folder of JPEG/PNG frames instead of a video.',
].join('\n');

/** ffmpeg could not be started (not installed, not on PATH, or not executable). */
export class FfmpegNotFoundError extends FrameError {}

/** Options of {@link openVideo}. */
export interface OpenVideoOptions {
  /** The ffmpeg executable (default: `$SPIKETRACK_FFMPEG`, else `ffmpeg` on PATH). */
  ffmpeg?: string;
  /** The ffprobe executable for the frame count (default: next to ffmpeg). Missing is fine. */
  ffprobe?: string;
}

/** What is known about a video before decoding it. */
export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second, if ffmpeg reported it. */
  fps: number | null;
  /** The number of frames: ffprobe's `nb_frames`, else duration × fps (rounded), else null. */
  frameCount: number | null;
}

/** An open video: its {@link VideoInfo} and its frames, decoded one at a time. */
export interface VideoStream {
  readonly info: VideoInfo;
  /**
   * The frames as 8-bit RGB, in order. ffmpeg writes raw `rgb24` frames to a pipe that is read
   * only as fast as the frames are consumed, so the video is never held whole in memory. Breaking
   * out of the loop stops ffmpeg.
   */
  frames(): AsyncGenerator<RgbImage>;
  /** Stops ffmpeg (idempotent). */
  close(): void;
}

/** The ffmpeg executable {@link openVideo} uses by default. */
export function defaultFfmpeg(): string {
  return process.env.SPIKETRACK_FFMPEG || 'ffmpeg';
}

function tail(text: string, lines = 6): string {
  return text.trim().split(/\r?\n/).slice(-lines).join('\n');
}

/** The output size ffmpeg reports for the raw stream (after rotation and scaling), fps and duration. */
export function parseFfmpegStderr(text: string): {
  size: [number, number] | null;
  fps: number | null;
  duration: number | null;
} {
  const out = text.indexOf('Output #0');
  let size: [number, number] | null = null;
  if (out >= 0) {
    const line = /Stream #\d+:\d+[^\n]*Video:[^\n]*/.exec(text.slice(out))?.[0];
    const m = line ? /, (\d+)x(\d+)[ ,[]/.exec(`${line} `) : null;
    if (m) size = [Number(m[1]), Number(m[2])];
  }
  const input = out >= 0 ? text.slice(0, out) : text;
  const fpsMatch = /Stream #\d+:\d+[^\n]*Video:[^\n]*?, ([\d.]+) fps/.exec(input);
  const d = /Duration: (\d+):(\d+):([\d.]+)/.exec(input);
  return {
    size,
    fps: fpsMatch ? Number(fpsMatch[1]) : null,
    duration: d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : null,
  };
}

/** ffprobe's `nb_frames` of the first video stream, or null (ffprobe missing or no count). */
async function probeFrameCount(ffprobe: string, path: string): Promise<number | null> {
  return new Promise((resolve) => {
    let out = '';
    let proc: ChildProcess;
    try {
      proc = spawn(
        ffprobe,
        [
          '-v',
          'error',
          '-select_streams',
          'v:0',
          '-show_entries',
          'stream=nb_frames',
          '-of',
          'default=nw=1:nk=1',
          path,
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
    } catch {
      resolve(null);
      return;
    }
    proc.stdout?.on('data', (c: Buffer) => {
      out += String(c);
    });
    proc.on('error', () => resolve(null));
    proc.on('close', (code) => {
      const n = Number.parseInt(out.trim(), 10);
      resolve(code === 0 && Number.isInteger(n) && n > 0 ? n : null);
    });
  });
}

/**
 * Opens a video file with a spawned `ffmpeg -i FILE -f rawvideo -pix_fmt rgb24 -` (Node only).
 * The frame size is read from ffmpeg's report of its output stream; the frame count from ffprobe
 * when available. Throws an {@link FfmpegNotFoundError} that says how to install ffmpeg when it
 * cannot be started, and a {@link FrameError} with ffmpeg's message when it cannot read the file.
 */
export async function openVideo(path: string, opts: OpenVideoOptions = {}): Promise<VideoStream> {
  const ffmpeg = opts.ffmpeg ?? defaultFfmpeg();
  const ffprobe =
    opts.ffprobe ??
    (ffmpeg.includes('/') || ffmpeg.includes('\\')
      ? join(dirname(ffmpeg), basename(ffmpeg).replace(/ffmpeg/i, 'ffprobe'))
      : 'ffprobe');
  const proc = spawn(
    ffmpeg,
    ['-hide_banner', '-nostdin', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  let exited = false;
  const exit = new Promise<number | null>((resolve) => {
    proc.on('close', (code) => {
      exited = true;
      resolve(code);
    });
  });
  const close = () => {
    if (!exited) proc.kill('SIGTERM');
  };
  const info = await new Promise<ReturnType<typeof parseFfmpegStderr>>((resolve, reject) => {
    proc.on('error', (e: NodeJS.ErrnoException) => {
      exited = true;
      reject(
        e.code === 'ENOENT' || e.code === 'EACCES'
          ? new FfmpegNotFoundError(
              `cannot decode the video ${path}: '${ffmpeg}' was not found (${e.code}).\n${FFMPEG_INSTALL_HELP}`,
            )
          : new FrameError(`cannot start '${ffmpeg}' for ${path}: ${e.message}`),
      );
    });
    proc.stderr?.on('data', (c: Buffer) => {
      stderr += String(c);
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 16));
      const parsed = parseFfmpegStderr(stderr);
      if (parsed.size) resolve(parsed);
    });
    void exit.then((code) =>
      reject(
        new FrameError(`${path}: ffmpeg could not read the video (exit code ${code}):\n${tail(stderr)}`),
      ),
    );
  });
  const [width, height] = info.size as [number, number];
  if (width < 1 || height < 1) {
    close();
    throw new FrameError(`${path}: ffmpeg reported a ${width} × ${height} video`);
  }
  const probed = await probeFrameCount(ffprobe, path);
  const estimate = info.fps && info.duration ? Math.round(info.fps * info.duration) : null;
  const frameBytes = width * height * 3;
  return {
    info: { width, height, fps: info.fps, frameCount: probed ?? estimate },
    close,
    async *frames() {
      const stdout = proc.stdout;
      if (!stdout) throw new FrameError(`${path}: ffmpeg has no output pipe`);
      let data = new Uint8Array(frameBytes);
      let filled = 0;
      try {
        for await (const chunk of stdout as AsyncIterable<Buffer>) {
          let off = 0;
          while (off < chunk.length) {
            const n = Math.min(frameBytes - filled, chunk.length - off);
            data.set(chunk.subarray(off, off + n), filled);
            filled += n;
            off += n;
            if (filled === frameBytes) {
              yield { width, height, data };
              data = new Uint8Array(frameBytes);
              filled = 0;
            }
          }
        }
        const code = await exit;
        if (code !== 0)
          throw new FrameError(`${path}: ffmpeg failed while decoding (exit code ${code}):\n${tail(stderr)}`);
        if (filled !== 0) {
          throw new FrameError(`${path}: the video ended inside a frame (${filled} of ${frameBytes} bytes)`);
        }
      } finally {
        close();
      }
    },
  };
}
