import { FiringRateMonitor } from '@spiketrack/neurons';
import { readTensorFile, writeSafetensorsFile } from '@spiketrack/neurons/node';
import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { SPIKETRACK_CONFIG_NAMES } from '../../config/index';
import { SpikeTrackModel } from '../../model/index';
import { BACKEND_HELP, BACKEND_OPTION, parseThreads, selectCliBackend } from '../backend';
import { type CliCommand, UsageError } from '../command';
import { oneOf, requireString } from '../options';
import { INPUT_IMAGES_HELP, inputImages } from '../input-images';

const HELP = `Usage: spiketrack forward --checkpoint FILE --input IN.safetensors --output OUT.safetensors [options]

Runs the SpikeTrack network once on the templates and the search image of IN and writes the head's
outputs, in the reference's PyTorch layouts, to OUT.

${INPUT_IMAGES_HELP}
Output (safetensors): score_map [1,1,F,F], size_map [1,2,F,F], offset_map [1,2,F,F],
pred_boxes [1,1,4] (cx, cy, w, h as fractions of the crop), encoder_out [1,1,C,F,F]; F = R/16.

Options:
  --checkpoint FILE      an official .pth.tar / .pth checkpoint or a .safetensors file
  --config NAME|auto     ${SPIKETRACK_CONFIG_NAMES.join(', ')}, or auto (default: from the file)
  --non-strict           load even if the checkpoint has keys the config lacks or lacks some
                         (as the official tracker does); the ignored keys are listed on stderr
  --input FILE           the input tensors (see above)
  --output FILE          where to write the outputs
  --firing-rates FILE    also write every neuron's firing rate as JSON:
                         { "<module path>": { "per_step": [...], "mean": m } }
  --path forward|cached  forward: model.forward(templates, search) (default);
                         cached: encodeTemplates → trackFrame (the tracker's fast path)
${BACKEND_HELP}
  -h, --help             this help
`;

/** `[B, H, W, C]` → `[B, C, H, W]`; `[T, B, H, W, C]` → `[T, B, C, H, W]`. */
function toTorchLayout(x: tf.Tensor): tf.Tensor {
  if (x.rank === 4) return tf.transpose(x, [0, 3, 1, 2]);
  if (x.rank === 5) return tf.transpose(x, [0, 1, 4, 2, 3]);
  return tf.clone(x);
}

/** `spiketrack forward`: one network pass from a tensors file to a tensors file (parity runs). */
export const forwardCommand: CliCommand = {
  name: 'forward',
  summary: 'run the network once on tensors from a file (reference parity)',
  help: HELP,
  options: {
    checkpoint: { type: 'string' },
    config: { type: 'string', default: 'auto' },
    'non-strict': { type: 'boolean', default: false },
    input: { type: 'string' },
    output: { type: 'string' },
    'firing-rates': { type: 'string' },
    path: { type: 'string', default: 'forward' },
    ...BACKEND_OPTION,
  },
  async run(values, positionals, io) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const checkpoint = requireString(values, 'checkpoint');
    const inputFile = requireString(values, 'input');
    const outputFile = requireString(values, 'output');
    const ratesFile = values['firing-rates'];
    const path = oneOf(values, 'path', ['forward', 'cached'] as const);
    const configName = oneOf(values, 'config', [...SPIKETRACK_CONFIG_NAMES, 'auto'] as const);
    await selectCliBackend(values.backend, io, parseThreads(values.threads, 'auto'));

    const model = await SpikeTrackModel.fromCheckpoint(checkpoint, {
      ...(configName === 'auto' ? {} : { config: configName as (typeof SPIKETRACK_CONFIG_NAMES)[number] }),
      strict: !values['non-strict'],
    });
    const report = model.loadReport;
    if (report && (report.missing.length || report.unexpected.length)) {
      io.stderr.write(
        `${checkpoint}: not loaded: ${report.unexpected.length} unexpected key(s)${
          report.unexpected.length
            ? ` (${report.unexpected.slice(0, 3).join(', ')}${report.unexpected.length > 3 ? ', …' : ''})`
            : ''
        }, ${report.missing.length} missing key(s)${report.missing.length ? ` (${report.missing.slice(0, 3).join(', ')}…)` : ''}\n`,
      );
    }
    const input = await readTensorFile(inputFile);
    let images: { templates: tf.Tensor[]; search: tf.Tensor } | null = null;
    let monitor: FiringRateMonitor | null = null;
    let encoderOut: tf.Tensor | null = null;
    const outputs: tf.Tensor[] = [];
    const removeHook = model.decoder.onForward((_m, inputs) => {
      encoderOut?.dispose();
      encoderOut = tf.keep(tf.clone(inputs[0] as tf.Tensor));
    });
    try {
      const { resolution, templates, name } = model.config;
      io.stderr.write(`model: ${name} (R = ${resolution}, T = ${templates})\n`);
      images = await inputImages(input.tensors, inputFile, templates, resolution);
      if (typeof ratesFile === 'string') monitor = new FiringRateMonitor(model);
      const imgs = images;
      const out =
        path === 'forward'
          ? model.apply(imgs.templates, imgs.search)
          : (() => {
              const cache = model.encodeTemplates(imgs.templates);
              try {
                return model.trackFrame(imgs.search, cache);
              } finally {
                cache.dispose();
              }
            })();
      outputs.push(out.scoreMap, out.sizeMap, out.offsetMap, out.predBoxes);
      const torch = tf.tidy(() => ({
        score_map: toTorchLayout(out.scoreMap),
        size_map: toTorchLayout(out.sizeMap),
        offset_map: toTorchLayout(out.offsetMap),
        pred_boxes: tf.reshape(out.predBoxes, [out.predBoxes.shape[0], 1, 4]),
        encoder_out: toTorchLayout(encoderOut!),
      }));
      outputs.push(...Object.values(torch));
      await writeSafetensorsFile(outputFile, torch, {
        metadata: { producer: 'spiketrack forward', config: name ?? 'custom', checkpoint },
      });
      io.stderr.write(`wrote ${outputFile}\n`);
      if (monitor && typeof ratesFile === 'string') {
        const rates = await monitor.report();
        const json: Record<string, { per_step: number[]; mean: number }> = {};
        for (const [k, v] of Object.entries(rates)) {
          if (v.calls > 0) json[k] = { per_step: v.per_step, mean: v.mean };
        }
        await writeFile(ratesFile, `${JSON.stringify(json, null, 1)}\n`);
        io.stderr.write(`wrote ${ratesFile} (${Object.keys(json).length} neuron layers)\n`);
      }
      return 0;
    } finally {
      removeHook();
      monitor?.detach();
      tf.dispose([...outputs, ...(images ? [...images.templates, images.search] : [])]);
      if (encoderOut) (encoderOut as tf.Tensor).dispose();
      for (const t of input.tensors.values()) t.dispose();
      model.dispose();
    }
  },
};
