/**
 * `@spiketrack/neurons/layers`: tfjs-layers adapters (registered for serialization at import).
 */
export {};
