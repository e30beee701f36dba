import { ConfigError } from '@spiketrack/neurons';

/**
 * The optional memory-access term: picojoules per byte moved, and the bytes of a weight, of a
 * real-valued activation and of a spike (an integer count, stored in one byte by default).
 */
export interface MemoryModel {
  name: string;
  /** Energy per byte read or written (pJ). */
  pjPerByte: number;
  /** Bytes per weight (default 4: float32). */
  weightBytes: number;
  /** Bytes per real-valued activation, read or written (default 4: float32). */
  activationBytes: number;
  /** Bytes per spike-count element read (default 1). */
  spikeBytes: number;
  source: string;
}

/** The names of the built-in memory presets. */
export type MemoryName = '45nm-sram-8kb' | '45nm-sram-32kb' | '45nm-sram-1mb' | '45nm-dram';

const HOROWITZ_MEMORY =
  'Horowitz, ISSCC 2014, 45 nm: a 64-bit access costs 10 pJ (8 kB SRAM), 20 pJ (32 kB), 100 pJ (1 MB), 1.3–2.6 nJ (DRAM, the lower bound here)';

const memoryPreset = (name: MemoryName, pjPer64Bits: number): Readonly<MemoryModel> =>
  Object.freeze({
    name,
    pjPerByte: pjPer64Bits / 8,
    weightBytes: 4,
    activationBytes: 4,
    spikeBytes: 1,
    source: HOROWITZ_MEMORY,
  });

/**
 * Memory-access presets at 45 nm (Horowitz, ISSCC 2014), per byte: 8 kB SRAM 1.25 pJ, 32 kB SRAM
 * 2.5 pJ, 1 MB SRAM 12.5 pJ, DRAM 162.5 pJ. Off unless passed to {@link energy}.
 */
export const MEMORY_MODELS: Readonly<Record<MemoryName, Readonly<MemoryModel>>> = Object.freeze({
  '45nm-sram-8kb': memoryPreset('45nm-sram-8kb', 10),
  '45nm-sram-32kb': memoryPreset('45nm-sram-32kb', 20),
  '45nm-sram-1mb': memoryPreset('45nm-sram-1mb', 100),
  '45nm-dram': memoryPreset('45nm-dram', 1300),
});

/** A memory model: a preset name, or `{ pjPerByte, … }` (byte sizes default to 4, 4 and 1). */
export type MemorySpec =
  | MemoryName
  | {
      pjPerByte: number;
      weightBytes?: number;
      activationBytes?: number;
      spikeBytes?: number;
      name?: string;
      source?: string;
    };

/** Resolves a {@link MemorySpec}; bad names or values throw a `ConfigError`. */
export function memoryModel(spec: MemorySpec): MemoryModel {
  if (typeof spec === 'string') {
    const m = (MEMORY_MODELS as Record<string, MemoryModel>)[spec];
    if (!m) {
      throw new ConfigError(
        `energy: unknown memory model '${spec}', expected one of ${Object.keys(MEMORY_MODELS).join(', ')} or { pjPerByte }`,
      );
    }
    return { ...m };
  }
  if (!spec || typeof spec !== 'object') {
    throw new ConfigError(`energy: memory must be a preset name or { pjPerByte, … }, got ${String(spec)}`);
  }
  const m: MemoryModel = {
    name: spec.name ?? `custom (${spec.pjPerByte} pJ/byte)`,
    pjPerByte: spec.pjPerByte,
    weightBytes: spec.weightBytes ?? 4,
    activationBytes: spec.activationBytes ?? 4,
    spikeBytes: spec.spikeBytes ?? 1,
    source: spec.source ?? 'user constants',
  };
  for (const k of ['pjPerByte', 'weightBytes', 'activationBytes', 'spikeBytes'] as const) {
    if (typeof m[k] !== 'number' || !Number.isFinite(m[k]) || m[k] < 0) {
      throw new ConfigError(`energy: memory ${k} must be a finite number ≥ 0, got ${String(m[k])}`);
    }
  }
  return m;
}
