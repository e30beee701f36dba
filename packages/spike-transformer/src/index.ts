/**
 * `@spiketrack/spike-transformer`: Spike-Driven Transformer V3 (E-SpikeFormer) blocks for
 * TensorFlow.js, bit-exact with SpikeTrack's PyTorch reference. Time-first NHWC tensors
 * `[T, B, H, W, C]`; child names are the reference's state-dict keys.
 */
export {
  type Branch,
  checkBranch,
  LinearSpikeAttention,
  type LinearSpikeAttentionOptions,
} from './attention';
export { type BlockNeuronOptions, ConvBn, type ConvBnOptions, type NormKind } from './conv-bn';
export {
  type LinearAttentionOptions,
  linearAttentionMemory,
  queryLinearAttention,
  spikeLinearAttention,
} from './linear-attention';
export { SpikingMLP, type SpikingMLPOptions } from './mlp';
export { ParameterList } from './parameter-list';
export { SpikingSepConv, type SpikingSepConvOptions } from './sep-conv';
export { mergeTime, splitTime, type TimeFirstDims, timeFirstDims } from './time';
