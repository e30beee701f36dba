/**
 * The trackers `spiketrack eval` runs, behind one small interface, and the loop that tracks one
 * sequence from its frame files and writes its results. Used inside each worker thread.
 */
import { BackendError, CheckpointError, ConfigError, ShapeError } from '@spiketrack/neurons';
import { selectBackend } from '@spiketrack/neurons/node';
import { NccTracker } from '../../baseline/ncc';
import type { RgbImage } from '../../frames/rgb-image';
import type { Box } from '../../tracker/box';
import { Tracker } from '../../tracker/tracker';
import { readImageFile } from '../image-file';
import type { EvalJob, EvalWorkerConfig } from './protocol';
import { writeSequenceResult } from './result-files';

/** A tracker as the evaluation loop drives it: one sequence after another. */
export interface SequenceTracker {
  /** The tfjs backend it runs on (null for the tfjs-free NCC baseline). */
  readonly backend: string | null;
  /** Starts a sequence (and resets any previous one). */
  initialize(frame: RgbImage, box: Box): Promise<void>;
  track(frame: RgbImage): Promise<Box>;
  dispose(): void;
}

/**
 * Builds the tracker of `config`: for `spiketrack`, selects the backend (in this thread) and loads
 * the checkpoint once; for `ncc`, a fresh {@link NccTracker} per sequence.
 */
export async function createSequenceTracker(config: EvalWorkerConfig): Promise<SequenceTracker> {
  if (config.tracker === 'ncc') {
    let ncc: NccTracker | null = null;
    return {
      backend: null,
      async initialize(frame, box) {
        ncc?.dispose();
        ncc = new NccTracker();
        ncc.initialize(frame, box);
      },
      async track(frame) {
        if (!ncc) throw new ConfigError('ncc tracker: initialize before track');
        return ncc.track(frame).box;
      },
      dispose() {
        ncc?.dispose();
        ncc = null;
      },
    };
  }
  if (config.checkpoint === undefined) {
    throw new ConfigError(
      '--tracker spiketrack needs --checkpoint FILE (no trained weights are bundled yet)',
    );
  }
  const chosen = await selectBackend(config.backend as Parameters<typeof selectBackend>[0]);
  const tracker = await Tracker.create({ checkpoint: config.checkpoint, preset: config.preset });
  return {
    backend: chosen.backend,
    initialize: (frame, box) => tracker.initialize(frame, box),
    track: async (frame) => (await tracker.track(frame)).box,
    dispose: () => tracker.dispose(),
  };
}

/**
 * Tracks `job` (frame 0 from its initial box) and writes `<resultsDir>/<name>.txt` and
 * `<name>_time.txt` (the tracker's seconds per frame, reading and decoding the image excluded, as
 * pytracking times them). Calls `onFrame` after each frame. Resolves to the total tracker seconds.
 */
export async function runSequence(
  tracker: SequenceTracker,
  job: EvalJob,
  resultsDir: string,
  onFrame: () => void = () => {},
): Promise<number> {
  if (job.frames.length === 0) throw new ShapeError(`sequence ${job.name}: no frames`);
  const boxes: Box[] = [];
  const seconds: number[] = [];
  for (let i = 0; i < job.frames.length; i++) {
    const image = await readImageFile(job.frames[i] as string);
    const t0 = performance.now();
    if (i === 0) {
      await tracker.initialize(image, job.initBox);
      boxes.push(job.initBox);
    } else {
      boxes.push(await tracker.track(image));
    }
    seconds.push((performance.now() - t0) / 1000);
    onFrame();
  }
  await writeSequenceResult(resultsDir, job.name, boxes, seconds);
  return seconds.reduce((a, b) => a + b, 0);
}

/** Whether an error is bad input (files, checkpoint, frames, options) rather than a bug. */
export function isBadInput(err: unknown): boolean {
  if ([ShapeError, CheckpointError, ConfigError, BackendError].some((E) => err instanceof E)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES'].includes(code);
}
