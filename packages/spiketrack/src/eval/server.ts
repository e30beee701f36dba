/**
 * Packaging of results for the evaluation servers of the benchmarks whose test ground truth is
 * not public:
 * - GOT-10k (got-10k.aitestunion.com): a zip with one folder per sequence holding
 *   `<seq>/<seq>_001.txt` (the boxes of run 1, `x,y,w,h` per line, frame 0 included) and
 *   `<seq>/<seq>_time.txt` (seconds per frame), the layout the GOT-10k toolkit writes;
 * - TrackingNet (eval.ai): a zip of `<seq>.txt` files (`x,y,w,h` per line) at the archive's root.
 */
import { formatBoxes } from './ground-truth';
import { type Box, DatasetError, type Sequence } from './types';
import { writeZip } from './zip';

/** One sequence's tracker output. */
export interface SequenceResult {
  readonly boxes: readonly Box[];
  /** Seconds per frame (GOT-10k's `_time.txt`); frame 0 is the initialization. */
  readonly times?: readonly number[];
}

function checkComplete(
  results: ReadonlyMap<string, SequenceResult>,
  sequences: readonly Sequence[] | undefined,
): [string, SequenceResult][] {
  const entries = [...results.entries()];
  if (sequences) {
    for (const s of sequences) {
      const r = results.get(s.name);
      if (!r) throw new DatasetError(`no results for sequence '${s.name}' (the server needs every sequence)`);
      if (s.frames.length > 1 && r.boxes.length !== s.frames.length) {
        throw new DatasetError(`results of ${s.name}: ${r.boxes.length} boxes for ${s.frames.length} frames`);
      }
    }
  }
  for (const [name, r] of entries) {
    r.boxes.forEach((b, i) => {
      if (b.length !== 4 || b.some((v) => !Number.isFinite(v))) {
        throw new DatasetError(
          `results of ${name}: frame ${i + 1} is not a finite box: ${JSON.stringify(b)}`,
        );
      }
    });
  }
  return entries;
}

/**
 * The GOT-10k server archive. With `sequences`, checks that every sequence has one box per frame.
 * `times` default to 0 per frame when missing (the server then reports no speed).
 */
export function packGot10kResults(
  results: ReadonlyMap<string, SequenceResult>,
  sequences?: readonly Sequence[],
): Uint8Array {
  const entries = checkComplete(results, sequences);
  return writeZip(
    entries.flatMap(([name, r]) => {
      const times = r.times ?? r.boxes.map(() => 0);
      if (times.length !== r.boxes.length) {
        throw new DatasetError(`results of ${name}: ${times.length} times for ${r.boxes.length} boxes`);
      }
      return [
        { name: `${name}/${name}_001.txt`, data: formatBoxes(r.boxes) },
        {
          name: `${name}/${name}_time.txt`,
          data: times
            .map((t) => t.toFixed(8))
            .join('\n')
            .concat('\n'),
        },
      ];
    }),
  );
}

/** The TrackingNet server archive: `<seq>.txt` per sequence. */
export function packTrackingNetResults(
  results: ReadonlyMap<string, SequenceResult>,
  sequences?: readonly Sequence[],
): Uint8Array {
  const entries = checkComplete(results, sequences);
  return writeZip(entries.map(([name, r]) => ({ name: `${name}.txt`, data: formatBoxes(r.boxes) })));
}
