import { PROCESS_MODELS, type ProcessName } from '@spiketrack/energy';
import { readTensorFile } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { SPIKETRACK_CONFIG_NAMES, type SpikeTrackConfigName } from '../../config/index';
import {
  formatTrackerEnergy,
  formatTrackerEnergyMarkdown,
  trackerEnergy,
  trackerEnergySvg,
} from '../../energy/index';
import { SpikeTrackModel } from '../../model/index';
import { BACKEND_HELP, BACKEND_OPTION, selectCliBackend } from '../backend';
import { type CliCommand, type CliValues, UsageError } from '../command';
import { INPUT_IMAGES_HELP, inputImages } from '../input-images';

const PROCESSES = Object.keys(PROCESS_MODELS) as ProcessName[];

const HELP = `Usage: spiketrack energy (--checkpoint FILE | --config NAME) [--input IN.safetensors] [options]

Counts the tracker's operations on real forward passes and prints its energy per frame: the
search path (backbone on the search crop, six memory retrieval modules, head) plus one rebuild of
the template cache (backbone on the T templates) divided by the update interval. A table per
branch lists every layer (path, kind, input, dense MACs, MACs, ACs, input firing rate, energy);
then the totals per frame. Both conventions are reported: exact (ACs from the actual spikes) and
paper (dense MACs × mean input spike count, as SpikeTrack, SDT-V3 and SpikeYOLO).

${INPUT_IMAGES_HELP}
Without --input the frames are random images: dense MAC counts are exact, but firing rates, ACs
and energies need real weights and real frames.

Options:
  --checkpoint FILE      an official .pth.tar / .pth checkpoint or a .safetensors file
  --config NAME          ${SPIKETRACK_CONFIG_NAMES.join(', ')}; alone: random weights
                         (only the dense counts are meaningful); with --checkpoint: the config
                         to load it as (default: from the file)
  --non-strict           load a checkpoint even if some keys are missing or extra
  --input FILE           the templates and the search crop (see above)
  --interval N           frames between two rebuilds of the template cache (default 25)
  --process NAME         ${PROCESSES.join(', ')} (default 45nm-fp32; Horowitz, ISSCC 2014)
  --json                 print the report as JSON instead of tables (search.dense_macs,
                         template.dense_macs, first_layer.dense_macs, per_frame, layers, …)
  --markdown FILE        also write the report as Markdown
  --svg FILE             also write a bar chart of the energy per stage and frame (SVG)
  --seed N               seed of the random weights and images (default 1)
${BACKEND_HELP}
  -h, --help             this help
`;

function optionalString(values: CliValues, name: string): string | null {
  const v = values[name];
  if (v === undefined) return null;
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} needs a value`);
  return v;
}

function numberOption(
  values: CliValues,
  name: string,
  fallback: number,
  min: number,
  integer: boolean,
): number {
  const raw = optionalString(values, name);
  if (raw === null) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got '${raw}'`);
  }
  return v;
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
    interval: { type: 'string' },
    process: { type: 'string', default: '45nm-fp32' },
    json: { type: 'boolean', default: false },
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
    const markdownFile = optionalString(values, 'markdown');
    const svgFile = optionalString(values, 'svg');
    if (checkpoint === null && configName === null) {
      throw new UsageError('give --checkpoint FILE or --config NAME (random weights)');
    }
    if (configName !== null && !(SPIKETRACK_CONFIG_NAMES as readonly string[]).includes(configName)) {
      throw new UsageError(
        `--config must be one of ${SPIKETRACK_CONFIG_NAMES.join(', ')}; got '${configName}'`,
      );
    }
    const process = String(values.process);
    if (!(PROCESSES as string[]).includes(process)) {
      throw new UsageError(`--process must be one of ${PROCESSES.join(', ')}; got '${process}'`);
    }
    const interval = numberOption(values, 'interval', 25, 1, false);
    const seed = numberOption(values, 'seed', 1, 0, true);
    await selectCliBackend(values.backend, io);

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
      const report = await trackerEnergy(model, {
        templates: images.templates,
        search: images.search,
        interval,
        process: process as ProcessName,
        notes,
      });
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
