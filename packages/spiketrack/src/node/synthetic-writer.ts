/**
 * Node-only: writes synthetic sequences as GOT-10k-style folders, and generates the fixed suites
 * on demand into a cache folder.
 *
 * A sequence folder holds `00000001.jpg …` (JPEG, quality 90 by default), `groundtruth.txt`
 * (`x,y,w,h` per frame, 4 decimals), `absence.label` and `cover.label` (one integer per frame, as
 * GOT-10k), and `meta_info.ini` (the generator's options). A suite folder adds `list.txt` (one
 * sequence name per line) and, written last, `.complete`.
 */
import { encode as encodeJpeg } from 'jpeg-js';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@spiketrack/neurons';
import { type SyntheticFrame, SyntheticSequence, type SyntheticSequenceOptions } from '../synthetic/sequence';
import {
  SYNTHETIC_GENERATOR_VERSION,
  SYNTHETIC_V1,
  type SyntheticSuite,
  syntheticSuiteSequences,
} from '../synthetic/suite';
import { type RgbImage, rgbaFromRgb } from '../frames/rgb-image';
import type { Box } from '../tracker/box';

/** Encodes an RGB image as JPEG bytes (jpeg-js). */
export function encodeRgbJpeg(image: RgbImage, quality = 90): Uint8Array {
  return new Uint8Array(
    encodeJpeg({ data: rgbaFromRgb(image), width: image.width, height: image.height }, quality).data,
  );
}

/** One box as a ground-truth line: `x,y,w,h` with 4 decimals (as GOT-10k's files). */
export function formatBoxLine(b: Box): string {
  return b.map((v) => v.toFixed(4)).join(',');
}

/** The `meta_info.ini` of a sequence: the generator version and every option. */
function metaInfo(seq: SyntheticSequence): string {
  const meta = Object.entries({
    generator: `spiketrack synthetic v${SYNTHETIC_GENERATOR_VERSION}`,
    object_class: 'synthetic',
    resolution: `(${seq.width}, ${seq.height})`,
    ...seq.options,
  });
  return `[METAINFO]\n${meta.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
}

/** Options of {@link writeSyntheticSequence}. */
export interface WriteSyntheticOptions {
  /** JPEG quality 1–100 (default 90). */
  readonly quality?: number;
  /** Write the frames' JPEGs (default true); false writes the annotation files only (much faster). */
  readonly images?: boolean;
  /**
   * Called after each frame is written, with the rendered frame (so that a caller can track it
   * without rendering it again), the number of frames written and the sequence length; a promise
   * it returns is awaited before the next frame.
   */
  readonly onFrame?: (frame: SyntheticFrame, done: number, total: number) => unknown;
}

/**
 * Renders `sequence` and writes it as the folder `<dir>/<sequence.name>`. It is written under a
 * temporary name and renamed when complete, so a folder with the sequence's name is always whole.
 * An existing folder of that name is replaced. Resolves to the folder's path.
 */
export async function writeSyntheticSequence(
  sequence: SyntheticSequence | SyntheticSequenceOptions,
  dir: string,
  options: WriteSyntheticOptions = {},
): Promise<string> {
  const seq = sequence instanceof SyntheticSequence ? sequence : new SyntheticSequence(sequence);
  const quality = options.quality ?? 90;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new ConfigError(`JPEG quality must be an integer in 1..100, got ${quality}`);
  }
  const final = join(dir, seq.name);
  const partial = join(dir, `.${seq.name}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const gt: string[] = [];
  const absence: string[] = [];
  const cover: string[] = [];
  for (let i = 0; i < seq.length; i++) {
    const f = seq.frame(i);
    if (options.images !== false) {
      await writeFile(
        join(partial, `${String(i + 1).padStart(8, '0')}.jpg`),
        encodeRgbJpeg(f.image, quality),
      );
    }
    gt.push(formatBoxLine(f.box));
    absence.push(f.absent ? '1' : '0');
    cover.push(String(f.cover));
    await options.onFrame?.(f, i + 1, seq.length);
  }
  await writeFile(join(partial, 'groundtruth.txt'), `${gt.join('\n')}\n`);
  await writeFile(join(partial, 'absence.label'), `${absence.join('\n')}\n`);
  await writeFile(join(partial, 'cover.label'), `${cover.join('\n')}\n`);
  await writeFile(join(partial, 'meta_info.ini'), metaInfo(seq));
  await rm(final, { recursive: true, force: true });
  await rename(partial, final);
  return final;
}

/**
 * The default cache folder of the synthetic suites: `$SPIKETRACK_CACHE`, else
 * `$XDG_CACHE_HOME/spiketrack`, else `~/.cache/spiketrack`.
 */
export function syntheticCacheDir(): string {
  const env = process.env;
  if (env.SPIKETRACK_CACHE) return env.SPIKETRACK_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'spiketrack');
}

/** Options of {@link ensureSyntheticSuite}. */
export interface EnsureSuiteOptions {
  /** The suite (default {@link SYNTHETIC_V1}). */
  readonly suite?: SyntheticSuite;
  /** The suite's folder (default `<syntheticCacheDir()>/<suite.name>`). */
  readonly dir?: string;
  /** JPEG quality (default 90). */
  readonly quality?: number;
  /** Progress: frames written so far of all the suite's frames, and the sequence being written. */
  readonly onProgress?: (done: number, total: number, sequence: string) => void;
}

/** What {@link ensureSyntheticSuite} found or made. */
export interface SuiteLocation {
  /** The suite's folder (the GOT-10k-style dataset root). */
  readonly dir: string;
  /** The sequence names, as in `list.txt`. */
  readonly sequences: string[];
  /** False when the folder was already complete and nothing was written. */
  readonly generated: boolean;
}

interface CompleteMarker {
  readonly generator: number;
  readonly suite: SyntheticSuite;
  readonly sequences: string[];
}

const MARKER = '.complete';

/**
 * Makes sure the suite exists in `dir`: if its `.complete` marker matches this suite and
 * generator version, nothing is done; otherwise the missing sequences are generated, then `list.txt`, then
 * the marker. A sequence folder left by an interrupted run is kept when its `meta_info.ini`
 * matches.
 */
export async function ensureSyntheticSuite(options: EnsureSuiteOptions = {}): Promise<SuiteLocation> {
  const suite = options.suite ?? SYNTHETIC_V1;
  const dir = options.dir ?? join(syntheticCacheDir(), suite.name);
  const sequences = syntheticSuiteSequences(suite);
  const names = sequences.map((s) => s.name as string);
  const marker: CompleteMarker = {
    generator: SYNTHETIC_GENERATOR_VERSION,
    suite: { ...suite },
    sequences: names,
  };
  const markerText = `${JSON.stringify(marker, null, 1)}\n`;
  const existing = await readFile(join(dir, MARKER), 'utf8').catch(() => null);
  if (existing === markerText) return { dir, sequences: names, generated: false };

  await mkdir(dir, { recursive: true });
  // A marker of another version or suite: sequences are kept only where meta_info.ini matches.
  if (existing !== null) await rm(join(dir, MARKER), { force: true });
  const total = suite.sequences * suite.frames;
  let done = 0;
  for (const s of sequences) {
    const name = s.name as string;
    const seq = new SyntheticSequence(s);
    const whole = await isWholeSequence(join(dir, name), seq);
    if (!whole) {
      await writeSyntheticSequence(seq, dir, {
        ...(options.quality === undefined ? {} : { quality: options.quality }),
        onFrame: (_f, i) => options.onProgress?.(done + i, total, name),
      });
    }
    done += suite.frames;
    options.onProgress?.(done, total, name);
  }
  await writeFile(join(dir, 'list.txt'), `${names.join('\n')}\n`);
  await writeFile(join(dir, MARKER), markerText);
  return { dir, sequences: names, generated: true };
}

/**
 * Whether a folder holds this very sequence, completed: the same `meta_info.ini` (generator
 * version and options) and one ground-truth line per frame.
 */
async function isWholeSequence(folder: string, seq: SyntheticSequence): Promise<boolean> {
  try {
    if ((await readFile(join(folder, 'meta_info.ini'), 'utf8')) !== metaInfo(seq)) return false;
    const gt = await readFile(join(folder, 'groundtruth.txt'), 'utf8');
    return gt.trim().split('\n').length === seq.length;
  } catch {
    return false;
  }
}
