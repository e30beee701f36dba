/**
 * GOT-10k (one split folder: `val/` or `test/`): `<seq>/groundtruth.txt` (comma-separated xywh;
 * only the first frame on the test split), `absence.label` (1 = absent) and `cover.label` (0–8)
 * where public, frames `%08d.jpg`; the sequence list is `list.txt` (as pytracking's
 * got10kdataset.py), else the sub-folders.
 */
import type { DatasetSource } from '../source';
import { type Dataset, DatasetError, type Sequence } from '../types';
import { listFrames, pad, readBoxes, readLabels, readList, subdirs } from './files';

/** The `resolution: (1280, 720)` and `object_class: …` lines of a GOT-10k `meta_info.ini`. */
export function parseMetaInfo(text: string): { imageSize?: [number, number]; objectClass?: string } {
  const res = /^\s*resolution\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)/m.exec(text);
  const cls = /^\s*object_class\s*:\s*(.+?)\s*$/m.exec(text);
  return {
    ...(res && { imageSize: [Number(res[1]), Number(res[2])] as [number, number] }),
    ...(cls && { objectClass: cls[1] }),
  };
}

async function got10kSequence(src: DatasetSource, root: string, name: string): Promise<Sequence> {
  const dir = `${root}/${name}`;
  const groundTruth = await readBoxes(src, `${dir}/groundtruth.txt`);
  const frames = await listFrames(src, dir, () => groundTruth.map((_, i) => `${dir}/${pad(i + 1, 8)}.jpg`));
  const absenceFile = `${dir}/absence.label`;
  const metaFile = `${dir}/meta_info.ini`;
  const meta = (await src.isFile(metaFile)) ? parseMetaInfo(await src.readText(metaFile)) : {};
  const coverFile = `${dir}/cover.label`;
  return {
    name,
    dataset: 'got10k',
    frames,
    groundTruth,
    // The test split's groundtruth.txt holds only the first frame's box.
    hasGroundTruth: groundTruth.length > 1 || frames.length === 1,
    ...((await src.isFile(absenceFile)) && {
      absent: (await readLabels(src, absenceFile, groundTruth.length)).map((a) => a !== 0),
    }),
    ...((await src.isFile(coverFile)) && { cover: await readLabels(src, coverFile, groundTruth.length) }),
    ...meta,
  };
}

/** Reads a GOT-10k split folder. */
export async function readGot10k(src: DatasetSource, root: string): Promise<Dataset> {
  const listFile = `${root}/list.txt`;
  const names = (await src.isFile(listFile)) ? await readList(src, listFile) : await subdirs(src, root);
  if (names.length === 0)
    throw new DatasetError(`${root}: no GOT-10k sequence found (expected list.txt or <seq>/groundtruth.txt)`);
  const sequences: Sequence[] = [];
  for (const n of names) sequences.push(await got10kSequence(src, root, n));
  return { name: 'GOT-10k', format: 'got10k', sequences, missing: [] };
}
