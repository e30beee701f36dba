import type { AnyModule, StateDictLayout } from '../core/module';
import { readSafetensors, writeSafetensors } from './safetensors';

/** Options of {@link saveModuleSafetensors}. */
export interface SaveModuleOptions {
  /**
   * `torch` (default): PyTorch names and layouts, with torch's int64 buffers written as I64, so
   * `safetensors.torch.load_file` + `load_state_dict` reads the file. `native`: our NHWC layouts.
   */
  layout?: StateDictLayout;
  /** Extra `__metadata__` pairs. The layout is always recorded as `spiketrack.layout`. */
  metadata?: Record<string, string>;
}

/** Serializes a module's state dict as safetensors bytes. */
export async function saveModuleSafetensors(
  module: AnyModule,
  opts: SaveModuleOptions = {},
): Promise<Uint8Array> {
  const layout = opts.layout ?? 'torch';
  const sd = module.stateDict({ layout });
  try {
    const dtypes = new Map([...module.stateTorchDtypes()].map(([k]) => [k, 'I64' as const]));
    return await writeSafetensors(sd, {
      metadata: { ...opts.metadata, 'spiketrack.layout': layout },
      ...(layout === 'torch' ? { dtypes } : {}),
    });
  } finally {
    for (const t of sd.values()) t.dispose();
  }
}

/**
 * Loads safetensors bytes into a module. The layout comes from the file's `spiketrack.layout`
 * metadata when present (files written by {@link saveModuleSafetensors}), else torch.
 */
export function loadModuleSafetensors(
  module: AnyModule,
  bytes: Uint8Array,
  opts: { strict?: boolean; source?: string } = {},
) {
  const { tensors, metadata } = readSafetensors(bytes, opts.source ? { source: opts.source } : {});
  try {
    const layout = metadata['spiketrack.layout'] === 'native' ? 'native' : 'torch';
    return module.loadStateDict(tensors, {
      layout,
      strict: opts.strict ?? true,
      ...(opts.source ? { source: opts.source } : {}),
    });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
