// The PyTorch reference's timings on this project's 2-core machines (issue 3, "Performance"), in
// seconds: per frame on its fast path (the search branch on cached templates) and per template
// refresh (the template branch), by configuration. The reference has no base-384 T = 1 figure.

/** @type {Record<string, { frameS: number; refreshS: number }>} */
export const PYTORCH_REFERENCE = {
  tiny_256_t1: { frameS: 0.14, refreshS: 0.1 },
  tiny_256_t3: { frameS: 0.16, refreshS: 0.21 },
  spiketrack_s256_t1: { frameS: 0.15, refreshS: 0.11 },
  spiketrack_s256_t3: { frameS: 0.21, refreshS: 0.32 },
  spiketrack_b256_t1: { frameS: 0.41, refreshS: 0.35 },
  spiketrack_b256_t3: { frameS: 0.6, refreshS: 1.0 },
  spiketrack_b384_t3: { frameS: 1.4, refreshS: 3.1 },
};

/** Target: the wasm fast path at most this many times the reference's per-frame time. */
export const FRAME_TARGET_RATIO = 1.5;
