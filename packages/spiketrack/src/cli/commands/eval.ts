import { existsSync, statSync } from 'node:fs';
import { BACKEND_NAMES } from '@spiketrack/neurons';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_MODEL, bundledModelUrl } from '../../bundled-model';
import { type Dataset, DatasetError, evaluate, type Sequence } from '../../eval/index';
import { readResults } from '../../node/eval-files';
import { runEvalPool, EvalWorkerError } from '../../node/eval-runner/pool';
import { EVAL_TRACKERS, type EvalJob, type EvalTrackerName } from '../../node/eval-runner/protocol';
import { finishedSequences } from '../../node/eval-runner/result-files';
import { SYNTHETIC_V1 } from '../../synthetic/suite';
import { TRACKER_PRESETS, type TrackerPreset } from '../../tracker/params';
import { BACKEND_HELP, BACKEND_OPTION, parseThreads } from '../backend';
import { type CliCommand, type CliIO, UsageError } from '../command';
import { oneOf, requireString } from '../options';
import { parseShard, type Shard, shardNames } from '../eval/shard';
import { BENCHMARK_FORMATS, defaultSyntheticSuiteDir, openBenchmark } from '../eval/benchmark-dataset';
import { ProgressBar } from '../progress';
import { metricsTable, packServerArchive, writeMetricPlots } from './metrics';

/** `--format` of `spiketrack eval`: the benchmark layouts, and `synthetic` (GOT-10k layout). */

/** The exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

const defaultWorkers = (): number => Math.max(1, Math.floor(availableParallelism() / 2));

const HELP = `Usage: spiketrack eval --format FORMAT --dataset DIR --out DIR [options]

Runs a tracker over every sequence of a benchmark, in parallel worker threads (each with its own
tracker and tfjs backend), then prints the metrics (the table of \`spiketrack metrics\`) and writes
the success / precision plots. Without public ground truth (GOT-10k test, TrackingNet test) it
writes the evaluation server's archive instead.

Results: <out>/<tracker>/<sequence>.txt (x,y,w,h per frame, frame 0 = the initial box) and
<sequence>_time.txt (tracker seconds per frame), each written atomically when its sequence
finishes. A rerun skips the sequences that have their .txt, so an interrupted run (Ctrl-C, a crash,
a preempted machine) resumes where it stopped. Shards write the same layout: merge them by copying
their <out> folders into one.

Options:
  --format FORMAT        ${BENCHMARK_FORMATS.join(' | ')}
                         (synthetic: the GOT-10k-style ${SYNTHETIC_V1.name} suite, generated into
                         --dataset when that folder does not exist)
  --dataset DIR          the benchmark folder (as \`spiketrack metrics\`; synthetic: default
                         ${defaultSyntheticSuiteDir()})
  --out DIR              the output folder (required)
  --tracker NAME|MODULE  spiketrack (default) | ncc (the non-learned NCC baseline, no tfjs) |
                         a tracker module: a path to an ES module (.mjs / .js) that exports
                         createModel({ checkpoint }), returning a TrackingNetwork (your own
                         network, built from the packages' parts; see examples/custom-tracker);
                         results go to <out>/<module file name without extension>
  --checkpoint FILE      spiketrack: the network (.pth.tar / .safetensors; default: the bundled
                         model, ${BUNDLED_MODEL.name}); a module: the weights loaded into
                         createModel()'s network (its state dict, strict; default: none; its
                         path is passed to createModel too)
  --preset NAME          template updates: default (every 25 frames above 0.7) or lasot (40, 0.8)
  --workers N            worker threads (default ${defaultWorkers()}: half the CPUs here)
  --shard i/n            run only shard i of n (0-based): the sequences sorted by name whose
                         index % n == i; the n shards partition the benchmark
  --split test|all       LaSOT: the 280-sequence test split (default) or every sequence found
${BACKEND_HELP}
                         (each worker selects it for itself)
  -h, --help             this help

Exit codes: 0 success, 2 bad input (options, dataset, checkpoint, frames), 1 internal error,
130 interrupted (Ctrl-C; the finished sequences are kept).
`;

function parseWorkers(value: unknown): number {
  if (value === undefined) return defaultWorkers();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--workers must be a positive integer, got '${String(value)}'`);
  return n;
}

/**
 * `--tracker`: a built-in name, or the path of a tracker module (anything else with a `/` or a
 * `.mjs` / `.js` / `.cjs` extension), which must exist. The name is the module file's name without
 * its extension (the results folder).
 */
function parseTracker(value: unknown): { tracker: string; module: string | null } {
  const v = String(value);
  if ((EVAL_TRACKERS as readonly string[]).includes(v)) return { tracker: v, module: null };
  if (!/[\\/]/.test(v) && !/\.(m|c)?js$/.test(v)) {
    throw new UsageError(
      `--tracker must be one of ${EVAL_TRACKERS.join(', ')} or the path of a tracker module (./my-tracker.mjs); got '${v}'`,
    );
  }
  const file = resolve(v);
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`--tracker: module ${v} not found`);
  const name = basename(file, extname(file));
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) {
    throw new UsageError(`--tracker: the module's file name '${name}' cannot name a results folder`);
  }
  return { tracker: name, module: file };
}

/** The job of a sequence: its frames and its first ground-truth box. */
function jobOf(seq: Sequence): EvalJob {
  const initBox = seq.groundTruth[0];
  if (!initBox || !initBox.every(Number.isFinite) || !(initBox[2] > 0 && initBox[3] > 0)) {
    throw new UsageError(`sequence ${seq.name}: no valid initial box on its first ground-truth line`);
  }
  if (seq.frames.length === 0) throw new UsageError(`sequence ${seq.name}: no frames`);
  return { name: seq.name, frames: seq.frames, initBox };
}

/** Scores the finished run (or packs the server archive) and writes the plots into `out`. */
async function report(
  dataset: Dataset,
  sequences: Sequence[],
  tracker: string,
  resultsDir: string,
  out: string,
  shard: Shard | null,
  io: CliIO,
): Promise<void> {
  const scope = { ...dataset, sequences };
  if (!sequences.every((s) => s.hasGroundTruth)) {
    if (dataset.format !== 'got10k' && dataset.format !== 'trackingnet') {
      throw new UsageError(`${dataset.name}: some sequences have no ground truth; cannot score them`);
    }
    const file = join(
      out,
      `${tracker}_${dataset.format}${shard ? `_shard${shard.index}of${shard.count}` : ''}.zip`,
    );
    await packServerArchive(file, scope, resultsDir, io);
    io.stderr.write(
      `no public ground truth: send ${file} to the ${dataset.name} evaluation server${
        shard
          ? ' (this shard only: merge the shards and run spiketrack metrics --pack for the whole benchmark)'
          : ''
      }\n`,
    );
    return;
  }
  const r = await readResults(resultsDir, sequences);
  const evaluation = evaluate(r.boxes, sequences);
  for (const w of evaluation.warnings) io.stderr.write(`warning: ${tracker}: ${w}\n`);
  if (shard) {
    io.stderr.write(
      `metrics of shard ${shard.index}/${shard.count} only; merge the shards' folders and run spiketrack metrics for the whole benchmark\n`,
    );
  }
  io.stdout.write(metricsTable(scope, tracker, evaluation));
  await writeMetricPlots(out, scope, [{ name: tracker, evaluation }], io);
}

/**
 * `spiketrack eval`: a tracker over a benchmark in worker threads, resumable and shardable, then
 * its metrics and plots (or the server archive).
 */
export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'run a tracker over a benchmark (parallel, resumable, sharded) and score it',
  help: HELP,
  options: {
    format: { type: 'string' },
    dataset: { type: 'string' },
    out: { type: 'string' },
    tracker: { type: 'string', default: 'spiketrack' },
    checkpoint: { type: 'string' },
    preset: { type: 'string', default: 'default' },
    workers: { type: 'string' },
    shard: { type: 'string' },
    split: { type: 'string', default: 'test' },
    ...BACKEND_OPTION,
  },
  async run(values, positionals, io) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const format = oneOf(values, 'format', BENCHMARK_FORMATS);
    const out = requireString(values, 'out');
    const { tracker, module } = parseTracker(values.tracker);
    const preset = oneOf(values, 'preset', Object.keys(TRACKER_PRESETS) as TrackerPreset[]);
    const split = oneOf(values, 'split', ['test', 'all'] as const);
    const workers = parseWorkers(values.workers);
    const backend = oneOf(values, 'backend', ['auto', ...BACKEND_NAMES]);
    const shard = typeof values.shard === 'string' ? parseShard(values.shard) : null;
    let checkpoint = typeof values.checkpoint === 'string' ? values.checkpoint : undefined;
    if (checkpoint !== undefined) {
      if (tracker === 'ncc') throw new UsageError('--checkpoint is for a network; --tracker ncc has none');
      if (!existsSync(checkpoint)) throw new UsageError(`--checkpoint: ${checkpoint} not found`);
    } else if (tracker === 'spiketrack') {
      // The bundled model, by path: each worker loads it (the workers' bundle may live elsewhere).
      checkpoint = fileURLToPath(bundledModelUrl());
      if (!existsSync(checkpoint)) {
        throw new UsageError(
          `the bundled model is missing (${checkpoint}); pass --checkpoint FILE or reinstall spiketrack`,
        );
      }
    }
    const dir = typeof values.dataset === 'string' && values.dataset.length > 0 ? values.dataset : undefined;

    let dataset: Dataset;
    try {
      dataset = await openBenchmark(format, dir, split, io);
    } catch (err) {
      if (err instanceof DatasetError) throw new UsageError(err.message);
      throw err;
    }
    if (dataset.missing.length) {
      io.stderr.write(
        `warning: ${dataset.missing.length} ${dataset.name} sequence(s) missing from the folder; running the ${dataset.sequences.length} present\n`,
      );
    }
    const byName = new Map(dataset.sequences.map((s) => [s.name, s]));
    const names = shard ? shardNames([...byName.keys()], shard) : [...byName.keys()];
    const sequences = names.map((n) => byName.get(n) as Sequence);
    if (sequences.length === 0)
      throw new UsageError(`${dataset.name}: no sequences${shard ? ' in this shard' : ''}`);
    const resultsDir = join(out, tracker);
    await mkdir(resultsDir, { recursive: true });
    const done = await finishedSequences(resultsDir, names);
    const jobs = sequences.filter((s) => !done.has(s.name)).map(jobOf);
    io.stderr.write(
      `eval: ${dataset.name}, ${sequences.length} sequence(s)${
        shard ? ` (shard ${shard.index}/${shard.count} of ${dataset.sequences.length})` : ''
      }, tracker ${tracker}; ${done.size} already finished, skipped; ${jobs.length} to run on ${Math.min(
        workers,
        Math.max(1, jobs.length),
      )} worker(s); results in ${resultsDir}\n`,
    );

    if (jobs.length > 0) {
      const controller = new AbortController();
      const onSigint = () => {
        io.stderr.write('\ninterrupt: stopping (finished sequences are kept)\n');
        controller.abort();
      };
      process.once('SIGINT', onSigint);
      const bar = new ProgressBar(io.stderr, {
        total: jobs.reduce((a, j) => a + j.frames.length, 0),
        label: 'eval',
        interactive: io.interactive,
      });
      let result: Awaited<ReturnType<typeof runEvalPool>>;
      try {
        result = await runEvalPool(jobs, {
          config: {
            tracker: module === null ? (tracker as EvalTrackerName) : 'module',
            ...(module !== null && { module }),
            ...(checkpoint && { checkpoint }),
            preset,
            backend,
            // the cores shared among the workers, unless --threads says otherwise
            wasmThreads:
              values.threads === undefined
                ? Math.max(1, Math.floor(availableParallelism() / workers))
                : parseThreads(values.threads, 'auto'),
            resultsDir,
          },
          workers,
          signal: controller.signal,
          onReady: (backend) => {
            if (backend !== null) io.stderr.write(`worker ready (backend ${backend})\n`);
          },
          onFrame: () => bar.tick(),
          onSequence: (name, frames, seconds) => {
            if (!io.interactive)
              io.stderr.write(`finished ${name}: ${frames} frames, ${(frames / seconds).toFixed(1)} fps\n`);
          },
        });
      } catch (err) {
        if (err instanceof EvalWorkerError && err.badInput) throw new UsageError(err.message);
        throw err;
      } finally {
        process.removeListener('SIGINT', onSigint);
        bar.done();
      }
      if (result.aborted) {
        io.stderr.write(
          `interrupted: ${done.size + result.finished.length} of ${sequences.length} sequence(s) finished (${result.finished.length} in this run), kept in ${resultsDir}; rerun the same command to resume\n`,
        );
        return EXIT_INTERRUPTED;
      }
    }
    try {
      await report(dataset, sequences, tracker, resultsDir, out, shard, io);
    } catch (err) {
      if (err instanceof DatasetError) throw new UsageError(err.message);
      throw err;
    }
    return 0;
  },
};
