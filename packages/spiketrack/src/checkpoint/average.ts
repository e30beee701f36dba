import {
  CheckpointError,
  decodeSafetensor,
  type EncodableTensor,
  encodeSafetensors,
  type ParsedSafetensors,
  parseSafetensors,
} from '@spiketrack/neurons';

/** One checkpoint to average: its safetensors bytes and a name for error messages. */
export interface CheckpointToAverage {
  bytes: Uint8Array;
  /** A file name or URL, quoted in every error message. */
  source: string;
}

/** Options of {@link averageCheckpoints}. */
export interface AverageCheckpointsOptions {
  /**
   * Storage of the averaged float tensors: `'F32'` (default), `'F16'` or `'BF16'`. With `'F16'`,
   * a tensor with a value beyond its range (±65504, e.g. a BatchNorm's running variance) stays F32.
   */
  floatDtype?: 'F32' | 'F16' | 'BF16';
}

/** The result of {@link averageCheckpoints}. */
export interface AveragedCheckpoint {
  /** The averaged checkpoint, safetensors bytes. */
  bytes: Uint8Array;
  /**
   * The training steps of the checkpoints averaged (`spiketrack.trainer.step`; `null` where a file
   * has none); an input that is itself an average contributes its own list.
   */
  steps: (number | null)[];
  /** Float tensors whose values differ between the inputs, e.g. BatchNorm running statistics. */
  changed: string[];
  /** Float tensors kept as F32 because F16 cannot hold their values. */
  keptF32: string[];
}

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);
const F16_MAX = 65504;

/**
 * Stochastic weight averaging (Izmailov et al., 2018) of checkpoints of one network, e.g. the
 * snapshots `spiketrack train --keep-every N` keeps: every float tensor becomes the element-wise
 * mean of the inputs' (accumulated in float64); integer tensors (`num_batches_tracked`) are the
 * last input's. Every input must hold the same tensor names and shapes. BatchNorm running
 * statistics are averaged like the weights: with fixed statistics (`--norm-stats running`) that
 * is the value itself; if they trained, recompute them for the averaged weights on data (as torch's
 * `swa_utils.update_bn` does): the mean of statistics is not the statistics of the mean weights.
 * The output's metadata is the last input's plus `spiketrack.average.of` (the steps averaged).
 *
 * An input that is itself such an average (its metadata has `spiketrack.average.of`) counts as
 * the checkpoints it averages, so an average can be extended with later snapshots without
 * keeping the earlier ones: mean(mean(a, b, c), d) is mean(a, b, c, d), up to the rounding of the
 * stored average.
 * Bad input is a {@link CheckpointError} naming the file and the tensor.
 */
export function averageCheckpoints(
  inputs: readonly CheckpointToAverage[],
  opts: AverageCheckpointsOptions = {},
): AveragedCheckpoint {
  if (inputs.length < 1) throw new CheckpointError('averageCheckpoints: no checkpoint given');
  const parsed: { source: string; file: ParsedSafetensors }[] = inputs.map(({ bytes, source }) => ({
    source,
    file: parseSafetensors(bytes, { source }),
  }));
  // each input's checkpoints: its own step, or the list of an average it holds
  const members = parsed.map(({ file }) => {
    const of = file.metadata['spiketrack.average.of'];
    const list = of === undefined ? [file.metadata['spiketrack.trainer.step']] : of.split(',');
    return list.map((x) => (x !== undefined && /^\d+$/.test(x) ? Number(x) : null));
  });
  const weights = members.map((m) => m.length);
  const total = weights.reduce((a, b) => a + b, 0);
  const first = parsed[0]!;
  const last = parsed[parsed.length - 1]!;
  for (const { source, file } of parsed) {
    for (const name of file.tensors.keys()) {
      if (!first.file.tensors.has(name)) {
        throw new CheckpointError(`safetensors '${source}': tensor '${name}' is not in '${first.source}'`);
      }
    }
  }
  const floatDtype = opts.floatDtype ?? 'F32';
  const out = new Map<string, EncodableTensor>();
  const changed: string[] = [];
  const keptF32: string[] = [];
  for (const [name, entry] of first.file.tensors) {
    const entries = parsed.map(({ source, file }) => {
      const e = file.tensors.get(name);
      if (!e)
        throw new CheckpointError(
          `safetensors '${source}': no tensor '${name}' (it is in '${first.source}')`,
        );
      if (e.shape.join(',') !== entry.shape.join(',')) {
        throw new CheckpointError(
          `safetensors '${source}': tensor '${name}' has shape [${e.shape.join(', ')}], expected [${entry.shape.join(', ')}] as in '${first.source}'`,
        );
      }
      if (FLOAT_DTYPES.has(e.dtype) !== FLOAT_DTYPES.has(entry.dtype)) {
        throw new CheckpointError(
          `safetensors '${source}': tensor '${name}' is ${e.dtype}, but ${entry.dtype} in '${first.source}'`,
        );
      }
      return { source, e };
    });
    if (!FLOAT_DTYPES.has(entry.dtype)) {
      const { e, source } = entries[entries.length - 1]!;
      out.set(name, { dtype: e.dtype, shape: e.shape, values: decodeSafetensor(e, { source, name }).values });
      continue;
    }
    const sum = new Float64Array(entry.shape.reduce((a, b) => a * b, 1));
    let reference: Float32Array | undefined;
    let differs = false;
    for (const [k, { e, source }] of entries.entries()) {
      const values = decodeSafetensor(e, { source, name }).values as Float32Array;
      const w = weights[k]!;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (!Number.isFinite(v)) {
          throw new CheckpointError(`safetensors '${source}': tensor '${name}' holds ${v} at index ${i}`);
        }
        sum[i]! += w * v;
        if (reference && !differs && v !== reference[i]) differs = true;
      }
      reference ??= values;
    }
    if (differs) changed.push(name);
    const mean = Float32Array.from(sum, (s) => s / total);
    let dtype: 'F32' | 'F16' | 'BF16' = floatDtype;
    if (dtype === 'F16' && mean.some((v) => Math.abs(v) > F16_MAX)) {
      dtype = 'F32';
      keptF32.push(name);
    }
    out.set(name, { dtype, shape: entry.shape, values: mean });
  }
  const steps = members.flat();
  const metadata = {
    ...last.file.metadata,
    'spiketrack.average.of': steps.map((s) => (s === null ? '?' : String(s))).join(','),
  };
  return { bytes: encodeSafetensors(out, { metadata }), steps, changed, keptF32 };
}
