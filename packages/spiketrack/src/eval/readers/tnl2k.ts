/**
 * TNL2K (test set): `<root>/<seq>/groundtruth.txt` (comma-separated xywh), `language.txt`, frames
 * in `<seq>/imgs/` sorted by name (as the OSTrack-family tnl2kdataset.py that SpikeTrack's
 * evaluation code uses).
 */
import type { DatasetSource } from '../source';
import { type Dataset, DatasetError, type Sequence } from '../types';
import { listFrames, pad, readBoxes, subdirs } from './files';

/** Reads TNL2K. */
export async function readTnl2k(src: DatasetSource, root: string): Promise<Dataset> {
  const sequences: Sequence[] = [];
  for (const name of await subdirs(src, root)) {
    const dir = `${root}/${name}`;
    if (!(await src.isFile(`${dir}/groundtruth.txt`))) continue;
    const groundTruth = await readBoxes(src, `${dir}/groundtruth.txt`);
    const frames = await listFrames(
      src,
      `${dir}/imgs`,
      () => groundTruth.map((_, i) => `${dir}/imgs/${pad(i + 1, 5)}.jpg`),
      false,
    );
    const language = (await src.isFile(`${dir}/language.txt`))
      ? (await src.readText(`${dir}/language.txt`)).trim()
      : undefined;
    sequences.push({
      name,
      dataset: 'tnl2k',
      frames,
      groundTruth,
      hasGroundTruth: true,
      ...(language !== undefined && { language }),
    });
  }
  if (sequences.length === 0)
    throw new DatasetError(`${root}: no TNL2K sequence found (expected <seq>/groundtruth.txt)`);
  return { name: 'TNL2K', format: 'tnl2k', sequences, missing: [] };
}
