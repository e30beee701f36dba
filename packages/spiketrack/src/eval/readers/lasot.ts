/**
 * LaSOT: `<root>/<class>/<class>-<n>/groundtruth.txt` (comma-separated xywh), `full_occlusion.txt`
 * and `out_of_view.txt` (one comma-separated line of 0/1 per frame), frames `img/%08d.jpg`.
 * Visibility follows pytracking's lasotdataset.py: `target_visible = !full_occlusion && !out_of_view`.
 */
import { LASOT_TEST_SEQUENCES } from '../tables/lasot';
import type { DatasetSource } from '../source';
import { type Dataset, DatasetError, type Sequence } from '../types';
import { pad, readBoxes, readLabels, readList, subdirs } from './files';

/** Options of the LaSOT reader. */
export interface LasotOptions {
  /**
   * `'test'` (default): the 280-sequence test split (the root's `testing_set.txt` when present,
   * else the built-in list), restricted to the sequences present; `'all'`: every sequence found.
   */
  readonly split?: 'test' | 'all';
}

async function lasotSequence(src: DatasetSource, root: string, name: string): Promise<Sequence> {
  const cls = name.slice(0, name.lastIndexOf('-'));
  const dir = `${root}/${cls}/${name}`;
  const groundTruth = await readBoxes(src, `${dir}/groundtruth.txt`);
  const occlusion = await readLabels(src, `${dir}/full_occlusion.txt`, groundTruth.length);
  const outOfView = await readLabels(src, `${dir}/out_of_view.txt`, groundTruth.length);
  return {
    name,
    dataset: 'lasot',
    frames: groundTruth.map((_, i) => `${dir}/img/${pad(i + 1, 8)}.jpg`),
    groundTruth,
    hasGroundTruth: true,
    targetVisible: occlusion.map((o, i) => o === 0 && outOfView[i] === 0),
    objectClass: cls,
  };
}

/** Reads LaSOT (see {@link LasotOptions}). */
export async function readLasot(src: DatasetSource, root: string, opts: LasotOptions = {}): Promise<Dataset> {
  let names: string[];
  const missing: string[] = [];
  if ((opts.split ?? 'test') === 'test') {
    const listFile = `${root}/testing_set.txt`;
    const wanted = (await src.isFile(listFile)) ? await readList(src, listFile) : [...LASOT_TEST_SEQUENCES];
    names = [];
    for (const n of wanted) {
      const cls = n.slice(0, n.lastIndexOf('-'));
      if (await src.isDir(`${root}/${cls}/${n}`)) names.push(n);
      else missing.push(n);
    }
  } else {
    names = [];
    for (const cls of await subdirs(src, root)) {
      for (const n of await subdirs(src, `${root}/${cls}`)) if (n.startsWith(`${cls}-`)) names.push(n);
    }
  }
  if (names.length === 0) {
    throw new DatasetError(
      `${root}: no LaSOT sequence found (expected <class>/<class>-<n>/groundtruth.txt, e.g. airplane/airplane-1)`,
    );
  }
  const sequences: Sequence[] = [];
  for (const n of names) sequences.push(await lasotSequence(src, root, n));
  return { name: 'LaSOT', format: 'lasot', sequences, missing };
}
