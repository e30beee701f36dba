/**
 * The evaluation toolkit (browser-safe): benchmark readers over a {@link DatasetSource}, metrics
 * with pytracking's conventions, SVG plots, and result archives for evaluation servers. The
 * file-system readers are in `spiketrack/node` (`readDataset`, `readResults`).
 */
// `Box` is not re-exported: the package's main entry exports the tracker's identical `Box`.
export { DATASET_FORMATS, type Dataset, DatasetError, type DatasetFormat, type Sequence } from './types';
export { joinPath, type DatasetSource } from './source';
export { formatBoxes, parseBoxes, parseLabels, parseRows } from './ground-truth';
export { loadDataset, parseNfsAnnotation, type LoadDatasetOptions } from './readers/index';
export type { LasotOptions } from './readers/lasot';
export type { TrackingNetOptions } from './readers/trackingnet';
export { LASOT_TEST_SEQUENCES } from './tables/lasot';
export { OTB100_SEQUENCES, type OtbEntry } from './tables/otb';
export { UAV123_SEQUENCES, type UavEntry } from './tables/uav';
export * from './metrics';
export * from './got10k-protocol';
export * from './svg-plot';
export * from './plots';
export { crc32, writeZip, type ZipEntry } from './zip';
export { packGot10kResults, packTrackingNetResults, type SequenceResult } from './server';
