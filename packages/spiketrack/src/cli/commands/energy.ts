import { MEMORY_MODELS, type MemoryName, PROCESS_MODELS, type ProcessName } from '@spiketrack/energy';
import { readTensorFile } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SPIKETRACK_CONFIG_NAMES, type SpikeTrackConfigName } from '../../config/index';
import {
  formatTrackerEnergy,
  formatTrackerEnergyMarkdown,
  type TrackerEnergyOptions,
  type TrackerEnergyReport,
  TrackerOpCounter,
  trackerEnergy,
  trackerEnergySvg,
} from '../../energy/index';
import { parseBoxes } from '../../eval/ground-truth';
import { DatasetError } from '../../eval/types';
import { FrameError } from '../../frames/frame-error';
import { SpikeTrackModel } from '../../model/index';
import { listFrameFiles } from '../../node/frames-dir';
import { readImageFile } from '../../node/image-file';
import { Tracker } from '../../tracker/tracker';
import { TrackerError } from '../../tracker/tracker-logic';
import { BACKEND_HELP, BACKEND_OPTION, parseThreads, selectCliBackend } from '../backend';
import { type CliCommand, UsageError } from '../command';
import { intOption, numberOption, oneOf, optionalString } from '../options';
import { INPUT_IMAGES_HELP, inputImages } from '../input-images';

const PROCESSES = Object.keys(PROCESS_MODELS) as ProcessName[];
const MEMORIES = Object.keys(MEMORY_MODELS) as MemoryName[];

const HELP = `Usage: spiketrack energy (--checkpoint FILE | --config NAME) [--input IN.safetensors | --sequence DIR] [options]

Counts the tracker's operations on real forward passes and prints its energy per frame: the
search path (backbone on the search crop, six memory retrieval modules, head) plus one rebuild of
the template cache (backbone on the T templates) divided by the update interval. A table per
branch lists every layer (path, kind, input, dense MACs, MACs, ACs, input firing rate, energy);
then the totals per frame. Both conventions are reported: exact (ACs from the actual spikes) and
paper (dense MACs × mean input spike count, as SpikeTrack, SDT-V3 and SpikeYOLO).

${INPUT_IMAGES_HELP}
With --sequence DIR (a GOT-10k-style folder: frames as .jpg/.png in name order and
groundtruth.txt, whose first line x,y,w,h is the initial box) the tracker runs over the frames
(sample_target crops, template updates as the official tracker); ACs and energies are averaged
per frame and firing rates over all frames, as the reference's get_avg_sfr.py.
Without --input or --sequence the frames are random images: dense MAC counts are exact, but firing rates, ACs
and energies need real weights and real frames.

Options:
  --checkpoint FILE      an official .pth.tar / .pth checkpoint or a .safetensors file
  --config NAME          ${SPIKETRACK_CONFIG_NAMES.join(', ')}; alone: random weights
                         (only the dense counts are meaningful); with --checkpoint: the config
                         to load it as (default: from the file)
  --non-strict           load a checkpoint even if some keys are missing or extra
  --input FILE           the templates and the search crop (see above)
  --sequence DIR         a sequence folder to track through (see above)
  --frames N             with --sequence: only the first N frames (default all)
  --interval N           frames between two rebuilds of the template cache (default 25)
  --process NAME         ${PROCESSES.join(', ')} (default 45nm-fp32; Horowitz, ISSCC 2014)
  --memory NAME          add the memory-access term (off by default, reported apart):
                         ${MEMORIES.join(', ')}
  --json                 print the report as JSON instead of tables (search.dense_macs,
                         template.dense_macs, first_layer.dense_macs, per_frame, layers, …)
  --markdown FILE        also write the report as Markdown
  --svg FILE             also write a bar chart of the energy per stage and frame (SVG)
  --seed N               seed of the random weights and images (default 1)
${BACKEND_HELP}
  -h, --help             this help
`;

/**
 * Tracks through a GOT-10k-style folder (frames + groundtruth.txt) with the {@link Tracker} on
 * `model`, counting every template rebuild and frame, and reports the energy per frame.
 */
async function sequenceEnergy(
  model: SpikeTrackModel,
  dir: string,
  maxFrames: number,
  opts: TrackerEnergyOptions & { notes: string[] },
  log: NodeJS.WritableStream,
): Promise<TrackerEnergyReport> {
  let files: string[];
  let box: readonly [number, number, number, number];
  try {
    files = (await listFrameFiles(dir)).slice(0, maxFrames);
    const gtFile = join(dir, 'groundtruth.txt');
    const first = parseBoxes(await readFile(gtFile, 'utf8'), gtFile)[0];
    if (!first || !first.every(Number.isFinite)) {
      throw new UsageError(`${gtFile}: the first line must be the initial box x, y, w, h`);
    }
    box = first as unknown as readonly [number, number, number, number];
  } catch (e) {
    if (e instanceof DatasetError || e instanceof FrameError) throw new UsageError(e.message);
    throw e;
  }
  if (files.length < 2)
    throw new UsageError(`${dir}: a sequence needs at least 2 frames, got ${files.length}`);
  const tracker = await Tracker.create({ model });
  const meter = new TrackerOpCounter(model).instrument();
  try {
    for (const [i, file] of files.entries()) {
      const image = await readImageFile(file);
      if (i === 0) await tracker.initialize(image, box);
      else await tracker.track(image);
    }
    const { rebuilds, frames } = meter.counts;
    log.write(`tracked ${frames} frame(s) after the initial one; ${rebuilds} template rebuild(s)\n`);
    return await meter.report({
      ...opts,
      notes: [
        ...opts.notes,
        `sequence ${dir}: ${frames} tracked frame(s) averaged, ${rebuilds} template rebuild(s) measured (the tracker updates every ${tracker.params.updateInterval} frames when confident)`,
      ],
    });
  } catch (e) {
    if (e instanceof FrameError || e instanceof TrackerError) throw new UsageError(e.message);
    throw e;
  } finally {
    meter.dispose();
    tracker.dispose();
  }
}

/** `spiketrack energy`: the tracker's energy per frame, per layer and per stage. */
export const energyCommand: CliCommand = {
  name: 'energy',
  summary: 'energy per frame of the tracker (dense MACs, ACs, firing rates, pJ), per layer',
  help: HELP,
  options: {
    checkpoint: { type: 'string' },
    config: { type: 'string' },
    'non-strict': { type: 'boolean', default: false },
    input: { type: 'string' },
    sequence: { type: 'string' },
    frames: { type: 'string' },
    interval: { type: 'string' },
    process: { type: 'string', default: '45nm-fp32' },
    json: { type: 'boolean', default: false },
    memory: { type: 'string' },
    markdown: { type: 'string' },
    svg: { type: 'string' },
    seed: { type: 'string' },
    ...BACKEND_OPTION,
  },
  async run(values, positionals, io) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const checkpoint = optionalString(values, 'checkpoint');
    const configName = optionalString(values, 'config');
    const inputFile = optionalString(values, 'input');
    const sequenceDir = optionalString(values, 'sequence');
    if (inputFile !== null && sequenceDir !== null) {
      throw new UsageError('give --input or --sequence, not both');
    }
    const markdownFile = optionalString(values, 'markdown');
    const svgFile = optionalString(values, 'svg');
    if (checkpoint === null && configName === null) {
      throw new UsageError('give --checkpoint FILE or --config NAME (random weights)');
    }
    if (configName !== null) oneOf(values, 'config', SPIKETRACK_CONFIG_NAMES);
    const process = oneOf(values, 'process', PROCESSES);
    const interval = numberOption(values, 'interval', 25, { min: 1 });
    const memory = optionalString(values, 'memory') === null ? null : oneOf(values, 'memory', MEMORIES);
    const costs = {
      interval,
      process: process as ProcessName,
      ...(memory === null ? {} : { memory: memory as MemoryName }),
    };
    const seed = intOption(values, 'seed', 1, { min: 0 });
    const maxFrames = intOption(values, 'frames', Number.POSITIVE_INFINITY, { min: 2 });
    if (values.frames !== undefined && sequenceDir === null)
      throw new UsageError('--frames needs --sequence');
    await selectCliBackend(values.backend, io, parseThreads(values.threads, 'auto'));

    const config = configName as SpikeTrackConfigName | null;
    const model =
      checkpoint === null
        ? new SpikeTrackModel({ config: config!, seed })
        : await SpikeTrackModel.fromCheckpoint(checkpoint, {
            ...(config ? { config } : {}),
            strict: !values['non-strict'],
          });
    model.eval();
    const load = model.loadReport;
    if (load && (load.missing.length || load.unexpected.length)) {
      io.stderr.write(
        `${checkpoint}: not loaded: ${load.unexpected.length} unexpected key(s), ${load.missing.length} missing key(s)\n`,
      );
    }
    const notes: string[] = [];
    if (checkpoint === null) {
      notes.push(
        `random weights (--config ${configName}, seed ${seed}): only the dense MAC counts are meaningful; firing rates, ACs and energies need real weights and real frames (--checkpoint, --input)`,
      );
    }
    const owned: tf.Tensor[] = [];
    let fileTensors: Map<string, tf.Tensor> | null = null;
    try {
      const { resolution: r, templates: t, name } = model.config;
      io.stderr.write(`model: ${name ?? 'custom'} (R = ${r}, T = ${t})\n`);
      let report: TrackerEnergyReport;
      if (sequenceDir !== null) {
        report = await sequenceEnergy(model, sequenceDir, maxFrames, { ...costs, notes }, io.stderr);
      } else {
        let images: { templates: tf.Tensor[]; search: tf.Tensor };
        if (inputFile !== null) {
          fileTensors = (await readTensorFile(inputFile)).tensors;
          images = await inputImages(fileTensors, inputFile, t, r);
        } else {
          images = tf.tidy(() => ({
            templates: Array.from({ length: t }, (_, i) =>
              tf.randomNormal([1, r, r, 3], 0, 1, 'float32', seed + i),
            ),
            search: tf.randomNormal([1, r, r, 3], 0, 1, 'float32', seed + t),
          }));
          if (checkpoint !== null) {
            notes.push('no --input: random images; firing rates, ACs and energies need real frames');
          }
        }
        owned.push(...images.templates, images.search);
        report = await trackerEnergy(model, {
          templates: images.templates,
          search: images.search,
          ...costs,
          notes,
        });
      }
      io.stdout.write(values.json ? `${JSON.stringify(report, null, 1)}\n` : formatTrackerEnergy(report));
      if (markdownFile !== null) {
        await writeFile(markdownFile, formatTrackerEnergyMarkdown(report));
        io.stderr.write(`wrote ${markdownFile}\n`);
      }
      if (svgFile !== null) {
        await writeFile(svgFile, trackerEnergySvg(report));
        io.stderr.write(`wrote ${svgFile}\n`);
      }
      for (const n of notes) io.stderr.write(`note: ${n}\n`);
      return 0;
    } finally {
      tf.dispose(owned);
      for (const x of fileTensors?.values() ?? []) x.dispose();
      model.dispose();
    }
  },
};
