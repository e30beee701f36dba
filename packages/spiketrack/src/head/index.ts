// Barrel of src/head: the center-predictor head, box decoding and Hann windows.
export {
  type CenterPredictorOptions,
  CenterPredictor,
  calBbox,
  type DecodedBoxes,
  type HeadMaps,
  type HeadOutput,
} from './center-predictor';
export { hann1d, hann1dValues, hann2d } from './hann';
