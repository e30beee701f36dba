/** Helpers shared by the dataset readers: reading annotation files with errors that name them. */
import { parseBoxes, parseLabels } from '../ground-truth';
import type { DatasetSource } from '../source';
import { type Box, DatasetError } from '../types';

/** Reads a box file; a missing file is a {@link DatasetError} naming it. */
export async function readBoxes(src: DatasetSource, path: string): Promise<Box[]> {
  return parseBoxes(await readRequired(src, path), path);
}

/** Reads a label file and checks that it has one label per frame. */
export async function readLabels(src: DatasetSource, path: string, frames: number): Promise<number[]> {
  const labels = parseLabels(await readRequired(src, path), path);
  if (labels.length !== frames) {
    throw new DatasetError(`${path}: ${labels.length} labels, but the ground truth has ${frames} frames`);
  }
  return labels;
}

/** The text of a file that must exist. */
export async function readRequired(src: DatasetSource, path: string): Promise<string> {
  if (!(await src.isFile(path))) throw new DatasetError(`${path}: file not found`);
  return src.readText(path);
}

/** `n` zero-padded to `digits`. */
export function pad(n: number, digits: number): string {
  return String(n).padStart(digits, '0');
}

/**
 * The image files of a folder, sorted by their numeric stem (`1.jpg` < `10.jpg`), as paths. When
 * the folder does not exist (metrics need no images), returns `fallback()`.
 */
export async function listFrames(
  src: DatasetSource,
  dir: string,
  fallback: () => string[],
  numeric = true,
): Promise<string[]> {
  if (!(await src.isDir(dir))) return fallback();
  const names = (await src.list(dir)).filter((f) => /\.(jpe?g|png|bmp)$/i.test(f));
  if (names.length === 0) return fallback();
  const stem = (f: string) => Number(f.replace(/\.[^.]+$/, ''));
  names.sort(numeric ? (a, b) => stem(a) - stem(b) || a.localeCompare(b) : undefined);
  return names.map((f) => `${dir}/${f}`);
}

/** The sub-folders of `dir`, sorted. */
export async function subdirs(src: DatasetSource, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await src.list(dir)) if (await src.isDir(`${dir}/${name}`)) out.push(name);
  return out.sort();
}

/** A list file (`list.txt`, `testing_set.txt`): one name a line. */
export async function readList(src: DatasetSource, path: string): Promise<string[]> {
  return (await src.readText(path))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
