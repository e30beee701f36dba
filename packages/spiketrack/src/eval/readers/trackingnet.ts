/**
 * TrackingNet: `<root>/<set>/anno/<seq>.txt` (comma-separated xywh; only the first frame on TEST)
 * and frames `<root>/<set>/frames/<seq>/<n>.jpg` (n from 0), with sets `TEST` or `TRAIN_0` …
 * `TRAIN_11` (as pytracking's trackingnetdataset.py). `root` may also be one set's folder.
 */
import type { DatasetSource } from '../source';
import { type Dataset, DatasetError, type Sequence } from '../types';
import { listFrames, readBoxes, subdirs } from './files';

/** Options of the TrackingNet reader. */
export interface TrackingNetOptions {
  /** The sets to read (default: `TEST` when present, else every `TRAIN_i` present). */
  readonly sets?: readonly string[];
}

/** Reads TrackingNet. */
export async function readTrackingNet(
  src: DatasetSource,
  root: string,
  opts: TrackingNetOptions = {},
): Promise<Dataset> {
  const setDirs: string[] = [];
  if (await src.isDir(`${root}/anno`)) setDirs.push(root);
  else {
    const present = await subdirs(src, root);
    const sets =
      opts.sets ?? (present.includes('TEST') ? ['TEST'] : present.filter((s) => /^TRAIN_\d+$/.test(s)));
    for (const s of sets) {
      if (!present.includes(s))
        throw new DatasetError(
          `${root}: no TrackingNet set '${s}' (found ${present.join(', ') || 'nothing'})`,
        );
      setDirs.push(`${root}/${s}`);
    }
  }
  const sequences: Sequence[] = [];
  for (const dir of setDirs) {
    if (!(await src.isDir(`${dir}/anno`)))
      throw new DatasetError(`${dir}: no anno/ folder (TrackingNet layout: <set>/anno/<seq>.txt)`);
    const files = (await src.list(`${dir}/anno`)).filter((f) => f.endsWith('.txt')).sort();
    for (const f of files) {
      const name = f.slice(0, -4);
      const groundTruth = await readBoxes(src, `${dir}/anno/${f}`);
      const framesDir = `${dir}/frames/${name}`;
      const frames = await listFrames(src, framesDir, () =>
        groundTruth.map((_, i) => `${framesDir}/${i}.jpg`),
      );
      sequences.push({
        name,
        dataset: 'trackingnet',
        frames,
        groundTruth,
        hasGroundTruth: groundTruth.length > 1 || frames.length === 1,
      });
    }
  }
  if (sequences.length === 0)
    throw new DatasetError(`${root}: no TrackingNet sequence found (expected <set>/anno/<seq>.txt)`);
  return { name: 'TrackingNet', format: 'trackingnet', sequences, missing: [] };
}
