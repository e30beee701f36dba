import {
  type AnyModule,
  type LoadReport,
  readWeights,
  refreshExactConstants,
  type StateDictLayout,
  type WeightFileContents,
} from '@spiketrack/neurons';
import { type CheckpointSource, readCheckpointBytes } from './source';

/** Options of {@link readCheckpoint}. */
export interface ReadCheckpointOptions {
  /**
   * Where the state dict is inside a torch checkpoint (default: `net`, `state_dict` or `model`,
   * whichever the file has, else the top level), e.g. `'net'` of a trainer checkpoint.
   */
  stateDictKey?: string | readonly string[] | null;
  /** The name used in error messages (default: the path or URL). */
  source?: string;
}

/** What {@link readCheckpoint} returns: the file's tensors (owned by the caller) and what it says of them. */
export interface CheckpointContents extends WeightFileContents {
  /** The layout of the tensors: `'native'` for files saved so, else `'torch'`. */
  layout: StateDictLayout;
  /** The name used in error messages. */
  source: string;
}

/**
 * Reads a checkpoint: a `torch.save` zip (`.pth.tar`, official or a trainer's full checkpoint,
 * through the safe reader: no pickle code runs, unknown classes stay inert) or a `.safetensors`
 * file, from a path (Node), a URL or bytes. The tensors are the caller's to dispose.
 */
export async function readCheckpoint(
  src: CheckpointSource,
  opts: ReadCheckpointOptions = {},
): Promise<CheckpointContents> {
  const { bytes, source: name } = await readCheckpointBytes(src);
  const source = opts.source ?? name;
  const contents = readWeights(bytes, {
    source,
    ...(opts.stateDictKey === undefined ? {} : { stateDictKey: opts.stateDictKey }),
  });
  const layout: StateDictLayout = contents.metadata['spiketrack.layout'] === 'native' ? 'native' : 'torch';
  return { ...contents, layout, source };
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions extends ReadCheckpointOptions {
  /** Strict loading (default true); with `false`, missing and unexpected keys are only reported. */
  strict?: boolean;
}

/**
 * Loads a checkpoint ({@link readCheckpoint}) into any module whose state-dict keys are the
 * file's (for example a `CenterPredictor` from a trainer checkpoint's `net`), then makes its
 * BatchNorm constants exact. Returns the load report; the file's tensors are released.
 */
export async function loadCheckpoint(
  module: AnyModule,
  src: CheckpointSource,
  opts: LoadCheckpointOptions = {},
): Promise<LoadReport> {
  const c = await readCheckpoint(src, opts);
  try {
    const report = module.loadStateDict(c.tensors, {
      strict: opts.strict ?? true,
      layout: c.layout,
      source: c.source,
    });
    await refreshExactConstants(module);
    return report;
  } finally {
    for (const t of c.tensors.values()) t.dispose();
  }
}
