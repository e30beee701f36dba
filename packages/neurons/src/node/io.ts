/**
 * Node-only weight file helpers: read a safetensors file or a `torch.save` checkpoint from disk
 * (the format is detected from the content, not the name), and write safetensors files.
 */
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../core/errors';
import { readWeights, type WeightFileContents } from '../io/format';
import { writeSafetensors, type WriteSafetensorsOptions } from '../io/safetensors';
import {
  readTorchPickle,
  type TorchCheckpointOptions,
  type TorchPickle,
  type TorchPickleOptions,
} from '../io/torch';

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new CheckpointError(`cannot read '${path}': ${(e as Error).message}`);
  }
}

/**
 * Reads the tensors of a weight file: safetensors, or a `torch.save` zip checkpoint (whose state
 * dict is found as in `readTorchCheckpoint`; no pickle code runs). Errors name `path`. The
 * tensors belong to the caller; checkpoint tensors are in torch layout.
 */
export async function readTensorFile(
  path: string,
  opts: Omit<TorchCheckpointOptions, 'source'> = {},
): Promise<WeightFileContents> {
  return readWeights(await readBytes(path), { ...opts, source: path });
}

/**
 * Reads the whole object of a `torch.save` zip checkpoint (e.g. a trainer checkpoint with its
 * optimizer state), with tensors as `TorchTensorRef`s and unknown classes as inert placeholders.
 */
export async function readTorchPickleFile(
  path: string,
  opts: Omit<TorchPickleOptions, 'source'> = {},
): Promise<TorchPickle> {
  return readTorchPickle(await readBytes(path), { ...opts, source: path });
}

/**
 * Writes tensors as a safetensors file (see `writeSafetensors` for `metadata` and `dtypes`). The
 * file is written next to `path` and renamed into place, so a failed write leaves no partial file.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Map<string, tf.Tensor> | Record<string, tf.Tensor>,
  opts: WriteSafetensorsOptions = {},
): Promise<void> {
  const bytes = await writeSafetensors(tensors, opts);
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new CheckpointError(`cannot write '${path}': ${(e as Error).message}`);
  }
}
