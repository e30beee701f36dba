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
export {
  E_SPIKEFORMER_DEPTHS,
  E_SPIKEFORMER_PRESETS,
  E_SPIKEFORMER_SEGMENTS,
  ESpikeFormer,
  type ESpikeFormerOptions,
  type ESpikeFormerPreset,
} from './backbone';
export { SpikingConvBlock, type SpikingConvBlockOptions } from './conv-block';
export {
  BLOCK_NEURON_TYPES,
  type BlockNeuron,
  type BlockNeuronOptions,
  type BlockNeuronType,
  checkBlockNeuron,
  ConvBn,
  type ConvBnOptions,
  makeNeuron,
  type NormKind,
} from './conv-bn';
export {
  type LinearAttentionOptions,
  linearAttentionMemory,
  queryLinearAttention,
  spikeLinearAttention,
} from './linear-attention';
export { SpikingDownsample, type SpikingDownsampleOptions } from './downsample';
export { SpikingMLP, type SpikingMLPOptions } from './mlp';
export { SpikingSepConv, type SpikingSepConvOptions } from './sep-conv';
export { mergeTime, splitTime, type TimeFirstDims, timeFirstDims } from './time';
export { SpikingTransformerBlock, type SpikingTransformerBlockOptions } from './transformer-block';
export { type InferredESpikeFormer, inferESpikeFormerOptions, type StateShapes } from './infer-config';
