// Types for the parts of gifenc (https://github.com/mattdesl/gifenc, untyped) that spiketrack uses.
declare module 'gifenc' {
  export type GifPalette = number[][];
  export interface GifWriteFrameOptions {
    palette?: GifPalette;
    /** Frame delay in milliseconds. */
    delay?: number;
    /** -1 once, 0 forever. */
    repeat?: number;
    transparent?: boolean;
    first?: boolean;
  }
  export interface GifEncoderStream {
    writeFrame(index: Uint8Array, width: number, height: number, opts?: GifWriteFrameOptions): void;
    finish(): void;
    bytes(): Uint8Array;
    bytesView(): Uint8Array;
  }
  export function GIFEncoder(opts?: { auto?: boolean; initialCapacity?: number }): GifEncoderStream;
  export function quantize(
    rgba: Uint8Array | Uint8ClampedArray,
    maxColors: number,
    opts?: Record<string, unknown>,
  ): GifPalette;
  export function applyPalette(
    rgba: Uint8Array | Uint8ClampedArray,
    palette: GifPalette,
    format?: string,
  ): Uint8Array;
}
