/**
 * Format detection by content and a single entry point for weight files (browser-safe).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../core/errors';
import { readSafetensors } from './safetensors';
import { isLegacyTorchFile, isTar, readTorchCheckpoint, type TorchCheckpointOptions } from './torch';
import { isZip } from './zip';

/** What a weight file is, judged by its first bytes. */
export type WeightFormat = 'safetensors' | 'torch-zip' | 'torch-legacy' | 'tar' | 'unknown';

/** Detects the format of a weight file from its content (magic numbers), not its name. */
export function detectWeightFormat(bytes: Uint8Array): WeightFormat {
  if (isZip(bytes)) return 'torch-zip';
  if (isLegacyTorchFile(bytes)) return 'torch-legacy';
  if (isTar(bytes)) return 'tar';
  if (bytes.length >= 10) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
    if (n >= 2 && n <= bytes.length - 8 && bytes[8] === 0x7b) return 'safetensors';
  }
  return 'unknown';
}

/** The result of {@link readWeights}. */
export interface WeightFileContents {
  format: 'safetensors' | 'torch';
  /** The tensors (torch layout for checkpoints); the caller owns them. */
  tensors: Map<string, tf.Tensor>;
  /** safetensors `__metadata__` (empty for torch checkpoints). */
  metadata: Record<string, string>;
  /** For torch checkpoints: the whole unpickled object (see `readTorchPickle`). */
  root?: unknown;
}

/**
 * Reads a safetensors file or a `torch.save` zip checkpoint, whichever `bytes` are, into tfjs
 * tensors. Torch options (`stateDictKey`, `unknownGlobals`) apply to checkpoints only.
 */
export function readWeights(bytes: Uint8Array, opts: TorchCheckpointOptions = {}): WeightFileContents {
  const format = detectWeightFormat(bytes);
  switch (format) {
    case 'safetensors': {
      const r = readSafetensors(bytes, opts.source ? { source: opts.source } : {});
      return { format: 'safetensors', tensors: r.tensors, metadata: r.metadata };
    }
    case 'torch-zip':
    case 'torch-legacy':
    case 'tar': {
      // the torch reader explains legacy and tar files in its error
      const r = readTorchCheckpoint(bytes, opts);
      return { format: 'torch', tensors: r.tensors, metadata: {}, root: r.root };
    }
    default: {
      const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new CheckpointError(
        `${opts.source ? `'${opts.source}'` : 'weight data'}: neither safetensors nor a torch.save zip archive (first bytes ${head || 'none'})`,
      );
    }
  }
}
