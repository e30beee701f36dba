import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FrameTracker, nccFrameTracker, spikingFrameTracker } from '../../tracker/frame-tracker';
import { BUNDLED_MODEL } from '../../bundled-model';
import { evaluateSequence, iou } from '../../eval/metrics';
import type { Sequence } from '../../eval/types';
import { AnnotatedGif } from '../../node/annotated-gif';
import { formatBoxLine, writeSyntheticSequence } from '../../node/synthetic-writer';
import { SyntheticSequence } from '../../synthetic/sequence';
import type { Box } from '../../tracker/box';
import { Tracker } from '../../tracker/tracker';
import {
  BACKEND_HELP,
  BACKEND_OPTION,
  CONV_THREADS_HELP,
  CONV_THREADS_OPTION,
  cliConvThreads,
  parseThreads,
  selectCliBackend,
} from '../backend';
import { type CliCommand, UsageError } from '../command';
import { intOption, oneOf } from '../options';
import { ProgressBar } from '../progress';

const HELP = `Usage: spiketrack demo [--out DIR] [--seed N] [--frames N] [options]

Generates a synthetic tracking sequence (textured background, a moving textured target that
changes scale and aspect, a look-alike distractor, a partial occlusion, illumination change,
motion blur; no download), tracks it, and writes an annotated GIF, the boxes and the metrics.

It tracks with the bundled SpikeTrack model (${BUNDLED_MODEL.name}, trained on synthetic
sequences only; on real video, use an official checkpoint). --checkpoint FILE runs SpikeTrack with
other weights (an official checkpoint, or one you trained), and --tracker ncc the NCC baseline
(zero-mean normalized cross-correlation of the first frame's target, no learning).

Writes into --out:
  demo.gif                   the frames (halved), ground truth in green, the tracker in red, with
                             the frame number, IoU, the tracker's score and its frames per second
  results/<seq>.txt          the tracker's boxes, x,y,w,h per frame (frame 1 = the initial box)
  dataset/<seq>/             the sequence's annotations, GOT-10k layout (groundtruth.txt,
                             absence.label, cover.label, meta_info.ini; with --save-frames also
                             00000001.jpg …); dataset/list.txt
  summary.json               tracker, model, backend, convThreads, sequence, mean IoU, success AUC
                             (21 thresholds), precision at 20 px, normalized precision, speed

Options:
  --tracker NAME     spiketrack (default) or ncc
  --checkpoint FILE  the SpikeTrack weights (.pth.tar or .safetensors; default: the bundled model)
  --out DIR          the output folder (default ./spiketrack-demo)
  --seed N           the sequence's seed, an integer (default 1)
  --frames N         number of frames, at least 2 (default 120)
  --size WxH         frame size (default 640x480)
  --gif-scale N      GIF pixels per frame pixel, 1/N (default 2)
  --save-frames      also write the frames as JPEG (quality 90; slower)
${BACKEND_HELP}
${CONV_THREADS_HELP}
  -h, --help         this help

Then: spiketrack metrics --format got10k --dataset DIR/dataset --results DIR/results

Exit codes: 0 success, 2 bad input, 1 internal error.
`;

const BASELINE_NOTE =
  "tracking with the NCC baseline (zero-mean normalized cross-correlation of the first frame's target; no learning)";
const BUNDLED_NOTE = `tracking with the bundled SpikeTrack model ${BUNDLED_MODEL.name}, trained on synthetic sequences only (on real video, use an official checkpoint)`;

/** What the demo tracks with: one initialization, then one box and score per frame. */
/** Parses `WxH` (e.g. 640x480). */
function sizeOption(value: unknown): [number, number] {
  if (value === undefined) return [640, 480];
  const m = /^(\d+)[x×](\d+)$/.exec(String(value).trim());
  const w = Number(m?.[1]);
  const h = Number(m?.[2]);
  if (!m || w < 32 || h < 32 || w > 8192 || h > 8192) {
    throw new UsageError(
      `--size must be WxH with each side in 32..8192, e.g. 640x480; got '${String(value)}'`,
    );
  }
  return [w, h];
}

/** `spiketrack demo`: a synthetic sequence, tracked, with an annotated GIF and metrics. */
export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'track a generated synthetic sequence (no download); writes a GIF and metrics',
  help: HELP,
  options: {
    out: { type: 'string', default: 'spiketrack-demo' },
    seed: { type: 'string' },
    frames: { type: 'string' },
    size: { type: 'string' },
    'gif-scale': { type: 'string' },
    'save-frames': { type: 'boolean', default: false },
    tracker: { type: 'string' },
    checkpoint: { type: 'string' },
    ...BACKEND_OPTION,
    ...CONV_THREADS_OPTION,
  },
  async run(values, positionals, io) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const out = String(values.out);
    const seed = intOption(values, 'seed', 1, { min: 0, max: 2 ** 32 - 1 });
    const frames = intOption(values, 'frames', 120, { min: 2, max: 100_000 });
    const [width, height] = sizeOption(values.size);
    const gifScale = intOption(values, 'gif-scale', 2, { min: 1, max: Math.min(width, height) - 1 });

    const checkpoint = typeof values.checkpoint === 'string' ? values.checkpoint : undefined;
    const kind =
      values.tracker === undefined ? 'spiketrack' : oneOf(values, 'tracker', ['spiketrack', 'ncc'] as const);
    if (kind === 'ncc' && checkpoint !== undefined) {
      throw new UsageError('--checkpoint is for --tracker spiketrack; the NCC baseline has no weights');
    }
    const note =
      kind === 'ncc'
        ? BASELINE_NOTE
        : checkpoint === undefined
          ? BUNDLED_NOTE
          : `tracking with ${checkpoint}`;
    io.stderr.write(`spiketrack demo: ${note}.\n`);
    const backend =
      kind === 'spiketrack'
        ? await selectCliBackend(values.backend, io, parseThreads(values.threads, 'auto'))
        : null;
    const name = `demo-${seed}`;
    const seq = new SyntheticSequence({ seed, name, frames, width, height });
    const datasetDir = join(out, 'dataset');
    const resultsDir = join(out, 'results');
    await mkdir(datasetDir, { recursive: true });
    await mkdir(resultsDir, { recursive: true });

    if (kind === 'ncc' && values['conv-threads']) {
      io.stderr.write('--conv-threads: ignored, the NCC baseline runs no network\n');
    }
    const threads = backend ? await cliConvThreads(values, backend, io) : null;
    let tracker: FrameTracker;
    try {
      tracker =
        kind === 'ncc'
          ? nccFrameTracker()
          : spikingFrameTracker(await Tracker.create(checkpoint === undefined ? {} : { checkpoint }));
    } catch (e) {
      await threads?.off();
      throw e;
    }
    const scoreLabel = kind === 'ncc' ? 'NCC' : 'SCORE';
    const gif = new AnnotatedGif(width, height, { scale: gifScale, delay: 100 });
    const predicted: Box[] = [];
    const truth: Box[] = [];
    const absent: boolean[] = [];
    const cover: number[] = [];
    let trackMs = 0;
    const bar = io.interactive
      ? new ProgressBar(io.stderr, { total: frames, label: 'demo', interactive: true })
      : null;
    try {
      await writeSyntheticSequence(seq, datasetDir, {
        images: values['save-frames'] === true,
        onFrame: async (f) => {
          let box: Box;
          let score = 1;
          if (f.index === 0) {
            await tracker.initialize(f.image, f.box);
            box = f.box;
          } else {
            const t0 = performance.now();
            const r = await tracker.track(f.image);
            trackMs += performance.now() - t0;
            box = r.box;
            score = r.score;
          }
          predicted.push(box);
          truth.push(f.box);
          absent.push(f.absent);
          cover.push(f.cover);
          const fpsSoFar = f.index > 0 && trackMs > 0 ? (f.index * 1000) / trackMs : null;
          gif.addFrame(
            f.image,
            [
              { box: f.box, color: 'green' },
              { box, color: 'red' },
            ],
            [
              { text: `${f.index + 1} `, color: 'white' },
              { text: `IOU ${iou(box, f.box).toFixed(2)} `, color: 'yellow' },
              { text: `${scoreLabel} ${score.toFixed(2)} `, color: 'red' },
              ...(fpsSoFar === null ? [] : [{ text: `FPS ${fpsSoFar.toFixed(1)}`, color: 'cyan' as const }]),
            ],
          );
          bar?.tick();
        },
      });
    } finally {
      bar?.done();
      tracker.dispose();
      await threads?.off();
    }
    await writeFile(join(datasetDir, 'list.txt'), `${name}\n`);
    const resultsFile = join(resultsDir, `${name}.txt`);
    await writeFile(resultsFile, `${predicted.map(formatBoxLine).join('\n')}\n`);
    const gifFile = join(out, 'demo.gif');
    await writeFile(gifFile, gif.finish());

    const sequence: Sequence = {
      name,
      dataset: 'got10k',
      frames: Array.from({ length: frames }, (_, i) =>
        join(datasetDir, name, `${String(i + 1).padStart(8, '0')}.jpg`),
      ),
      groundTruth: truth,
      hasGroundTruth: true,
      absent,
      cover,
    };
    const { scores, curves } = evaluateSequence(predicted, sequence);
    const fps = trackMs > 0 ? ((frames - 1) * 1000) / trackMs : null;
    const summary = {
      tracker: kind,
      model: kind === 'ncc' ? null : (checkpoint ?? BUNDLED_MODEL.name),
      backend,
      convThreads: threads?.on ?? false,
      note,
      sequence: {
        name,
        seed,
        frames,
        width,
        height,
        generator: 'spiketrack synthetic (SyntheticSequence defaults)',
      },
      metrics: {
        mean_iou: scores.ao,
        success_auc: scores.success_auc,
        precision_20px: scores.precision,
        norm_precision: scores.norm_precision,
        sr50: scores.sr50,
        sr75: scores.sr75,
        success_curve: curves.success,
        conventions: 'pytracking (frame 1 set to the ground truth, IoU > threshold, 21 thresholds 0:0.05:1)',
      },
      speed: { tracker_fps: fps, tracker_ms_per_frame: fps ? 1000 / fps : null },
      files: { gif: gifFile, results: resultsFile, dataset: datasetDir },
    };
    const summaryFile = join(out, 'summary.json');
    await writeFile(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);

    const f3 = (v: number) => v.toFixed(3);
    io.stdout.write(
      [
        `tracker       ${kind === 'ncc' ? 'NCC baseline (no learning)' : `SpikeTrack, ${checkpoint ?? `bundled model ${BUNDLED_MODEL.name}`} (${backend})`}`,
        `sequence      ${name}: ${frames} frames, ${width}×${height}, seed ${seed}`,
        `mean IoU      ${f3(scores.ao)}`,
        `success AUC   ${f3(scores.success_auc)}`,
        `precision@20  ${f3(scores.precision)}`,
        `speed         ${fps === null ? 'n/a' : `${fps.toFixed(1)} fps`} (tracker only, ${width}×${height})`,
        `wrote         ${gifFile}, ${resultsFile}, ${summaryFile}, ${join(datasetDir, name)}/`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
