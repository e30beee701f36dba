// Barrel of src/tracker: the tracker runtime (the reference's SPIKETRACK test tracker).
export { type Box, checkBox, clipBox, mapBoxBack } from './box';
export {
  resolveTrackerParams,
  TRACKER_PRESETS,
  type TrackerParams,
  type TrackerParamsInput,
  type TrackerPreset,
} from './params';
export { cropToTensor, IMAGENET_MEAN, IMAGENET_STD, normalizeCrop } from './preprocess';
export {
  type CropGeometry,
  cropGeometry,
  pythonRound,
  type SampledTarget,
  sampleTarget,
} from './sample-target';
export { Tracker, type TrackerOptions, type TrackResult, type TrackTimings } from './tracker';
export { type HeadMapsData, TrackerError, TrackerLogic, type TrackStep } from './tracker-logic';
