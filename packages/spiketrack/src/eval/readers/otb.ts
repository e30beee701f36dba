/**
 * OTB-100: `<root>/<Seq>/img/%04d.jpg` and `<Seq>/groundtruth_rect.txt` (comma, tab or space
 * separated), with the start frames, the two-target sequences and the other quirks of
 * {@link OTB100_SEQUENCES}. Sequences of the table that the folder lacks are listed in `missing`.
 */
import type { DatasetSource } from '../source';
import { OTB100_SEQUENCES } from '../tables/otb';
import { type Dataset, DatasetError, type Sequence } from '../types';
import { pad, readBoxes } from './files';

/** Reads OTB-100. */
export async function readOtb(src: DatasetSource, root: string): Promise<Dataset> {
  const sequences: Sequence[] = [];
  const missing: string[] = [];
  for (const e of OTB100_SEQUENCES) {
    const annoPath = `${root}/${e.dir}/${e.anno}`;
    if (!(await src.isFile(annoPath))) {
      missing.push(e.name);
      continue;
    }
    // The ground truth starts at the sequence's first frame; initOmit drops rows and frames alike.
    const groundTruth = (await readBoxes(src, annoPath)).slice(e.initOmit);
    const frames: string[] = [];
    for (let n = e.start + e.initOmit; n <= e.end; n++)
      frames.push(`${root}/${e.dir}/img/${pad(n, e.digits)}.${e.ext}`);
    sequences.push({
      name: e.name,
      dataset: 'otb',
      frames,
      groundTruth,
      hasGroundTruth: true,
      ...(e.name.includes('_') && { aliases: [e.name.replace('_', '-')] }),
    });
  }
  if (sequences.length === 0) {
    throw new DatasetError(
      `${root}: no OTB-100 sequence found (expected <Seq>/groundtruth_rect.txt, e.g. Basketball/groundtruth_rect.txt)`,
    );
  }
  return { name: 'OTB-100', format: 'otb', sequences, missing };
}
