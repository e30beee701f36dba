// Barrel of src/train: the reference's training losses and their Gaussian target.
export { gaussianRadius, generateHeatmap, type HeatmapOptions, heatmapValues } from './heatmap';
export {
  boxCxcywhToXyxy,
  boxXywhToXyxy,
  type FocalLossOptions,
  focalLoss,
  type GiouLossResult,
  giouLoss,
  type LossWeights,
  l1Loss,
  REFERENCE_LOSS_WEIGHTS,
  type TrackingLossOptions,
  type TrackingLossResult,
  type TrackingPrediction,
  trackingLoss,
} from './losses';
