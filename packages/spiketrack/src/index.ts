/**
 * `spiketrack`: the SpikeTrack tracker network (CVPR 2026) for TensorFlow.js: the asymmetric
 * spiking encoder with memory retrieval, the center-predictor head, configs and checkpoints.
 * Time-first NHWC tensors; child names are the reference's state-dict keys.
 */
export * from './head/index';
export * from './config/index';
export * from './model/index';
export * from './bundled-model';
export * from './checkpoint/index';
export * from './tracker/index';
export * from './frames/index';
export * from './energy/index';
export * from './train/index';
export * from './eval/index';
export * from './synthetic/index';
export * from './baseline/index';
