import { type Box, type RgbImage, SyntheticSequence, type SyntheticSequenceOptions } from 'spiketrack';

/** One frame for the tracker and the screen. */
export interface Frame {
  /** 0-based index in the source (for live sources: frames read so far). */
  index: number;
  /** What the tracker reads: the generator's RGB bytes, or the video's pixels (RGBA). */
  pixels: RgbImage | ImageData;
  /** What the screen shows. */
  image: ImageData;
  /** The ground-truth box, when the source knows it (synthetic sequences). */
  truth: Box | null;
}

/** Where frames come from. */
export interface FrameSource {
  readonly kind: 'synthetic' | 'webcam' | 'video';
  /** A line for the page (`synthetic-7, 640 × 480, 60 frames`). */
  readonly label: string;
  readonly width: number;
  readonly height: number;
  /** The number of frames, or null for a live source. */
  readonly length: number | null;
  /** The next frame, or null at the end. */
  next(): Promise<Frame | null>;
  /** Back to the first frame (live sources: keep going). */
  rewind(): void;
  /** Playing or paused (videos: the element itself). */
  setPlaying(playing: boolean): void;
  dispose(): void;
}

/** RGB bytes → RGBA `ImageData` for the canvas. */
export function rgbToImageData(img: RgbImage): ImageData {
  const { width, height, data } = img;
  const out = new ImageData(width, height);
  const d = out.data;
  for (let i = 0, j = 0; i < width * height; i++, j += 3) {
    d[i * 4] = data[j] as number;
    d[i * 4 + 1] = data[j + 1] as number;
    d[i * 4 + 2] = data[j + 2] as number;
    d[i * 4 + 3] = 255;
  }
  return out;
}

/**
 * A sequence of `spiketrack`'s synthetic generator (the CLI's `demo` and the `synthetic-v1`
 * benchmark use the same one): rendered on demand from the seed, with its ground truth. The
 * tracker gets the generator's RGB bytes unchanged, so Node reproduces every frame exactly.
 */
export class SyntheticSource implements FrameSource {
  readonly kind = 'synthetic';
  readonly sequence: SyntheticSequence;
  private i = 0;

  constructor(options: SyntheticSequenceOptions) {
    this.sequence = new SyntheticSequence(options);
  }
  get label(): string {
    const s = this.sequence;
    return `${s.name}, ${s.width} × ${s.height}, ${s.length} frames`;
  }
  get width(): number {
    return this.sequence.width;
  }
  get height(): number {
    return this.sequence.height;
  }
  get length(): number {
    return this.sequence.length;
  }
  async next(): Promise<Frame | null> {
    if (this.i >= this.sequence.length) return null;
    const f = this.sequence.frame(this.i++);
    return { index: f.index, pixels: f.image, image: rgbToImageData(f.image), truth: f.box };
  }
  rewind(): void {
    this.i = 0;
  }
  setPlaying(): void {}
  dispose(): void {}
}

/** Frames are read at most this wide (the tracker's crops are small; big frames only cost time). */
const MAX_WIDTH = 960;

/**
 * A `<video>` element's current picture, read through a canvas: a webcam stream
 * (`getUserMedia`) or a local file. The tracker takes the newest picture each time it is ready,
 * as a live tracker does (it is slower than the video on most backends).
 */
export class VideoSource implements FrameSource {
  readonly width: number;
  readonly height: number;
  readonly length = null;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private i = 0;

  private constructor(
    readonly kind: 'webcam' | 'video',
    readonly label: string,
    private readonly video: HTMLVideoElement,
    private readonly release: () => void,
  ) {
    const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
    this.width = Math.round(video.videoWidth * scale);
    this.height = Math.round(video.videoHeight * scale);
    this.canvas = document.createElement('canvas');
    this.canvas.width = this.width;
    this.canvas.height = this.height;
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('this browser gives no 2D canvas context');
    this.ctx = ctx;
  }

  private static async open(
    kind: 'webcam' | 'video',
    label: string,
    setup: (v: HTMLVideoElement) => void,
    release: () => void,
  ): Promise<VideoSource> {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    setup(video);
    try {
      await new Promise<void>((resolve, reject) => {
        video.onloadeddata = () => resolve();
        video.onerror = () =>
          reject(new Error(`cannot decode the ${kind === 'webcam' ? 'camera' : 'video'}`));
      });
      await video.play();
    } catch (e) {
      release();
      throw e;
    }
    const src = new VideoSource(kind, label, video, release);
    return src;
  }

  /** The camera (asks for permission). */
  static async webcam(): Promise<VideoSource> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new Error('this page cannot use a camera here (getUserMedia needs https or localhost)');
    }
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
    const track = stream.getVideoTracks()[0];
    const name = track?.label || 'camera';
    return VideoSource.open(
      'webcam',
      `webcam: ${name}`,
      (v) => {
        v.srcObject = stream;
      },
      () => {
        for (const t of stream.getTracks()) t.stop();
      },
    );
  }

  /** A local video file (decoded by the browser; nothing is uploaded). */
  static async file(file: File): Promise<VideoSource> {
    const url = URL.createObjectURL(file);
    return VideoSource.open(
      'video',
      `video: ${file.name}`,
      (v) => {
        v.src = url;
        v.loop = true;
      },
      () => URL.revokeObjectURL(url),
    );
  }

  async next(): Promise<Frame> {
    this.ctx.drawImage(this.video, 0, 0, this.width, this.height);
    const image = this.ctx.getImageData(0, 0, this.width, this.height);
    return { index: this.i++, pixels: image, image, truth: null };
  }
  rewind(): void {
    this.i = 0;
    if (this.kind === 'video') this.video.currentTime = 0;
  }
  setPlaying(playing: boolean): void {
    if (playing) void this.video.play();
    else this.video.pause();
  }
  /** Paused videos: move one frame (1/30 s) forward before the next read. */
  async advance(): Promise<void> {
    if (this.kind !== 'video' || !this.video.paused) return;
    const v = this.video;
    await new Promise<void>((resolve) => {
      v.onseeked = () => resolve();
      v.currentTime = Math.min(v.duration || 0, v.currentTime + 1 / 30);
    });
  }
  dispose(): void {
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.srcObject = null;
    this.release();
  }
}
