import { stat } from 'node:fs/promises';
import type { RgbImage } from '../frames/rgb-image';
import { listFrameFiles, readFrameFiles } from './frames-dir';
import { type OpenVideoOptions, openVideo } from './video';

/** A sequence of frames from a folder of images or a video file. */
export interface FrameSource {
  readonly kind: 'frames-dir' | 'video';
  /** The number of frames if known (a folder: exact; a video: ffprobe's count or an estimate). */
  readonly frameCount: number | null;
  /** Frames per second of a video, if known. */
  readonly fps: number | null;
  /** The frames, one at a time. */
  frames(): AsyncGenerator<RgbImage>;
  /** Releases the source (stops ffmpeg). Idempotent. */
  close(): void;
}

/**
 * Opens `input`: a folder of JPEG/PNG frames (sorted by name, numbers by value), or any other file
 * as a video decoded by ffmpeg ({@link openVideo}).
 */
export async function openFrameSource(input: string, opts: OpenVideoOptions = {}): Promise<FrameSource> {
  const s = await stat(input);
  if (s.isDirectory()) {
    const files = await listFrameFiles(input);
    return {
      kind: 'frames-dir',
      frameCount: files.length,
      fps: null,
      frames: () => readFrameFiles(files),
      close() {},
    };
  }
  const video = await openVideo(input, opts);
  return {
    kind: 'video',
    frameCount: video.info.frameCount,
    fps: video.info.fps,
    frames: () => video.frames(),
    close: () => video.close(),
  };
}
