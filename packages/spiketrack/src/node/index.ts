/**
 * `spiketrack/node`: Node-only parts of the tracker (files, video through ffmpeg, the CLI's runner).
 */
export { runCli } from '../cli/run';
export type { CliCommand, CliIO } from '../cli/command';
export {
  nodeDatasetSource,
  readDataset,
  readResults,
  type ReadResultsOptions,
  type TrackerResults,
} from './eval-files';
export { type FrameSource, openFrameSource } from './frame-source';
export { listFrameFiles, readFrameFiles, readFramesDir } from './frames-dir';
export { decodeImage, encodePng, IMAGE_EXTENSIONS, readImageFile, writePngFile } from './image-file';
export {
  defaultFfmpeg,
  FFMPEG_INSTALL_HELP,
  FfmpegNotFoundError,
  type OpenVideoOptions,
  openVideo,
  parseFfmpegStderr,
  type VideoInfo,
  type VideoStream,
} from './video';
export {
  AnnotatedGif,
  type AnnotatedGifOptions,
  type AnnotationColor,
  GIF_COLORS,
  type GifBox,
  type GifText,
} from './annotated-gif';
export {
  type EnsureSuiteOptions,
  encodeRgbJpeg,
  ensureSyntheticSuite,
  formatBoxLine,
  type SuiteLocation,
  syntheticCacheDir,
  type WriteSyntheticOptions,
  writeSyntheticSequence,
} from './synthetic-writer';
export { datasetTrainingSequences } from './training-data';
export type { TrainWorkerConfig, TrainWorkerData, TrainWorkerModel } from './train-runner/protocol';
export { createWorkerShards, TrainWorkerError, type WorkerShardsOptions } from './train-runner/worker-shards';
