/**
 * The result files of `spiketrack eval`, pytracking's layout: `<dir>/<sequence>.txt` (one
 * `x,y,w,h` box per frame, frame 0 included) and `<dir>/<sequence>_time.txt` (seconds per frame).
 * Each is written atomically (a temporary file in the same folder, then a rename), the time file
 * first, so a `<sequence>.txt` that exists is always a finished sequence.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Box } from '../../tracker/box';
import { writeFileAtomic } from '../write-file-atomic';

/** A box as a results line: `x,y,w,h`, at most 4 decimals. */
export function resultLine(b: Box): string {
  return b.map((v) => String(Number(v.toFixed(4)))).join(',');
}

/**
 * Writes one finished sequence: `<name>_time.txt` (seconds per frame, 6 decimals), then
 * `<name>.txt` (the boxes), both atomically.
 */
export async function writeSequenceResult(
  dir: string,
  name: string,
  boxes: readonly Box[],
  seconds: readonly number[],
): Promise<void> {
  await writeFileAtomic(join(dir, `${name}_time.txt`), `${seconds.map((s) => s.toFixed(6)).join('\n')}\n`);
  await writeFileAtomic(join(dir, `${name}.txt`), `${boxes.map(resultLine).join('\n')}\n`);
}

/**
 * The sequences of `names` that already have a `<name>.txt` in `dir` (finished by an earlier or
 * another run). A missing folder has none.
 */
export async function finishedSequences(dir: string, names: readonly string[]): Promise<Set<string>> {
  const files = new Set(await readdir(dir).catch(() => [] as string[]));
  return new Set(names.filter((n) => files.has(`${n}.txt`)));
}
