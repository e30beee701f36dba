/**
 * UAV123: `<root>/anno/UAV123/<name>.txt` (comma-separated xywh, `NaN` rows where the target is
 * not annotated) and frames `<root>/data_seq/UAV123/<video>/%06d.jpg`, where a sub-sequence is a
 * frame range of a longer video ({@link UAV123_SEQUENCES}). An annotation file not in the table
 * (UAV20L, …) is read as a whole video of that name. Results are named `uav_<name>` (pytracking).
 */
import type { DatasetSource } from '../source';
import { UAV123_SEQUENCES, type UavEntry } from '../tables/uav';
import { type Dataset, DatasetError, type Sequence } from '../types';
import { pad, readBoxes } from './files';

/** Reads UAV123 (`subset`: the folder under `anno/` and `data_seq/`, default `UAV123`). */
export async function readUav(src: DatasetSource, root: string, subset = 'UAV123'): Promise<Dataset> {
  const annoDir = `${root}/anno/${subset}`;
  if (!(await src.isDir(annoDir))) {
    throw new DatasetError(
      `${root}: no UAV123 annotations (expected the folder anno/${subset}/ with <sequence>.txt)`,
    );
  }
  const present = (await src.list(annoDir)).filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -4));
  const table = new Map<string, UavEntry>(UAV123_SEQUENCES.map((e) => [e.name, e]));
  const inTable = subset === 'UAV123' ? UAV123_SEQUENCES.map((e) => e.name) : [];
  const order = [
    ...inTable.filter((n) => present.includes(n)),
    ...present.filter((n) => !table.has(n)).sort(),
  ];
  const sequences: Sequence[] = [];
  for (const name of order) {
    const groundTruth = await readBoxes(src, `${annoDir}/${name}.txt`);
    const e = (subset === 'UAV123' && table.get(name)) || {
      name,
      video: name,
      start: 1,
      end: groundTruth.length,
    };
    const frames: string[] = [];
    for (let n = e.start; n <= e.end; n++)
      frames.push(`${root}/data_seq/${subset}/${e.video}/${pad(n, 6)}.jpg`);
    sequences.push({
      name: `uav_${name}`,
      dataset: 'uav',
      frames,
      groundTruth,
      hasGroundTruth: true,
      aliases: [name],
    });
  }
  if (sequences.length === 0) throw new DatasetError(`${annoDir}: no <sequence>.txt annotation files`);
  return { name: subset, format: 'uav', sequences, missing: inTable.filter((n) => !present.includes(n)) };
}
