import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATASET_FORMATS, type Dataset, type DatasetFormat } from '../../eval/types';
import { readDataset } from '../../node/eval-files';
import { ensureSyntheticSuite, syntheticCacheDir } from '../../node/synthetic-writer';
import { SYNTHETIC_V1 } from '../../synthetic/suite';
import { type CliIO, UsageError } from '../command';
import { ProgressBar } from '../progress';

/** The `--format` values of `eval` and `metrics`: the readers' formats and the synthetic suite. */
export const BENCHMARK_FORMATS = [...DATASET_FORMATS, 'synthetic'] as const;

/** Where `--format synthetic` keeps the suite unless `--dataset` says otherwise. */
export function defaultSyntheticSuiteDir(): string {
  return join(syntheticCacheDir(), SYNTHETIC_V1.name);
}

/**
 * The synthetic-v1 suite of `--format synthetic` (`eval` and `metrics`): read from `dir` (default:
 * the cache folder), after generating it there when that folder does not exist. The files are
 * GOT-10k's layout; the dataset is named `synthetic-v1` in tables and plot titles.
 */
export async function openSyntheticSuite(dir: string | undefined, io: CliIO): Promise<Dataset> {
  const where = dir ?? defaultSyntheticSuiteDir();
  if (!existsSync(where)) {
    io.stderr.write(`generating the ${SYNTHETIC_V1.name} suite into ${where}\n`);
    const bar = new ProgressBar(io.stderr, {
      total: SYNTHETIC_V1.sequences * SYNTHETIC_V1.frames,
      label: 'generate',
      interactive: io.interactive,
    });
    let last = 0;
    await ensureSyntheticSuite({
      dir: where,
      onProgress: (done) => {
        bar.tick(done - last);
        last = done;
      },
    });
    bar.done();
  }
  return { ...(await readDataset(where, 'got10k')), name: SYNTHETIC_V1.name };
}

/**
 * The benchmark of `--format` and `--dataset` (`eval` and `metrics`): the synthetic suite
 * ({@link openSyntheticSuite}), or a reader's folder, which `dir` must name.
 */
export async function openBenchmark(
  format: (typeof BENCHMARK_FORMATS)[number],
  dir: string | undefined,
  split: 'test' | 'all',
  io: CliIO,
): Promise<Dataset> {
  if (format === 'synthetic') return openSyntheticSuite(dir, io);
  if (dir === undefined) throw new UsageError('--dataset is required');
  return readDataset(dir, format as DatasetFormat, { split });
}
