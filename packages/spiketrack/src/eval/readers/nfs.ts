/**
 * Need for Speed (NFS) at 30 fps. NFS is filmed at 240 fps; the 30 fps benchmark uses every 8th
 * frame (the `30/` folders). Two layouts are read:
 * - pytracking's (nfsdataset.py): `<root>/anno/nfs_<name>.txt` (tab-separated xywh at 30 fps) and
 *   frames `<root>/sequences/<name>/%05d.jpg`;
 * - the official download: `<root>/<name>/30/<name>.txt`, rows
 *   `track_id xmin ymin xmax ymax frame lost occluded generated "label"` (converted to xywh), and
 *   frames `<root>/<name>/30/<name>/%05d.jpg`. Where that file holds 240 fps rows (about 8 per
 *   30 fps frame), every 8th row is kept, as the GOT-10k toolkit's NfS reader does.
 * Results are named `nfs_<name>` (pytracking).
 */
import { splitValues } from '../ground-truth';
import type { DatasetSource } from '../source';
import { type Box, type Dataset, DatasetError, type Sequence } from '../types';
import { listFrames, pad, readBoxes, readRequired, subdirs } from './files';

/** Parses an official NFS annotation file into xywh boxes (xmin ymin xmax ymax → x y w h). */
export function parseNfsAnnotation(text: string, source: string): Box[] {
  const boxes: Box[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const l = raw.trim();
    if (!l) return;
    const t = splitValues(l);
    const v = t.slice(1, 5).map(Number);
    if (t.length < 6 || v.some((x) => !Number.isFinite(x))) {
      throw new DatasetError(
        `${source}:${i + 1}: expected 'track_id xmin ymin xmax ymax frame …' (NFS), got '${l}'`,
      );
    }
    boxes.push([v[0]!, v[1]!, v[2]! - v[0]!, v[3]! - v[1]!]);
  });
  return boxes;
}

async function pytrackingLayout(src: DatasetSource, root: string): Promise<Sequence[]> {
  const annoDir = `${root}/anno`;
  const files = (await src.list(annoDir)).filter((f) => /^nfs_.+\.txt$/.test(f)).sort();
  const out: Sequence[] = [];
  for (const f of files) {
    const name = f.slice(0, -4);
    const groundTruth = await readBoxes(src, `${annoDir}/${f}`);
    const dir = `${root}/sequences/${name.slice(4)}`;
    out.push({
      name,
      dataset: 'nfs',
      frames: groundTruth.map((_, i) => `${dir}/${pad(i + 1, 5)}.jpg`),
      groundTruth,
      hasGroundTruth: true,
    });
  }
  return out;
}

async function officialLayout(src: DatasetSource, root: string): Promise<Sequence[]> {
  const out: Sequence[] = [];
  for (const name of await subdirs(src, root)) {
    const annoPath = `${root}/${name}/30/${name}.txt`;
    if (!(await src.isFile(annoPath))) continue;
    let groundTruth = parseNfsAnnotation(await readRequired(src, annoPath), annoPath);
    const dir = `${root}/${name}/30/${name}`;
    const frames = await listFrames(src, dir, () => []);
    if (frames.length > 0 && Math.abs(groundTruth.length / frames.length - 8) < 1) {
      groundTruth = groundTruth.filter((_, i) => i % 8 === 0);
    }
    const n = frames.length > 0 ? Math.min(frames.length, groundTruth.length) : groundTruth.length;
    out.push({
      name: `nfs_${name}`,
      dataset: 'nfs',
      frames:
        frames.length > 0 ? frames.slice(0, n) : groundTruth.map((_, i) => `${dir}/${pad(i + 1, 5)}.jpg`),
      groundTruth: groundTruth.slice(0, n),
      hasGroundTruth: true,
    });
  }
  return out;
}

/** Reads NFS (30 fps) in either layout. */
export async function readNfs(src: DatasetSource, root: string): Promise<Dataset> {
  const sequences = (await src.isDir(`${root}/anno`))
    ? await pytrackingLayout(src, root)
    : await officialLayout(src, root);
  if (sequences.length === 0) {
    throw new DatasetError(
      `${root}: no NFS sequence found (expected anno/nfs_<name>.txt or <name>/30/<name>.txt)`,
    );
  }
  return { name: 'NFS', format: 'nfs', sequences, missing: [] };
}
