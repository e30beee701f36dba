/** `loadDataset`: one entry point over the benchmark readers. */
import type { DatasetSource } from '../source';
import { DATASET_FORMATS, type Dataset, DatasetError, type DatasetFormat } from '../types';
import { readGot10k } from './got10k';
import { type LasotOptions, readLasot } from './lasot';
import { readNfs } from './nfs';
import { readOtb } from './otb';
import { type TrackingNetOptions, readTrackingNet } from './trackingnet';
import { readTnl2k } from './tnl2k';
import { readUav } from './uav';

export { parseNfsAnnotation } from './nfs';

/** Options of {@link loadDataset}; each applies to its format only. */
export interface LoadDatasetOptions extends LasotOptions, TrackingNetOptions {
  /** UAV: the subset folder under `anno/` and `data_seq/` (default `UAV123`; e.g. `UAV20L`). */
  readonly uavSubset?: string;
}

/**
 * Reads a benchmark from `root` in the layout of `format`, through `src` (the file access: in
 * Node, `readDataset` of `spiketrack/node` passes the file system). Throws a {@link DatasetError}
 * naming the file (and line) of anything missing or malformed.
 */
export async function loadDataset(
  src: DatasetSource,
  root: string,
  format: DatasetFormat,
  opts: LoadDatasetOptions = {},
): Promise<Dataset> {
  if (!(DATASET_FORMATS as readonly string[]).includes(format)) {
    throw new DatasetError(`unknown dataset format '${format}' (expected ${DATASET_FORMATS.join(', ')})`);
  }
  if (!(await src.isDir(root))) throw new DatasetError(`${root}: dataset folder not found`);
  switch (format) {
    case 'lasot':
      return readLasot(src, root, opts);
    case 'got10k':
      return readGot10k(src, root);
    case 'otb':
      return readOtb(src, root);
    case 'uav':
      return readUav(src, root, opts.uavSubset);
    case 'nfs':
      return readNfs(src, root);
    case 'trackingnet':
      return readTrackingNet(src, root, opts);
    case 'tnl2k':
      return readTnl2k(src, root);
  }
}
