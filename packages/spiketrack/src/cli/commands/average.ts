import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { averageCheckpoints } from '../../checkpoint/average';
import { writeFileAtomic } from '../../node/write-file-atomic';
import { type CliCommand, UsageError } from '../command';
import { requireString } from '../options';

const HELP = `Usage: spiketrack average --out OUT.safetensors [--dtype f32|f16|bf16] IN1.safetensors IN2.safetensors …

Stochastic weight averaging: writes the element-wise mean of the weights of several checkpoints of
one network, e.g. the snapshots that spiketrack train --keep-every N keeps in <out>/snapshots/.
Averaging the weights along a run at a constant learning rate usually tracks better than any one
of them. Integer tensors (BatchNorm step counts) are the last file's. BatchNorm running statistics
are averaged too: exact when they did not train (--norm-stats running); otherwise recompute them.
An input that is itself an average (written by this command) counts as the checkpoints it
averages, so an average can be extended with later snapshots without keeping the earlier ones.

Options:
  --out FILE         the averaged checkpoint (safetensors; its metadata is the last input's plus
                     spiketrack.average.of, the inputs' steps)
  --dtype NAME       storage of the floats: f32 (default), f16 or bf16 (half the size; with f16 a
                     tensor beyond its range stays f32)
  -h, --help         this help

Exit codes: 0 success, 2 bad input (the message names the file and the tensor), 1 internal error.
`;

const DTYPES = { f32: 'F32', f16: 'F16', bf16: 'BF16' } as const;

/** `spiketrack average`: the mean of several checkpoints' weights (stochastic weight averaging). */
export const averageCommand: CliCommand = {
  name: 'average',
  summary: 'average the weights of checkpoints (stochastic weight averaging)',
  help: HELP,
  options: {
    out: { type: 'string' },
    dtype: { type: 'string', default: 'f32' },
  },
  async run(values, positionals, io) {
    const out = requireString(values, 'out');
    const dtype = DTYPES[String(values.dtype) as keyof typeof DTYPES];
    if (!dtype) throw new UsageError(`--dtype must be one of f32, f16, bf16; got '${String(values.dtype)}'`);
    if (positionals.length < 2) {
      throw new UsageError(`give at least two checkpoints to average (got ${positionals.length})`);
    }
    const notSafetensors = positionals.find((p) => !p.endsWith('.safetensors'));
    if (notSafetensors !== undefined) {
      throw new UsageError(
        `'${notSafetensors}': spiketrack average reads .safetensors files (as train writes)`,
      );
    }
    if (positionals.some((p) => resolve(p) === resolve(out))) {
      throw new UsageError(`--out ${out} is also an input (write the average to a new file)`);
    }
    const inputs = [];
    for (const source of positionals) {
      inputs.push({ source, bytes: new Uint8Array(await readFile(source)) });
    }
    const avg = averageCheckpoints(inputs, { floatDtype: dtype });
    await writeFileAtomic(out, avg.bytes);
    const steps = avg.steps.some((s) => s !== null)
      ? ` (steps ${avg.steps.map((s) => s ?? '?').join(', ')})`
      : '';
    if (avg.keptF32.length)
      io.stderr.write(`kept as f32 (beyond the f16 range): ${avg.keptF32.join(', ')}\n`);
    const stats = avg.changed.filter((n) => /running_(mean|var)$/.test(n));
    if (stats.length) {
      io.stderr.write(
        `note: ${stats.length} BatchNorm running statistics differ between the inputs (averaged; recompute them on data for the averaged weights)\n`,
      );
    }
    io.stdout.write(`${out}: the mean of ${avg.steps.length} checkpoints${steps}\n`);
    return 0;
  },
};
