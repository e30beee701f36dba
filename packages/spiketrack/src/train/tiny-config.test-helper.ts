/**
 * The tiny network the training tests train: SpikeTrack's layout with widths [8, 8, 16, 16], two
 * heads, R = 32 and T = 1, on top of `tiny_256_t3` (a training step takes about a second on wasm).
 */
export const TINY_TRAIN_CONFIG = {
  base: 'tiny_256_t3',
  dims: [8, 8, 16, 16],
  numHeads: 2,
  resolution: 32,
  templates: 1,
  decoderChannel: 16,
} as const;
