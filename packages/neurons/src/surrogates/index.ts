/**
 * Surrogate gradients: Heaviside steps whose backward pass is a smooth surrogate (use the
 * `surrogate` factories: `surrogate.sigmoid(4)`, …), and SpikeTrack's multi-level quantizer.
 */
export { multiSpike, quantize, spikeCount } from './quantize';
export {
  defaultSurrogate,
  heaviside,
  isSurrogateFn,
  type SurrogateConfig,
  type SurrogateFn,
  type SurrogateName,
  surrogate,
  surrogateFromConfig,
} from './surrogate';
