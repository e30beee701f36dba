import {
  CONVENTIONS,
  type CountOpsOptions,
  energy,
  type LayerOps,
  type MemoryModel,
  type MemorySpec,
  memoryModel,
  OpCounter,
  type OpReport,
  type ProcessModel,
  type ProcessSpec,
  processModel,
} from '@spiketrack/energy';
import { ConfigError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import type { HeadOutput } from '../head/center-predictor';
import type { TemplateCache } from '../model/template-cache';
import type { TemplateInput, TemplateState, TrackingNetwork } from '../model/tracking-network';
import { TRACKER_STAGES, type TrackerStage, trackerStageOf } from './stages';

/** Energies of one part in pJ: both conventions and the ANN equivalent. */
export interface TrackerEnergies {
  /** From the actual spikes (`exact` convention). */
  exact: number;
  /** SpikeTrack / SDT-V3 / SpikeYOLO convention (`paper`). */
  paper: number;
  /** The same layers with every operation a MAC. */
  ann: number;
}

/** One layer of a branch, per run of the branch (per frame, or per rebuild of the template cache). */
export interface TrackerLayerEnergy {
  /** The recorded path (`encoder.block3.0.attn.q_conv.0`, `encoder.block3.0.attn.kv`, …). */
  path: string;
  kind: LayerOps['kind'];
  stage: TrackerStage;
  /** Calls per run. */
  calls: number;
  /** Whether its input was spikes (`'mixed'`: in some calls). */
  spiking: LayerOps['spiking'];
  /** Mean integer spike count per input element and time step, over all measured runs; null when real-valued. */
  input_rate: number | null;
  dense_macs: number;
  /** MACs charged at E_MAC (inputs that are not spikes). */
  macs: number;
  /** ACs from the actual spikes. */
  acs: number;
  /** ACs in the paper convention. */
  paper_acs: number;
  /** pJ per run. */
  energy: TrackerEnergies;
  /** The memory-access term (pJ per run), or null when not asked for. */
  memory: number | null;
}

/** One branch of the tracker, per run, averaged over the measured runs. */
export interface TrackerBranchEnergy {
  /** How many runs were measured (frames, or template rebuilds). */
  runs: number;
  dense_macs: number;
  macs: number;
  acs: number;
  paper_acs: number;
  /** pJ per run. */
  energy: TrackerEnergies;
  /** The memory-access term (pJ per run), or null when not asked for. */
  memory: number | null;
  layers: TrackerLayerEnergy[];
}

/** Energy of one stage per frame: the search branch, and the template branch amortized over the interval. */
export interface TrackerStageEnergy {
  stage: TrackerStage;
  search: TrackerEnergies;
  template_per_frame: TrackerEnergies;
}

/**
 * What {@link TrackerOpCounter.report} and {@link trackerEnergy} return: the tracker's energy per
 * frame. Plain JSON (field names as in `spiketrack energy --json`); energies in pJ, counts in
 * operations.
 */
export interface TrackerEnergyReport {
  unit: 'pJ';
  /** The model's configuration name (null for a custom one). */
  config: string | null;
  /** T, the number of templates, and R, the crop size. */
  templates: number;
  resolution: number;
  process: ProcessModel;
  /** Frames between two rebuilds of the template cache. */
  interval: number;
  /** The search path of one frame: the backbone on the search crop (T = 1), the six MRMs (the query repeated T times) and the head. */
  search: TrackerBranchEnergy;
  /** One rebuild of the whole template cache: the backbone on all T templates and the MRMs' `kᵀ·v` memories. */
  template: TrackerBranchEnergy;
  /** The first layer (the stem conv on real pixels): MACs of one search frame, and of one rebuild (T templates). */
  first_layer: { path: string | null; dense_macs: number; template_dense_macs: number };
  /** Per frame: search + template / interval. */
  per_frame: {
    dense_macs: number;
    search: TrackerEnergies;
    template: TrackerEnergies;
    total: TrackerEnergies;
    /** SNN / ANN energy of the total, per convention (null when the ANN energy is 0). */
    ratio_to_ann: { exact: number | null; paper: number | null };
    /** The memory-access term per frame (pJ; search + template / interval), apart from the totals; null when off. */
    memory: { search: number; template: number; total: number } | null;
  };
  /** The memory model of the memory-access term, or null (off, the default). */
  memory_model: MemoryModel | null;
  /** Energy per stage and frame, in the order of {@link TRACKER_STAGES} (stages with no layer left out). */
  stages: TrackerStageEnergy[];
  /** What the conventions count. */
  conventions: { exact: string; paper: string };
  /** Remarks for the reader (e.g. that random weights make firing rates meaningless). */
  notes: string[];
}

/** Options of {@link TrackerOpCounter.report} and {@link trackerEnergy}. */
export interface TrackerEnergyOptions {
  /** Frames between two rebuilds of the template cache (default 25); the template branch is divided by it. */
  interval?: number;
  /** E_MAC / E_AC: a preset (default `45nm-fp32`) or `{ eMac, eAc }` in pJ. */
  process?: ProcessSpec;
  /** Notes to carry into the report. */
  notes?: readonly string[];
  /** Adds the memory-access term (off by default; see `energy` of `@spiketrack/energy`), reported apart. */
  memory?: MemorySpec;
}

function checkInterval(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 1) {
    throw new ConfigError(`trackerEnergy: interval must be a number of frames ≥ 1, got ${String(v)}`);
  }
  return v;
}

const zero = (): TrackerEnergies => ({ exact: 0, paper: 0, ann: 0 });
const addInto = (a: TrackerEnergies, b: TrackerEnergies, f = 1): void => {
  a.exact += b.exact * f;
  a.paper += b.paper * f;
  a.ann += b.ann * f;
};

/** An {@link OpReport} of `runs` runs as one branch per run. */
function branch(
  report: OpReport,
  runs: number,
  p: ProcessModel,
  memory: MemoryModel | null,
): TrackerBranchEnergy {
  const e = energy(report, p, memory ? { memory } : {});
  const d = Math.max(runs, 1);
  const layers = report.layers.map((l, i): TrackerLayerEnergy => {
    const le = e.layers[i]!;
    return {
      path: l.path,
      kind: l.kind,
      stage: trackerStageOf(l.path),
      calls: l.calls / d,
      spiking: l.spiking,
      input_rate: l.inputRate,
      dense_macs: l.denseMacs / d,
      macs: l.macs / d,
      acs: l.acs / d,
      paper_acs: l.paperAcs / d,
      energy: { exact: le.exact / d, paper: le.paper / d, ann: le.ann / d },
      memory: le.memory === null ? null : le.memory / d,
    };
  });
  return {
    runs,
    dense_macs: report.totals.denseMacs / d,
    macs: report.totals.macs / d,
    acs: report.totals.acs / d,
    paper_acs: report.totals.paperAcs / d,
    energy: { exact: e.exact.total / d, paper: e.paper.total / d, ann: e.ann.total / d },
    memory: e.memory ? e.memory.total / d : null,
    layers,
  };
}

/**
 * Counts the tracker's two branches separately on a `SpikeTrackModel` (or any
 * {@link TrackingNetwork}; stages are read from its layer paths as on SpikeTrack's): every template
 * rebuild ({@link encodeTemplates}, the reference's `sdtv3_temp_inference`) and every frame
 * ({@link trackFrame}, `sdtv3_search_inference` + the head), then reports the energy per frame:
 * the search path plus the template branch amortized over the update interval.
 *
 * It uses two `OpCounter`s of `@spiketrack/energy` (hooks on the model's neurons, an operation
 * recorder while a branch runs). {@link dispose} removes them; the model then runs as before.
 *
 * ```ts
 * const meter = new TrackerOpCounter(model);
 * const cache = await meter.encodeTemplates(templates);
 * for (const frame of frames) tf.dispose(await meter.trackFrame(frame, cache));
 * const report = await meter.report({ interval: 25 });
 * meter.dispose();
 * ```
 */
export class TrackerOpCounter<C extends TemplateState = TemplateCache> {
  private readonly templateCounter: OpCounter;
  private readonly searchCounter: OpCounter;
  private rebuilds = 0;
  private frames = 0;
  private restore: (() => void) | null = null;

  constructor(
    readonly model: TrackingNetwork<C>,
    opts: CountOpsOptions = {},
  ) {
    this.templateCounter = new OpCounter(model, opts);
    try {
      this.searchCounter = new OpCounter(model, opts);
    } catch (e) {
      this.templateCounter.dispose();
      throw e;
    }
  }

  /**
   * Counts every `encodeTemplates` and `trackFrame` call on the model from now on, whoever makes it
   * (a `Tracker` running over a sequence, for example), until {@link dispose}: the two methods are
   * wrapped on the model instance (the branch's counter records during each call) and restored by
   * {@link dispose}. Returns this.
   */
  instrument(): this {
    if (this.restore) return this;
    const model = this.model;
    const encode = model.encodeTemplates;
    const track = model.trackFrame;
    const counted = <A extends unknown[], R>(
      fn: (this: TrackingNetwork<C>, ...a: A) => R,
      counter: OpCounter,
      done: () => void,
    ) =>
      function (this: TrackingNetwork<C>, ...a: A): R {
        counter.start();
        try {
          const r = fn.apply(this, a);
          done();
          return r;
        } finally {
          counter.stop();
        }
      };
    model.encodeTemplates = counted(encode, this.templateCounter, () => {
      this.rebuilds += 1;
    });
    model.trackFrame = counted(track, this.searchCounter, () => {
      this.frames += 1;
    });
    this.restore = () => {
      const own = model as unknown as Record<string, unknown>;
      delete own.encodeTemplates;
      delete own.trackFrame;
    };
    return this;
  }

  /** Runs `model.encodeTemplates(templates)` while counting the template branch; the caller owns the cache. */
  async encodeTemplates(templates: TemplateInput): Promise<C> {
    if (this.restore) return this.model.encodeTemplates(templates);
    const cache = await this.templateCounter.measure(() => this.model.encodeTemplates(templates));
    this.rebuilds += 1;
    return cache;
  }

  /** Runs `model.trackFrame(search, cache)` while counting the search branch; the caller owns the output. */
  async trackFrame(search: tf.Tensor, cache: C): Promise<HeadOutput> {
    if (this.restore) return this.model.trackFrame(search, cache);
    const out = await this.searchCounter.measure(() => this.model.trackFrame(search, cache));
    this.frames += 1;
    return out;
  }

  /** Template rebuilds and frames counted so far. */
  get counts(): { rebuilds: number; frames: number } {
    return { rebuilds: this.rebuilds, frames: this.frames };
  }

  /** The raw per-branch counts (sums over all rebuilds and frames), as `countOps` reports them. */
  async opReports(): Promise<{ template: OpReport; search: OpReport }> {
    return { template: await this.templateCounter.report(), search: await this.searchCounter.report() };
  }

  /**
   * The energy per frame: the search branch (averaged over the counted frames; firing rates are
   * element-weighted means over all frames), plus one rebuild of the template cache (averaged over
   * the counted rebuilds) divided by `interval`. Needs at least one rebuild and one frame.
   */
  async report(opts: TrackerEnergyOptions = {}): Promise<TrackerEnergyReport> {
    const interval = checkInterval(opts.interval ?? 25);
    const p = processModel(opts.process);
    const mem = opts.memory === undefined ? null : memoryModel(opts.memory);
    if (this.rebuilds === 0 || this.frames === 0) {
      throw new ConfigError(
        `TrackerOpCounter: report needs at least one template rebuild and one frame, got ${this.rebuilds} and ${this.frames}`,
      );
    }
    const raw = await this.opReports();
    const search = branch(raw.search, this.frames, p, mem);
    const template = branch(raw.template, this.rebuilds, p, mem);
    const tpf = zero();
    addInto(tpf, template.energy, 1 / interval);
    const total = zero();
    addInto(total, search.energy);
    addInto(total, tpf);
    const ratio = (v: number) => (total.ann > 0 ? v / total.ann : null);

    const byStage = new Map<TrackerStage, TrackerStageEnergy>();
    const stageOf = (s: TrackerStage) => {
      let e = byStage.get(s);
      if (!e) {
        e = { stage: s, search: zero(), template_per_frame: zero() };
        byStage.set(s, e);
      }
      return e;
    };
    for (const l of search.layers) addInto(stageOf(l.stage).search, l.energy);
    for (const l of template.layers) addInto(stageOf(l.stage).template_per_frame, l.energy, 1 / interval);
    const order: TrackerStage[] = [...TRACKER_STAGES, 'other'];
    const stages = order.flatMap((s) => byStage.get(s) ?? []);

    const first = search.layers[0] ?? null;
    const firstTemplate = first ? template.layers.find((l) => l.path === first.path) : undefined;
    const config = this.model.config;
    return {
      unit: 'pJ',
      config: config.name ?? null,
      templates: config.templates,
      resolution: config.resolution,
      process: p,
      interval,
      search,
      template,
      first_layer: {
        path: first?.path ?? null,
        dense_macs: first?.dense_macs ?? 0,
        template_dense_macs: firstTemplate?.dense_macs ?? 0,
      },
      per_frame: {
        dense_macs: search.dense_macs + template.dense_macs / interval,
        search: search.energy,
        template: tpf,
        total,
        ratio_to_ann: { exact: ratio(total.exact), paper: ratio(total.paper) },
        memory:
          search.memory === null || template.memory === null
            ? null
            : {
                search: search.memory,
                template: template.memory / interval,
                total: search.memory + template.memory / interval,
              },
      },
      memory_model: mem,
      stages,
      conventions: { ...CONVENTIONS },
      notes: [...(opts.notes ?? [])],
    };
  }

  /** Removes the counters' hooks (and the wrappers of {@link instrument}) and releases what they hold. Idempotent. */
  dispose(): void {
    this.restore?.();
    this.restore = null;
    this.templateCounter.dispose();
    this.searchCounter.dispose();
  }
}

/** The inputs of {@link trackerEnergy}. */
export interface TrackerEnergyInputs extends TrackerEnergyOptions {
  /** The T templates (as `SpikeTrackModel.encodeTemplates` takes them). */
  templates: TemplateInput;
  /** One search crop `[B, R, R, 3]`, or several frames (energy and firing rates are averaged over them). */
  search: tf.Tensor | readonly tf.Tensor[];
  /** Options of the counters (spike scales, per-layer overrides). */
  count?: CountOpsOptions;
}

/**
 * The tracker's energy per frame on real forward passes: builds the template cache once from
 * `templates` (counting the template branch), runs the search branch and the head on each search
 * crop (counting it), and reports the search path per frame plus the template branch amortized
 * over `interval` frames, both parts and the total, per layer and per stage, in both conventions.
 * Nothing is kept: every tensor the runs make is disposed.
 */
export async function trackerEnergy<C extends TemplateState>(
  model: TrackingNetwork<C>,
  inputs: TrackerEnergyInputs,
): Promise<TrackerEnergyReport> {
  if (!inputs || typeof inputs !== 'object') {
    throw new ConfigError('trackerEnergy: expected { templates, search, interval?, process? }');
  }
  const frames = Array.isArray(inputs.search) ? inputs.search : [inputs.search as tf.Tensor];
  if (frames.length === 0) throw new ConfigError('trackerEnergy: search holds no frame');
  checkInterval(inputs.interval ?? 25);
  processModel(inputs.process);
  if (inputs.memory !== undefined) memoryModel(inputs.memory);
  const meter = new TrackerOpCounter(model, inputs.count);
  let cache: C | null = null;
  try {
    cache = await meter.encodeTemplates(inputs.templates);
    for (const f of frames) {
      const out = await meter.trackFrame(f, cache);
      tf.dispose(out as unknown as tf.TensorContainer);
    }
    return await meter.report(inputs);
  } finally {
    cache?.dispose();
    meter.dispose();
  }
}
