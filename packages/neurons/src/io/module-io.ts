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
  /**
   * How float32 tensors are stored: `'F32'` (default), or `'F16'` / `'BF16'` to halve the file
   * (loading reads them back as float32; values are rounded to the nearest half / bfloat16).
   */
  floatDtype?: 'F32' | 'F16' | 'BF16';
}

/** Serializes a module's state dict as safetensors bytes. */
export async function saveModuleSafetensors(
  module: AnyModule,
  opts: SaveModuleOptions = {},
): Promise<Uint8Array> {
  const layout = opts.layout ?? 'torch';
  const sd = module.stateDict({ layout });
  try {
    const dtypes = new Map<string, 'I64' | 'F16' | 'BF16'>();
    const floatDtype = opts.floatDtype ?? 'F32';
    if (floatDtype !== 'F32') {
      for (const [k, t] of sd) if (t.dtype === 'float32') dtypes.set(k, floatDtype);
    }
    if (layout === 'torch') for (const k of module.stateTorchDtypes().keys()) dtypes.set(k, 'I64');
    return await writeSafetensors(sd, {
      metadata: { ...opts.metadata, 'spiketrack.layout': layout },
      dtypes,
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
