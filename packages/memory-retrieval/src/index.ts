/**
 * `@spiketrack/memory-retrieval`: SpikeTrack's memory retrieval module for TensorFlow.js. The
 * templates become a spiking linear-attention memory (`kᵀ·v` per head), which the search frame reads
 * recurrently and fuses over the templates with a channel gate. Bit-exact with the PyTorch
 * reference; time-first NHWC tensors `[T, B, H, W, C]`; child names are the reference's state-dict
 * keys.
 */
export { GateModule, type GateModuleOptions, type GateMode } from './gate';
export { MemoryRetrieval, type MemoryRetrievalOptions } from './memory-retrieval';
export { Retriever, type RetrieverNeuronOptions, type RetrieverOptions } from './retriever';
export { TemplateMemory } from './template-memory';
