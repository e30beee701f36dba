/**
 * Node file-system access for the evaluation toolkit: datasets from folders, tracker results from
 * `<results>/<sequence>.txt`, and the evaluation servers' archives written to disk.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import {
  type Dataset,
  DatasetError,
  type DatasetFormat,
  type DatasetSource,
  type LoadDatasetOptions,
  type Sequence,
  loadDataset,
  parseBoxes,
  parseRows,
} from '../eval/index';
import type { Box } from '../eval/types';

async function kind(path: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : null;
  } catch {
    return null;
  }
}

/** A {@link DatasetSource} over `node:fs`. */
export const nodeDatasetSource: DatasetSource = {
  readText: (path) => readFile(path, 'utf8'),
  list: (dir) => readdir(dir),
  isFile: async (path) => (await kind(path)) === 'file',
  isDir: async (path) => (await kind(path)) === 'dir',
};

/**
 * Reads a benchmark from a folder: `readDataset('/data/LaSOTBenchmark', 'lasot')`. See
 * `loadDataset` for the layouts and options.
 */
export function readDataset(
  dir: string,
  format: DatasetFormat,
  opts: LoadDatasetOptions = {},
): Promise<Dataset> {
  return loadDataset(nodeDatasetSource, dir.replace(/[\\/]+$/, '') || dir, format, opts);
}

/** Options of {@link readResults}. */
export interface ReadResultsOptions {
  /** Also read `<name>_time.txt` (seconds per frame) where present (pytracking writes it). */
  readonly times?: boolean;
}

/** A tracker's results read from disk. */
export interface TrackerResults {
  /** Boxes per sequence name. */
  readonly boxes: Map<string, Box[]>;
  /** Seconds per frame, where `<name>_time.txt` exists (with `times: true`). */
  readonly times: Map<string, number[]>;
}

/**
 * Reads a tracker's results for `sequences` from `dir`: `<dir>/<name>.txt` (x,y,w,h per line,
 * comma or tab separated; a sequence's alias is tried too). A missing file is a
 * {@link DatasetError} naming the sequence.
 */
export async function readResults(
  dir: string,
  sequences: readonly Sequence[],
  opts: ReadResultsOptions = {},
): Promise<TrackerResults> {
  if ((await kind(dir)) !== 'dir') throw new DatasetError(`${dir}: results folder not found`);
  const boxes = new Map<string, Box[]>();
  const times = new Map<string, number[]>();
  for (const seq of sequences) {
    let found: string | null = null;
    let stem = seq.name;
    for (const name of [seq.name, ...(seq.aliases ?? [])]) {
      if ((await kind(`${dir}/${name}.txt`)) === 'file') {
        found = `${dir}/${name}.txt`;
        stem = name;
        break;
      }
    }
    if (!found)
      throw new DatasetError(`no results for sequence '${seq.name}': ${dir}/${seq.name}.txt not found`);
    boxes.set(seq.name, parseBoxes(await readFile(found, 'utf8'), found));
    const timeFile = `${dir}/${stem}_time.txt`;
    if (opts.times && (await kind(timeFile)) === 'file') {
      times.set(
        seq.name,
        parseRows(await readFile(timeFile, 'utf8'), timeFile, 1, 'seconds').map((r) => r[0]!),
      );
    }
  }
  return { boxes, times };
}
