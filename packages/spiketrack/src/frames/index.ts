// Barrel of src/frames: frames as 8-bit RGB on the CPU, conversion from tensors / pixels /
// browser sources, OpenCV's bilinear resize, and box drawing. Browser-safe.
export { type DrawBoxOptions, drawBox } from './draw-box';
export { FrameError } from './frame-error';
export { INTER_RESIZE_COEF_BITS, resizeLinearU8 } from './resize-linear';
export { assertRgbImage, type RgbImage, rgbaFromRgb, rgbFromInterleaved } from './rgb-image';
export {
  type BrowserPixelSource,
  canReadBrowserPixels,
  type FrameInput,
  type PixelData,
  toRgbImage,
} from './to-rgb';
