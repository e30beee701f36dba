/**
 * The trackers `spiketrack eval` runs, behind one small interface, and the loop that tracks one
 * sequence from its frame files and writes its results. Used inside each worker thread.
 */
import { BackendError, CheckpointError, ConfigError, ShapeError } from '@spiketrack/neurons';
import { selectBackend } from '@spiketrack/neurons/node';
import { loadCheckpoint } from '../../checkpoint/load';
import type { TrackingNetwork } from '../../model/tracking-network';
import type { Box } from '../../tracker/box';
import { type FrameTracker, nccFrameTracker, spikingFrameTracker } from '../../tracker/frame-tracker';
import { Tracker } from '../../tracker/tracker';
import { readImageFile } from '../image-file';
import { importNetworkModule } from '../network-module';
import type { EvalJob, EvalWorkerConfig } from './protocol';
import { writeSequenceResult } from './result-files';

/** A tracker as the evaluation loop drives it: one sequence after another. */
export interface SequenceTracker extends FrameTracker {
  /** The tfjs backend it runs on (null for the tfjs-free NCC baseline). */
  readonly backend: string | null;
}

/**
 * Builds the tracker of `config`: for `spiketrack`, selects the backend (in this thread) and loads
 * the checkpoint once; for `ncc`, a fresh NCC baseline per sequence.
 */
export async function createSequenceTracker(config: EvalWorkerConfig): Promise<SequenceTracker> {
  if (config.tracker === 'ncc') return { backend: null, ...nccFrameTracker() };
  const chosen = await selectBackend(
    config.backend as Parameters<typeof selectBackend>[0],
    config.wasmThreads === undefined ? {} : { wasmThreads: config.wasmThreads },
  );
  if (config.tracker === 'module') {
    const model = await moduleNetwork(config);
    const tracker = await Tracker.create({ model, preset: config.preset });
    return { backend: chosen.backend, ...spikingFrameTracker(tracker, () => model.dispose()) };
  }
  // Without a checkpoint: the bundled model.
  const tracker = await Tracker.create({
    ...(config.checkpoint === undefined ? {} : { checkpoint: config.checkpoint }),
    preset: config.preset,
  });
  return { backend: chosen.backend, ...spikingFrameTracker(tracker) };
}

/**
 * The network of a tracker module (`--tracker ./file.mjs`): imports it, calls its
 * `createModel({ checkpoint })` (or default export; `checkpoint` is `--checkpoint`'s path, or
 * absent), checks that it made a {@link TrackingNetwork}, loads `--checkpoint` into it
 * (strict; a safetensors file of its state dict, native or torch layout, or a `.pth.tar`) and puts it in eval mode.
 */
async function moduleNetwork(config: EvalWorkerConfig): Promise<TrackingNetwork> {
  const file = config.module;
  if (file === undefined) throw new ConfigError('tracker module: no module path');
  // The checkpoint's path is passed for information (a module may read its configuration from the
  // file's metadata); the weights are loaded below.
  const { model } = await importNetworkModule(
    file,
    config.checkpoint === undefined ? {} : { checkpoint: config.checkpoint },
    '--tracker',
  );
  try {
    if (config.checkpoint !== undefined) await loadCheckpoint(model, config.checkpoint);
    return model.eval();
  } catch (e) {
    model.dispose();
    throw e;
  }
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
      boxes.push((await tracker.track(image)).box);
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
