import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { FrameError } from '../frames/frame-error';
import type { RgbImage } from '../frames/rgb-image';
import { IMAGE_EXTENSIONS, readImageFile } from './image-file';

/**
 * The image files (`.jpg`, `.jpeg`, `.png`, any case) of a frames folder, sorted by name with
 * numbers compared by value (`2.jpg` before `10.jpg`; `00000001.jpg` … as in GOT-10k and LaSOT).
 * Throws a {@link FrameError} when there is none.
 */
export async function listFrameFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter(
      (e) => e.isFile() && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase()),
    )
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) {
    throw new FrameError(`${dir}: no frames (.jpg, .jpeg or .png files) in this folder`);
  }
  return names.map((n) => join(dir, n));
}

/** Reads image files one at a time, in the given order. */
export async function* readFrameFiles(files: readonly string[]): AsyncGenerator<RgbImage> {
  for (const file of files) yield await readImageFile(file);
}

/** Reads the frames of a folder one at a time, in {@link listFrameFiles} order. */
export async function* readFramesDir(dir: string): AsyncGenerator<RgbImage> {
  yield* readFrameFiles(await listFrameFiles(dir));
}
