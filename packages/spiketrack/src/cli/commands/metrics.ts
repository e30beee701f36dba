import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type Dataset,
  DatasetError,
  type Evaluation,
  type Scores,
  type SequenceResult,
  type TrackerEvaluation,
  evaluate,
  normPrecisionPlot,
  packGot10kResults,
  packTrackingNetResults,
  precisionPlot,
  successPlot,
} from '../../eval/index';
import { readResults } from '../../node/eval-files';
import { type CliCommand, type CliIO, UsageError } from '../command';
import { BENCHMARK_FORMATS, defaultSyntheticSuiteDir, openBenchmark } from '../eval/benchmark-dataset';
import { oneOf, requireString } from '../options';

const HELP = `Usage: spiketrack metrics --format FORMAT --dataset DIR --results DIR [options]

Scores a tracker's results on a benchmark with the conventions of the published numbers
(pytracking's: success AUC over 21 IoU thresholds, precision at 20 px, normalized precision at
0.20, frame 0 set to the ground truth, LaSOT's visibility rule, GOT-10k's AO / SR0.50 / SR0.75).

Results: <results>/<sequence>.txt, one x,y,w,h box per frame (comma or tab separated), frame 0
included, named as pytracking names them (uav_bike1, nfs_Gymnastics, Jogging_1, airplane-1, …).

Options:
  --format FORMAT        ${BENCHMARK_FORMATS.join(' | ')}
                         (synthetic: the GOT-10k-style synthetic-v1 suite of \`spiketrack eval
                         --format synthetic\`, generated into --dataset when that folder does not
                         exist)
  --dataset DIR          the benchmark folder (LaSOT root, a GOT-10k split such as val/, OTB100/,
                         UAV123/ with anno/ and data_seq/, NFS, TrackingNet root, TNL2K_test/;
                         synthetic: default ${defaultSyntheticSuiteDir()})
  --results [NAME=]DIR   a tracker's results folder; repeat it to compare trackers (NAME is the
                         legend name; default: the folder's name)
  --json                 print JSON: { overall: {success_auc, precision, norm_precision, ao, sr50,
                         sr75}, sequences: { name: {...} } } with rates as fractions (0..1); with
                         several --results: { trackers: { NAME: { overall, sequences } } }
  --plots DIR            write success.svg, precision.svg and norm_precision.svg there
  --split test|all       LaSOT: the 280-sequence test split (default) or every sequence found
  --exclude-invalid-frames
                         divide by the number of valid frames instead of all frames
  --pack FILE.zip        GOT-10k test / TrackingNet test (no public ground truth): write the
                         evaluation server's archive of the (first) results instead of scoring;
                         GOT-10k times come from <sequence>_time.txt where present
  -h, --help             this help

Exit codes: 0 success, 2 bad input (a missing results file names its sequence), 1 internal error.
`;

/** `NAME=DIR` or `DIR` → [name, dir]. */
function trackerArg(arg: string): [string, string] {
  const eq = arg.indexOf('=');
  if (eq > 0 && !arg.slice(0, eq).includes('/')) return [arg.slice(0, eq), arg.slice(eq + 1)];
  return [basename(arg.replace(/[\\/]+$/, '')) || arg, arg];
}

const pct = (v: number) => (100 * v).toFixed(2).padStart(7);
const COLUMNS = ['AUC', 'Prec', 'NPrec', 'AO', 'SR0.50', 'SR0.75'];

function row(label: string, s: Scores, width: number): string {
  return `${label.padEnd(width)} ${[s.success_auc, s.precision, s.norm_precision, s.ao, s.sr50, s.sr75].map(pct).join(' ')}`;
}

/**
 * The metrics table `spiketrack metrics` prints (and `spiketrack eval` after a run): the overall
 * row, then one row per sequence, rates in %.
 */
export function metricsTable(dataset: Dataset, name: string, e: Evaluation): string {
  const width = Math.max(12, ...Object.keys(e.sequences).map((n) => n.length));
  const head = `${''.padEnd(width)} ${COLUMNS.map((c) => c.padStart(7)).join(' ')}`;
  return [
    `${dataset.name}: ${dataset.sequences.length} sequences, tracker '${name}' (rates in %)`,
    head,
    row('overall', e.overall, width),
    '',
    head,
    ...Object.entries(e.sequences).map(([n, s]) => row(n, s, width)),
    '',
  ].join('\n');
}

/**
 * Writes `success.svg`, `precision.svg` and `norm_precision.svg` of the trackers into `dir`
 * (created if needed) and names them on stderr.
 */
export async function writeMetricPlots(
  dir: string,
  dataset: Dataset,
  evaluations: readonly TrackerEvaluation[],
  io: CliIO,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const title = (kind: string) => `${kind} plot: ${dataset.name}`;
  const files: [string, string][] = [
    ['success.svg', successPlot(evaluations, title('Success'))],
    ['precision.svg', precisionPlot(evaluations, title('Precision'))],
    ['norm_precision.svg', normPrecisionPlot(evaluations, title('Normalized precision'))],
  ];
  for (const [f, svg] of files) await writeFile(join(dir, f), svg);
  io.stderr.write(`wrote ${files.map(([f]) => join(dir, f)).join(', ')}\n`);
}

/**
 * Writes the evaluation server's archive (GOT-10k test, TrackingNet test) of the results in
 * `resultsDir` for `dataset`'s sequences into `file`; GOT-10k times from `<sequence>_time.txt`.
 */
export async function packServerArchive(
  file: string,
  dataset: Dataset,
  resultsDir: string,
  io: CliIO,
): Promise<void> {
  if (dataset.format !== 'got10k' && dataset.format !== 'trackingnet') {
    throw new UsageError(`--pack is for got10k and trackingnet (their servers), not ${dataset.format}`);
  }
  const r = await readResults(resultsDir, dataset.sequences, { times: dataset.format === 'got10k' });
  const results = new Map<string, SequenceResult>(
    [...r.boxes].map(([n, boxes]) => [n, { boxes, ...(r.times.has(n) && { times: r.times.get(n)! }) }]),
  );
  const bytes =
    dataset.format === 'got10k'
      ? packGot10kResults(results, dataset.sequences)
      : packTrackingNetResults(results, dataset.sequences);
  await writeFile(file, bytes);
  io.stderr.write(
    `wrote ${file} (${results.size} sequences, ${bytes.length} bytes) for the ${dataset.name} server\n`,
  );
}

/** `spiketrack metrics`: scores results folders on a benchmark, prints tables or JSON, writes plots. */
export const metricsCommand: CliCommand = {
  name: 'metrics',
  summary: 'score tracking results on a benchmark (success AUC, precision, AO, …) and plot them',
  help: HELP,
  options: {
    format: { type: 'string' },
    dataset: { type: 'string' },
    results: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    plots: { type: 'string' },
    split: { type: 'string', default: 'test' },
    'exclude-invalid-frames': { type: 'boolean', default: false },
    pack: { type: 'string' },
  },
  async run(values, positionals, io) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    requireString(values, 'format');
    const format = oneOf(values, 'format', BENCHMARK_FORMATS);
    // synthetic: openBenchmark defaults to the suite's cache folder
    const dir =
      format === 'synthetic' && typeof values.dataset !== 'string'
        ? undefined
        : requireString(values, 'dataset');
    const resultArgs = (values.results as string[] | undefined) ?? [];
    if (resultArgs.length === 0) throw new UsageError('--results is required');
    const split = String(values.split);
    if (split !== 'test' && split !== 'all')
      throw new UsageError(`--split must be 'test' or 'all'; got '${split}'`);
    const trackers = resultArgs.map(trackerArg);
    const names = new Set(trackers.map(([n]) => n));
    if (names.size !== trackers.length)
      throw new UsageError('two --results have the same name; name them NAME=DIR');
    try {
      if (format === 'synthetic' && typeof values.pack === 'string') {
        throw new UsageError(
          '--pack is for GOT-10k test and TrackingNet test; synthetic-v1 has its ground truth',
        );
      }
      const dataset = await openBenchmark(format, dir, split, io);
      if (dataset.missing.length) {
        io.stderr.write(
          `warning: ${dataset.missing.length} ${dataset.name} sequence(s) not in ${dir ?? defaultSyntheticSuiteDir()}: ${dataset.missing.slice(0, 5).join(', ')}${dataset.missing.length > 5 ? ', …' : ''}; scoring the ${dataset.sequences.length} present\n`,
        );
      }
      if (typeof values.pack === 'string') {
        await packServerArchive(values.pack, dataset, trackers[0]![1], io);
        return 0;
      }
      const evaluations: { name: string; evaluation: Evaluation }[] = [];
      for (const [name, dir] of trackers) {
        const r = await readResults(dir, dataset.sequences);
        const evaluation = evaluate(r.boxes, dataset.sequences, {
          excludeInvalidFrames: Boolean(values['exclude-invalid-frames']),
        });
        for (const w of evaluation.warnings) io.stderr.write(`warning: ${name}: ${w}\n`);
        evaluations.push({ name, evaluation });
      }
      if (values.json) {
        const one = (e: Evaluation) => ({ overall: e.overall, sequences: e.sequences });
        const json =
          evaluations.length === 1
            ? one(evaluations[0]!.evaluation)
            : { trackers: Object.fromEntries(evaluations.map((t) => [t.name, one(t.evaluation)])) };
        io.stdout.write(`${JSON.stringify(json, null, 1)}\n`);
      } else {
        for (const t of evaluations) io.stdout.write(metricsTable(dataset, t.name, t.evaluation));
      }
      if (typeof values.plots === 'string') await writeMetricPlots(values.plots, dataset, evaluations, io);
      return 0;
    } catch (err) {
      if (err instanceof DatasetError) throw new UsageError(err.message);
      throw err;
    }
  },
};
