import { ShapeError } from '@spiketrack/neurons';

/**
 * A frame the tracker cannot use: an unsupported type or layout, values outside 0..255, NaN or
 * infinite values, or a size that differs from the sequence's first frame. A {@link ShapeError}, so
 * the CLI reports it as bad input (exit code 2).
 */
export class FrameError extends ShapeError {}
