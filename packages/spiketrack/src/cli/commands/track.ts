import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SPIKETRACK_CONFIG_NAMES, type SpikeTrackConfigName } from '../../config/index';
import { drawBox } from '../../frames/draw-box';
import type { RgbImage } from '../../frames/rgb-image';
import { GifWriter } from '../../node/gif-writer';
import { openFrameSource } from '../../node/frame-source';
import { writePngFile } from '../../node/image-file';
import type { Box } from '../../tracker/box';
import { TRACKER_PRESETS, type TrackerPreset } from '../../tracker/params';
import { Tracker, type TrackTimings } from '../../tracker/tracker';
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
import { oneOf, requireString } from '../options';
import { ProgressBar } from '../progress';

const HELP = `Usage: spiketrack track --input VIDEO|FRAMES_DIR --box x,y,w,h [--checkpoint FILE] [options]

Tracks one target through a video (decoded by ffmpeg, frame by frame) or a folder of JPEG/PNG
frames (sorted by name, numbers by value), from its box on the first frame.

Writes into --out:
  boxes.txt          one box per frame, x,y,w,h (pixels, comma separated); line 1 is --box
  timings.json       per frame: frame, crop, preprocess, network, postprocess, templateUpdate,
                     total (ms); the initialization time and a summary (means, fps); the
                     backend and whether --conv-threads was in effect
  frames/NNNNNN.png  each frame with the box drawn (--annotate png), or
  track.gif          an animated GIF of them (--annotate gif)

Options:
  --input PATH           a video file (needs ffmpeg) or a folder of frames
  --box x,y,w,h          the target on the first frame, in pixels (top-left corner, size)
  --checkpoint FILE      an official .pth.tar / .pth checkpoint or a .safetensors file (default:
                         the bundled model, trained on synthetic sequences only; on real video
                         use an official checkpoint)
  --config NAME|auto     ${SPIKETRACK_CONFIG_NAMES.join(', ')}, or auto (default: from the file)
  --non-strict           load even if the checkpoint's keys differ (as the official tracker)
  --preset NAME          template updates: default (every 25 frames above 0.7) or lasot (40, 0.8)
  --out DIR              the output folder (default ./spiketrack-track)
  --annotate png|gif|none  annotated output (default png)
  --max-frames N         stop after N frames (the first included)
${BACKEND_HELP}
${CONV_THREADS_HELP}
  -h, --help             this help

Exit codes: 0 success, 2 bad input (options, files, box, frames, missing ffmpeg), 1 internal error.
`;

/** Parses `x,y,w,h` (four finite numbers, w and h > 0). */
export function parseBoxOption(value: unknown): Box {
  const parts = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : [];
  const nums = parts.map(Number);
  if (parts.length !== 4 || parts.some((s) => s === '') || !nums.every(Number.isFinite)) {
    throw new UsageError(`--box must be x,y,w,h (four numbers), got '${String(value ?? '')}'`);
  }
  if (!((nums[2] as number) > 0 && (nums[3] as number) > 0)) {
    throw new UsageError(`--box: width and height must be positive, got '${String(value)}'`);
  }
  return nums as unknown as Box;
}

/** A box as a line of boxes.txt. */
function boxLine(b: Box): string {
  return b.map((v) => String(Number(v.toFixed(4)))).join(',');
}

/** The per-frame timing fields of timings.json, in order. */
export const TIMING_KEYS = [
  'frame',
  'crop',
  'preprocess',
  'network',
  'postprocess',
  'templateUpdate',
  'total',
] as const;

/** `spiketrack track`: a video or frames folder in, boxes, timings and annotated frames out. */
export const trackCommand: CliCommand = {
  name: 'track',
  summary: 'track a target through a video or a folder of frames',
  help: HELP,
  options: {
    input: { type: 'string' },
    box: { type: 'string' },
    checkpoint: { type: 'string' },
    config: { type: 'string', default: 'auto' },
    'non-strict': { type: 'boolean', default: false },
    preset: { type: 'string', default: 'default' },
    out: { type: 'string', default: 'spiketrack-track' },
    annotate: { type: 'string', default: 'png' },
    'max-frames': { type: 'string' },
    ...BACKEND_OPTION,
    ...CONV_THREADS_OPTION,
  },
  async run(values, positionals, io) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const input = requireString(values, 'input');
    const box = parseBoxOption(requireString(values, 'box'));
    const preset = oneOf(values, 'preset', Object.keys(TRACKER_PRESETS));
    const annotate = oneOf(values, 'annotate', ['png', 'gif', 'none'] as const);
    const configName = oneOf(values, 'config', [...SPIKETRACK_CONFIG_NAMES, 'auto'] as const);
    let maxFrames = Number.POSITIVE_INFINITY;
    if (values['max-frames'] !== undefined) {
      maxFrames = Number(values['max-frames']);
      if (!Number.isInteger(maxFrames) || maxFrames < 1) {
        throw new UsageError(
          `--max-frames must be a positive integer, got '${String(values['max-frames'])}'`,
        );
      }
    }
    const checkpoint = typeof values.checkpoint === 'string' ? values.checkpoint : undefined;
    const outDir = String(values.out);

    const source = await openFrameSource(input);
    let tracker: Tracker | null = null;
    let boxes: Awaited<ReturnType<typeof open>> | null = null;
    let threads: Awaited<ReturnType<typeof cliConvThreads>> | null = null;
    try {
      const backend = await selectCliBackend(values.backend, io, parseThreads(values.threads, 'auto'));
      threads = await cliConvThreads(values, backend, io);
      tracker = await Tracker.create({
        ...(checkpoint === undefined ? {} : { checkpoint }),
        ...(configName === 'auto' ? {} : { config: configName as SpikeTrackConfigName }),
        strict: !values['non-strict'],
        preset: preset as TrackerPreset,
      });
      const { config } = tracker.model;
      io.stderr.write(
        `model: ${config.name ?? 'custom'} (R = ${config.resolution}, T = ${config.templates}); input: ${source.kind}${
          source.frameCount === null ? '' : `, ${source.frameCount} frames`
        }\n`,
      );
      await mkdir(outDir, { recursive: true });
      if (annotate === 'png') await mkdir(join(outDir, 'frames'), { recursive: true });
      boxes = await open(join(outDir, 'boxes.txt'), 'w');
      const gif = annotate === 'gif' ? new GifWriter(source.fps ? Math.round(1000 / source.fps) : 40) : null;
      const annotated = async (image: RgbImage, b: Box, index: number) => {
        if (annotate === 'none') return;
        const drawn = drawBox(image, b);
        if (gif) gif.add(drawn);
        else await writePngFile(join(outDir, 'frames', `${String(index).padStart(6, '0')}.png`), drawn);
      };
      const total = source.frameCount === null ? null : Math.min(source.frameCount, maxFrames);
      const bar = new ProgressBar(io.stderr, { total, label: 'track', interactive: io.interactive });
      const perFrame: (TrackTimings & { index: number; score: number; updated: boolean })[] = [];
      let initMs = 0;
      let index = 0;
      const t0 = performance.now();
      for await (const image of source.frames()) {
        if (index >= maxFrames) break;
        if (index === 0) {
          const s = performance.now();
          await tracker.initialize(image, box);
          initMs = performance.now() - s;
          await boxes.write(`${boxLine(box)}\n`);
          await annotated(image, box, 0);
        } else {
          const r = await tracker.track(image);
          perFrame.push({ index, score: r.score, updated: r.updated, ...r.timings });
          await boxes.write(`${boxLine(r.box)}\n`);
          await annotated(image, r.box, index);
        }
        index++;
        bar.tick();
      }
      bar.done();
      if (index === 0) throw new UsageError(`${input}: no frames`);
      const wallMs = performance.now() - t0;
      if (gif) await gif.save(join(outDir, 'track.gif'));
      const mean = Object.fromEntries(
        TIMING_KEYS.map((k) => [
          k,
          perFrame.length ? perFrame.reduce((a, f) => a + f[k], 0) / perFrame.length : 0,
        ]),
      );
      const trackFps = mean.total ? 1000 / (mean.total as number) : null;
      await writeFile(
        join(outDir, 'timings.json'),
        `${JSON.stringify(
          {
            backend,
            convThreads: threads.on,
            model: config.name ?? 'custom',
            input,
            frames: index,
            initializeMs: initMs,
            summary: { meanMs: mean, trackerFps: trackFps, wallMs },
            perFrame,
          },
          null,
          1,
        )}\n`,
      );
      io.stderr.write(
        `tracked ${index} frame(s)${trackFps === null ? '' : ` at ${trackFps.toFixed(2)} fps (tracker only)`}; wrote ${join(
          outDir,
          'boxes.txt',
        )}, ${join(outDir, 'timings.json')}${
          annotate === 'png'
            ? `, ${join(outDir, 'frames')}/`
            : annotate === 'gif'
              ? `, ${join(outDir, 'track.gif')}`
              : ''
        }\n`,
      );
      return 0;
    } finally {
      await boxes?.close();
      source.close();
      tracker?.dispose();
      await threads?.off();
    }
  },
};
