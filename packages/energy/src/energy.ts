import { ConfigError } from '@spiketrack/neurons';
import { CONVENTIONS, type LayerOps, type OpReport } from './count';
import { type MemoryModel, type MemorySpec, memoryModel } from './memory';

/** Energy per operation of a process, in picojoules. */
export interface ProcessModel {
  /** A name for reports (`45nm-fp32`, or the user's). */
  name: string;
  /** Energy of one multiply-accumulate (pJ). */
  eMac: number;
  /** Energy of one accumulate (pJ). */
  eAc: number;
  /** Where the constants come from. */
  source: string;
}

/** The names of the built-in process presets. */
export type ProcessName = '45nm-fp32' | '45nm-fp16' | '45nm-int8' | '45nm-int32';

const HOROWITZ =
  'Horowitz, "Computing\'s energy problem (and what we can do about it)", ISSCC 2014, 45 nm; E_MAC = mult + add, E_AC = add';

/**
 * Energy per operation at 45 nm (Horowitz, ISSCC 2014). E_MAC is a multiply plus an add, E_AC an
 * add. `45nm-fp32` (4.6 pJ / 0.9 pJ) is the convention of SpikeTrack, SDT-V3 and SpikeYOLO, and
 * the default.
 */
export const PROCESS_MODELS: Readonly<Record<ProcessName, Readonly<ProcessModel>>> = Object.freeze({
  '45nm-fp32': Object.freeze({ name: '45nm-fp32', eMac: 4.6, eAc: 0.9, source: HOROWITZ }),
  '45nm-fp16': Object.freeze({ name: '45nm-fp16', eMac: 1.5, eAc: 0.4, source: HOROWITZ }),
  '45nm-int8': Object.freeze({ name: '45nm-int8', eMac: 0.23, eAc: 0.03, source: HOROWITZ }),
  '45nm-int32': Object.freeze({ name: '45nm-int32', eMac: 3.2, eAc: 0.1, source: HOROWITZ }),
});

/** A process: a preset name, or user constants (pJ per MAC and per AC). */
export type ProcessSpec = ProcessName | { eMac: number; eAc: number; name?: string; source?: string };

/** Resolves a {@link ProcessSpec} (default `45nm-fp32`); bad names or constants throw a `ConfigError`. */
export function processModel(spec: ProcessSpec = '45nm-fp32'): ProcessModel {
  if (typeof spec === 'string') {
    const p = (PROCESS_MODELS as Record<string, ProcessModel>)[spec];
    if (!p) {
      throw new ConfigError(
        `energy: unknown process '${spec}', expected one of ${Object.keys(PROCESS_MODELS).join(', ')} or { eMac, eAc } in pJ`,
      );
    }
    return { ...p };
  }
  if (!spec || typeof spec !== 'object') {
    throw new ConfigError(
      `energy: process must be a preset name or { eMac, eAc } in pJ, got ${String(spec)}`,
    );
  }
  for (const k of ['eMac', 'eAc'] as const) {
    const v = spec[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(`energy: process ${k} must be a finite number ≥ 0 (pJ), got ${String(v)}`);
    }
  }
  return {
    name: spec.name ?? `custom (E_MAC ${spec.eMac} pJ, E_AC ${spec.eAc} pJ)`,
    eMac: spec.eMac,
    eAc: spec.eAc,
    source: spec.source ?? 'user constants',
  };
}

/** Options of {@link energy}. */
export interface EnergyOptions {
  /**
   * Adds the memory-access term (off by default): every weight read once per call, every operand
   * element read once and every output written once (perfect on-chip reuse, so a lower bound),
   * at `pjPerByte`. Reported apart from the two conventions' totals.
   */
  memory?: MemorySpec;
}

/** Energy of one layer (pJ) in both conventions and as an ANN. */
export interface LayerEnergy {
  path: string;
  kind: LayerOps['kind'];
  calls: number;
  spiking: LayerOps['spiking'];
  inputRate: number | null;
  denseMacs: number;
  /** MACs charged at E_MAC (calls fed by non-spikes), in both conventions. */
  macs: number;
  /** ACs of the `exact` convention. */
  acs: number;
  /** ACs of the `paper` convention. */
  paperAcs: number;
  /** `E_MAC·macs + E_AC·acs` (pJ). */
  exact: number;
  /** `E_MAC·macs + E_AC·paperAcs` (pJ). */
  paper: number;
  /** `E_MAC·denseMacs` (pJ): the same layer in a non-spiking network. */
  ann: number;
  /** The memory-access term (pJ), or null when not asked for. */
  memory: number | null;
}

/** Totals of one convention. */
export interface ConventionEnergy {
  /** MACs charged at E_MAC. */
  macs: number;
  /** ACs charged at E_AC. */
  acs: number;
  /** `E_MAC · macs` (pJ). */
  macEnergy: number;
  /** `E_AC · acs` (pJ). */
  acEnergy: number;
  /** Total (pJ). */
  total: number;
  /** Total / ANN-equivalent total; null when the ANN equivalent is 0. */
  ratioToAnn: number | null;
}

/** What {@link energy} computes. Plain JSON; all energies in picojoules. */
export interface EnergyReport {
  unit: 'pJ';
  process: ProcessModel;
  layers: LayerEnergy[];
  /** Energy from the actual spikes. */
  exact: ConventionEnergy;
  /** Energy in the SpikeTrack / SDT-V3 / SpikeYOLO convention. */
  paper: ConventionEnergy;
  /** The same layers with every operation a MAC at E_MAC. */
  ann: { macs: number; total: number };
  /** The run's timesteps. */
  timesteps: number;
  /** What each convention counts. */
  conventions: { exact: string; paper: string };
  /** The memory-access term, separate from the totals above; null unless `opts.memory` was given. */
  memory: { model: MemoryModel; bytes: number; total: number } | null;
}

function convention(macs: number, acs: number, p: ProcessModel, ann: number): ConventionEnergy {
  const macEnergy = p.eMac * macs;
  const acEnergy = p.eAc * acs;
  const total = macEnergy + acEnergy;
  return { macs, acs, macEnergy, acEnergy, total, ratioToAnn: ann > 0 ? total / ann : null };
}

/**
 * Energy of a counted run: `E = E_MAC · MACs (non-spiking inputs) + E_AC · ACs (spiking inputs)`,
 * per layer and in total, in both conventions of the {@link OpReport} (`exact`: ACs from the actual
 * spikes; `paper`: dense MACs × mean input spike count), with the ANN equivalent (every dense MAC at
 * E_MAC) and the SNN/ANN ratio. `process` is a preset (default `45nm-fp32`) or `{ eMac, eAc }` in pJ.
 */
export function energy(
  report: OpReport,
  process: ProcessSpec = '45nm-fp32',
  opts: EnergyOptions = {},
): EnergyReport {
  if (!report || !Array.isArray(report.layers)) {
    throw new ConfigError('energy: expected the OpReport that countOps (or OpCounter.report) returns');
  }
  const p = processModel(process);
  const mem = opts.memory === undefined ? null : memoryModel(opts.memory);
  const bytesOf = (l: LayerOps): number => {
    const t = l.traffic;
    if (!mem || !t) return 0;
    return (
      t.weights * mem.weightBytes + t.spikes * mem.spikeBytes + (t.values + t.outputs) * mem.activationBytes
    );
  };
  const layers: LayerEnergy[] = report.layers.map((l) => ({
    path: l.path,
    kind: l.kind,
    calls: l.calls,
    spiking: l.spiking,
    inputRate: l.inputRate,
    denseMacs: l.denseMacs,
    macs: l.macs,
    acs: l.acs,
    paperAcs: l.paperAcs,
    exact: p.eMac * l.macs + p.eAc * l.acs,
    paper: p.eMac * l.macs + p.eAc * l.paperAcs,
    ann: p.eMac * l.denseMacs,
    memory: mem ? mem.pjPerByte * bytesOf(l) : null,
  }));
  const bytes = report.layers.reduce((a, l) => a + bytesOf(l), 0);
  let dense = 0;
  let macs = 0;
  let acs = 0;
  let paperAcs = 0;
  for (const l of report.layers) {
    dense += l.denseMacs;
    macs += l.macs;
    acs += l.acs;
    paperAcs += l.paperAcs;
  }
  const ann = p.eMac * dense;
  return {
    unit: 'pJ',
    process: p,
    layers,
    exact: convention(macs, acs, p, ann),
    paper: convention(macs, paperAcs, p, ann),
    ann: { macs: dense, total: ann },
    timesteps: report.timesteps,
    conventions: { ...(report.conventions ?? CONVENTIONS) },
    memory: mem ? { model: mem, bytes, total: mem.pjPerByte * bytes } : null,
  };
}
