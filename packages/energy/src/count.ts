import {
  type AnyModule,
  ConfigError,
  isSpikeSource,
  Module,
  type OpKind,
  type OpRecord,
  type OpRecorder,
  type SpikeSource,
  startOpRecorder,
} from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { type OpGeometry, opGeometry } from './geometry';

/**
 * How values of a tensor map to integer spike counts: `count = value × scale`, an integer in
 * `[0, maxCount]`. NI-LIF (normalized, D = 4): `{ scale: 4, maxCount: 4 }`; I-LIF (integer counts):
 * `{ scale: 1, maxCount: D }`; binary neurons: `{ scale: 1, maxCount: 1 }`.
 */
export interface SpikeScale {
  scale: number;
  maxCount: number;
}

/**
 * A per-layer decision about whether an operand is spikes: `false` charges it as real-valued (MACs),
 * `true` treats it as spikes with the scale that its origin or its values give (an error at report
 * time if neither gives one), a number treats it as spikes with that count scale
 * (`count = value × scale`) without looking at the values.
 */
export type SpikeDecision = boolean | number;

/** A layer's override: one decision for its input, or one per matmul operand. */
export type SpikeOverride = SpikeDecision | { input?: SpikeDecision; other?: SpikeDecision };

/** Options of {@link countOps} and {@link OpCounter}. */
export interface CountOpsOptions {
  /**
   * Quantization levels D of integer spikes: adds the scales `{ scale: D, maxCount: D }` (normalized,
   * NI-LIF) and `{ scale: 1, maxCount: D }` (integer counts) to the candidates.
   */
  levels?: number;
  /**
   * The candidate spike scales, tried in this order on an operand whose origin is unknown. Default:
   * the distinct `(spikeCountScale, maxSpikesPerStep)` of the {@link SpikeSource} modules in the tree
   * (plus those of `levels`), sorted by scale then maxCount; `[{ scale: 1, maxCount: 1 }]` (binary)
   * when there are none.
   */
  spikeScales?: SpikeScale[];
  /** Per-layer overrides, by recorded path (e.g. `{ 'stem.0': false, 'attn.kv': { other: 4 } }`). */
  inputs?: Record<string, SpikeOverride>;
  /**
   * Timesteps T, for operations whose input does not come from a spike source of the tree. Default:
   * the largest multi-step length any spike source of the tree produced during the run (1 if none).
   */
  timesteps?: number;
  /** Tolerance on `value × scale` being an integer in `[0, maxCount]` (default 1e-4). */
  tolerance?: number;
}

/** How an operand was found to be spikes (or not). */
export type SpikeDetection = 'override' | 'source' | 'values';

/** Counts of one layer (one recorded path), summed over its calls. */
export interface LayerOps {
  /** The recorded path (module path, or a functional product's label). */
  path: string;
  kind: OpKind;
  /** How many times it ran. */
  calls: number;
  /** Timesteps of its input (the largest over its calls). */
  timesteps: number;
  /** Multiply-accumulates of the dense operation over all calls (the ANN-equivalent cost). */
  denseMacs: number;
  /** Dense MACs of the calls whose input was not spikes: charged at E_MAC in both conventions. */
  macs: number;
  /**
   * Whether the input was spikes: in every call, in none, or in some (`'mixed'`). For a matmul:
   * whether either operand's spikes drove it (see {@link LayerOps.other} for the right operand).
   */
  spiking: boolean | 'mixed';
  /** Calls whose input was spikes. */
  spikingCalls: number;
  /** Synaptic operations counted from the actual spikes (`exact` convention). */
  acs: number;
  /** Synaptic operations in the paper convention: dense MACs × mean input spike count. */
  paperAcs: number;
  /**
   * Input firing rate: mean integer spike count per input element and time step, over the spiking
   * calls (for a matmul, of the operand whose spikes drive it); null when no call had spikes.
   */
  inputRate: number | null;
  /** Elements of the (left) input over all calls. */
  inputElements: number;
  /** The count scale of the spiking calls (`count = value × scale`; the first call's), or null. */
  countScale: number | null;
  /** How the (left) input was classified, in the first call. */
  detection: SpikeDetection;
  /** matmul only: the right operand. */
  other?: { spiking: boolean | 'mixed'; rate: number | null; countScale: number | null };
  /**
   * Elements the layer moves over all calls, for the optional memory term of {@link energy}: its
   * weights (once per call; 0 for a matmul), the operands it read as spikes and as real values, and
   * its outputs (written once).
   */
  traffic: LayerTraffic;
}

/** Elements a layer reads and writes (see {@link LayerOps.traffic}). */
export interface LayerTraffic {
  weights: number;
  spikes: number;
  values: number;
  outputs: number;
}

/** Totals over all layers. */
export interface OpTotals {
  calls: number;
  denseMacs: number;
  macs: number;
  acs: number;
  paperAcs: number;
}

/** What {@link countOps} measured. Plain JSON. */
export interface OpReport {
  /** One entry per recorded path, in the order of their first call. */
  layers: LayerOps[];
  totals: OpTotals;
  /** The run's timesteps (given, or the largest multi-step length of the tree's spike sources). */
  timesteps: number;
  /** The candidate spike scales that were tried on operands of unknown origin. */
  spikeScales: SpikeScale[];
  /** What each convention counts. */
  conventions: { exact: string; paper: string };
}

/** Descriptions of the two conventions, as stated in every report. */
export const CONVENTIONS = {
  exact:
    'exact: ACs counted from the actual spikes, Σ over input elements of spike count × the real fan-out of that element (borders, stride, padding, dilation, groups included); MACs for layers fed by non-spikes',
  paper:
    'paper (SpikeTrack / SDT-V3 / SpikeYOLO): ACs = dense MACs of the layer × mean input spike count per element and time step (over all T steps); MACs for the first layer and layers fed by non-spikes',
} as const;

interface Provenance {
  scale: SpikeScale;
  timesteps: number;
}

/** What is known at record time about one operand. */
type Known = { by: 'override'; scale: number | null } | { by: 'real' } | { by: 'source'; prov: Provenance };

interface Part {
  /** What was known at record time (null: decide from the values). */
  known: Known | null;
  /** Offsets into the call's kept vector: stats (min, max, frac per candidate scale) and the map. */
  statsAt: number;
  mapAt: number;
  mapSize: number;
  elements: number;
}

interface PendingCall {
  path: string;
  kind: OpKind;
  geometry: OpGeometry;
  a: Part;
  b: Part | null;
  /** Offset of the both-spiking product map (matmul only). */
  productAt: number;
  timesteps: number | null;
  weightElements: number;
  outputElements: number;
  kept: tf.Tensor1D;
}

interface Layer {
  path: string;
  kind: OpKind;
  calls: number;
  timesteps: number;
  denseMacs: number;
  macs: number;
  spikingCalls: number;
  acs: number;
  paperAcs: number;
  counts: number;
  countedElements: number;
  inputElements: number;
  countScale: number | null;
  detection: SpikeDetection | null;
  otherCalls: number;
  otherSpiking: number;
  otherCounts: number;
  otherElements: number;
  otherScale: number | null;
  traffic: LayerTraffic;
}

const count = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function checkScale(where: string, s: SpikeScale): SpikeScale {
  if (
    !s ||
    typeof s.scale !== 'number' ||
    !(s.scale > 0) ||
    !Number.isFinite(s.scale) ||
    !Number.isInteger(s.maxCount) ||
    s.maxCount < 1
  ) {
    throw new ConfigError(
      `${where}: a spike scale needs scale > 0 and an integer maxCount ≥ 1, got ${JSON.stringify(s)}`,
    );
  }
  return { scale: s.scale, maxCount: s.maxCount };
}

function checkDecision(where: string, path: string, d: unknown): SpikeDecision | undefined {
  if (d === undefined || typeof d === 'boolean') return d;
  if (typeof d === 'number' && d > 0 && Number.isFinite(d)) return d;
  throw new ConfigError(
    `${where}: inputs['${path}'] must be true, false or a count scale > 0 (or { input, other } of those), got ${JSON.stringify(d)}`,
  );
}

function spikesOf(output: unknown): tf.Tensor | null {
  if (output instanceof tf.Tensor) return output;
  if (output && typeof output === 'object' && (output as { spikes?: unknown }).spikes instanceof tf.Tensor) {
    return (output as { spikes: tf.Tensor }).spikes;
  }
  return null;
}

const dataIdOf = (t: tf.Tensor): object => (t as unknown as { dataId: object }).dataId;

/**
 * Counts the operations of a `Module` tree while it is active: it receives every `conv2d`,
 * `depthwiseConv2d`, `conv1d`, `linear` and `matmul` record of `@spiketrack/neurons` (see
 * `withOpRecorder`), and watches the tree's spike sources through forward hooks (to know which
 * tensors are spikes, their count scale and their timesteps).
 *
 * Per call it computes, on the device and inside the record, a few reductions of the operand
 * (min, max, distance to the spike grid, and its sum over batch and channels: a map of the size of
 * one feature plane), kept until {@link report} reads them, so counting never synchronizes the
 * forward pass. The fan-out weighting runs on the host in float64.
 *
 * {@link countOps} is the one-call form. Use the class to count over several runs (e.g. frames)
 * and read one report; {@link dispose} it when done.
 */
export class OpCounter implements OpRecorder {
  private readonly where = 'OpCounter';
  private readonly candidates: SpikeScale[];
  private readonly overrides = new Map<string, { input?: SpikeDecision; other?: SpikeDecision }>();
  private readonly tolerance: number;
  private readonly timestepsOpt: number | undefined;
  private readonly provenance = new WeakMap<object, Provenance>();
  private readonly removers: (() => void)[] = [];
  private stopRecording: (() => void) | null = null;
  private pending: PendingCall[] = [];
  private readonly layers = new Map<string, Layer>();
  private maxSourceSteps = 0;
  private disposed = false;

  constructor(root: AnyModule, opts: CountOpsOptions = {}) {
    const where = this.where;
    if (!(root instanceof Module)) {
      throw new ConfigError(`${where}: root must be a Module of @spiketrack/neurons, got ${String(root)}`);
    }
    const tol = opts.tolerance ?? 1e-4;
    if (!(tol >= 0) || !Number.isFinite(tol) || tol >= 0.5) {
      throw new ConfigError(`${where}: tolerance must be in [0, 0.5), got ${String(opts.tolerance)}`);
    }
    this.tolerance = tol;
    if (opts.timesteps !== undefined && !(Number.isInteger(opts.timesteps) && opts.timesteps >= 1)) {
      throw new ConfigError(`${where}: timesteps must be an integer ≥ 1, got ${String(opts.timesteps)}`);
    }
    this.timestepsOpt = opts.timesteps;
    if (
      opts.levels !== undefined &&
      !(typeof opts.levels === 'number' && Number.isInteger(opts.levels) && opts.levels >= 1)
    ) {
      throw new ConfigError(`${where}: levels must be an integer ≥ 1, got ${String(opts.levels)}`);
    }

    const sources: [string, SpikeSource & AnyModule][] = [];
    for (const [path, m] of root.namedModules()) if (isSpikeSource(m)) sources.push([path, m]);

    let scales: SpikeScale[];
    if (opts.spikeScales) {
      if (!Array.isArray(opts.spikeScales) || opts.spikeScales.length === 0) {
        throw new ConfigError(`${where}: spikeScales must be a non-empty array of { scale, maxCount }`);
      }
      scales = opts.spikeScales.map((s) => checkScale(where, s));
    } else {
      scales = sources.map(([, m]) => ({ scale: m.spikeCountScale, maxCount: m.maxSpikesPerStep }));
      if (opts.levels !== undefined) {
        scales.push({ scale: opts.levels, maxCount: opts.levels }, { scale: 1, maxCount: opts.levels });
      }
      scales = scales.filter((s) => s.scale > 0 && s.maxCount >= 1);
      if (scales.length === 0) scales.push({ scale: 1, maxCount: 1 });
      scales.sort((a, b) => a.scale - b.scale || a.maxCount - b.maxCount);
    }
    this.candidates = scales.filter(
      (s, i) => scales.findIndex((t) => t.scale === s.scale && t.maxCount === s.maxCount) === i,
    );

    for (const [path, o] of Object.entries(opts.inputs ?? {})) {
      if (o !== null && typeof o === 'object') {
        this.overrides.set(path, {
          input: checkDecision(where, path, o.input),
          other: checkDecision(where, path, o.other),
        });
      } else {
        this.overrides.set(path, { input: checkDecision(where, path, o) });
      }
    }

    for (const [, m] of sources) {
      this.removers.push(
        m.onForward((mod, _inputs, output) => {
          const spikes = spikesOf(output);
          if (!spikes) return;
          const src = mod as unknown as SpikeSource;
          const axis = src.outputTimeAxis;
          const steps = axis === null ? 1 : (spikes.shape[axis < 0 ? spikes.rank + axis : axis] ?? 1);
          if (axis !== null) this.maxSourceSteps = Math.max(this.maxSourceSteps, steps);
          this.provenance.set(dataIdOf(spikes), {
            scale: { scale: src.spikeCountScale, maxCount: src.maxSpikesPerStep },
            timesteps: steps,
          });
        }),
      );
    }
  }

  /** The candidate spike scales tried on operands of unknown origin, in order. */
  get spikeScales(): SpikeScale[] {
    return this.candidates.map((s) => ({ ...s }));
  }

  /** Starts receiving operation records (until {@link stop}). */
  start(): this {
    this.assertAlive();
    if (!this.stopRecording) this.stopRecording = startOpRecorder(this);
    return this;
  }

  /** Stops receiving operation records. */
  stop(): this {
    this.stopRecording?.();
    this.stopRecording = null;
    return this;
  }

  /**
   * Runs `fn` with this counter recording (sync or async), then stops. Returns what `fn` returns
   * (the caller owns its tensors).
   */
  async measure<R>(fn: () => R | Promise<R>): Promise<R> {
    this.start();
    try {
      return await fn();
    } finally {
      this.stop();
    }
  }

  private known(path: string, which: 'input' | 'other', t: tf.Tensor): Known | null {
    const d = this.overrides.get(path)?.[which];
    if (d === false) return { by: 'real' };
    if (typeof d === 'number') return { by: 'override', scale: d };
    const prov = this.provenance.get(dataIdOf(t));
    if (prov) return { by: 'source', prov };
    if (d === true) return { by: 'override', scale: null };
    return null;
  }

  private needsStats(k: Known | null): boolean {
    return k === null || (k.by === 'override' && k.scale === null);
  }

  /** Statistics of one operand: [min, max, frac(scale₁), …], flattened. */
  private stats(x: tf.Tensor): tf.Tensor[] {
    const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const parts: tf.Tensor[] = [tf.reshape(tf.min(xf), [1]), tf.reshape(tf.max(xf), [1])];
    for (const s of this.candidates) {
      const c = tf.mul(xf, s.scale);
      parts.push(tf.reshape(tf.max(tf.abs(tf.sub(c, tf.round(c)))), [1]));
    }
    return parts;
  }

  /** @internal Receives one operation (called by `@spiketrack/neurons` while recording). */
  record(op: OpRecord): void {
    if (this.disposed) return;
    const geometry = opGeometry(op);
    const ka = this.known(op.path, 'input', op.input);
    const kb = op.kind === 'matmul' && op.other ? this.known(op.path, 'other', op.other) : null;
    const nStats = 2 + this.candidates.length;
    let at = 0;
    const take = (n: number) => {
      const o = at;
      at += n;
      return o;
    };
    const a: Part = {
      known: ka,
      statsAt: this.needsStats(ka) ? take(nStats) : -1,
      mapAt: take(geometry.mapSize),
      mapSize: geometry.mapSize,
      elements: geometry.inputElements,
    };
    let b: Part | null = null;
    let productAt = -1;
    const mm = geometry.matmul;
    if (mm && op.other) {
      b = {
        known: kb,
        statsAt: this.needsStats(kb) ? take(nStats) : -1,
        mapAt: take(mm.otherMapSize),
        mapSize: mm.otherMapSize,
        elements: mm.otherElements,
      };
      productAt = take(mm.productSize);
    }
    const kept = tf.tidy(() => {
      const parts: tf.Tensor[] = [];
      const xa = op.input.dtype === 'float32' ? op.input : tf.cast(op.input, 'float32');
      if (a.statsAt >= 0) parts.push(...this.stats(xa));
      const mapA = tf.sum(xa, geometry.reduceAxes);
      parts.push(tf.reshape(mapA, [-1]));
      if (mm && op.other && b) {
        const xb = op.other.dtype === 'float32' ? op.other : tf.cast(op.other, 'float32');
        if (b.statsAt >= 0) parts.push(...this.stats(xb));
        parts.push(tf.reshape(tf.sum(xb, mm.bColAxis), [-1]));
        // Σ_i A_ik · #{j : B_kj ≠ 0}, per output batch and k (broadcast as matMul does)
        const nnz = tf.sum(tf.cast(tf.notEqual(xb, 0), 'float32'), mm.bColAxis);
        parts.push(tf.reshape(tf.mul(mapA, nnz), [-1]));
      }
      return parts.length === 1 ? parts[0]! : tf.concat(parts);
    }) as tf.Tensor1D;
    this.pending.push({
      path: op.path,
      kind: op.kind,
      geometry,
      a,
      b,
      productAt,
      timesteps: ka?.by === 'source' ? ka.prov.timesteps : null,
      weightElements: op.kind === 'matmul' ? 0 : count(op.weightShape),
      outputElements: count(op.outputShape),
      kept: tf.keep(kept),
    });
  }

  /** Decides whether an operand is spikes, from what was known at record time and its statistics. */
  private classify(
    path: string,
    which: string,
    part: Part,
    v: Float32Array,
  ): { scale: number | null; detection: SpikeDetection } {
    const k = part.known;
    if (k?.by === 'real') return { scale: null, detection: 'override' };
    if (k?.by === 'source') return { scale: k.prov.scale.scale, detection: 'source' };
    if (k?.by === 'override' && k.scale !== null) return { scale: k.scale, detection: 'override' };
    const min = v[part.statsAt]!;
    const max = v[part.statsAt + 1]!;
    const tol = this.tolerance;
    for (let i = 0; i < this.candidates.length; i++) {
      const s = this.candidates[i]!;
      const frac = v[part.statsAt + 2 + i]!;
      if (min * s.scale >= -tol && max * s.scale <= s.maxCount + tol && frac <= tol) {
        return { scale: s.scale, detection: k ? 'override' : 'values' };
      }
    }
    if (k) {
      throw new ConfigError(
        `countOps: inputs['${path}'] declares the ${which} spikes, but its values (min ${min}, max ${max}) are not spike counts for any scale in ${JSON.stringify(this.candidates)}; give its count scale as a number`,
      );
    }
    return { scale: null, detection: 'values' };
  }

  private layer(path: string, kind: OpKind): Layer {
    let l = this.layers.get(path);
    if (!l) {
      l = {
        path,
        kind,
        calls: 0,
        timesteps: 0,
        denseMacs: 0,
        macs: 0,
        spikingCalls: 0,
        acs: 0,
        paperAcs: 0,
        counts: 0,
        countedElements: 0,
        inputElements: 0,
        countScale: null,
        detection: null,
        otherCalls: 0,
        otherSpiking: 0,
        otherCounts: 0,
        otherElements: 0,
        otherScale: null,
        traffic: { weights: 0, spikes: 0, values: 0, outputs: 0 },
      };
      this.layers.set(path, l);
    }
    return l;
  }

  private account(call: PendingCall, v: Float32Array, runSteps: number): void {
    const g = call.geometry;
    const l = this.layer(call.path, call.kind);
    l.calls += 1;
    l.timesteps = Math.max(l.timesteps, call.timesteps ?? runSteps);
    l.denseMacs += g.denseMacs;
    l.inputElements += g.inputElements;
    const ca = this.classify(call.path, 'input', call.a, v);
    l.detection ??= ca.detection;
    l.traffic.weights += call.weightElements;
    l.traffic.outputs += call.outputElements;
    if (ca.scale !== null) l.traffic.spikes += call.a.elements;
    else l.traffic.values += call.a.elements;
    let sumA = 0;
    let fanA = 0;
    for (let i = 0; i < call.a.mapSize; i++) {
      const x = v[call.a.mapAt + i]!;
      sumA += x;
      fanA += x * g.acsPerUnit[i]!;
    }
    let cb: { scale: number | null; detection: SpikeDetection } | null = null;
    let sumB = 0;
    if (call.b && g.matmul) {
      cb = this.classify(call.path, 'other', call.b, v);
      if (cb.scale !== null) l.traffic.spikes += call.b.elements;
      else l.traffic.values += call.b.elements;
      for (let i = 0; i < call.b.mapSize; i++) sumB += v[call.b.mapAt + i]!;
      l.otherCalls += 1;
      if (cb.scale !== null) {
        l.otherSpiking += 1;
        l.otherCounts += sumB * cb.scale;
        l.otherElements += call.b.elements;
        l.otherScale ??= cb.scale;
      }
    }

    // Which operand's spikes drive the synapses (the left one when it spikes).
    let acs: number | null = null;
    let rate = 0;
    let elements = 0;
    let scale: number | null = null;
    if (ca.scale !== null) {
      scale = ca.scale;
      elements = call.a.elements;
      rate = (sumA * ca.scale) / elements;
      if (cb?.scale != null) {
        let p = 0;
        for (let i = 0; i < g.matmul!.productSize; i++) p += v[call.productAt + i]!;
        acs = ca.scale * p;
      } else {
        acs = ca.scale * fanA;
      }
    } else if (cb?.scale != null && g.matmul) {
      scale = cb.scale;
      elements = call.b!.elements;
      rate = (sumB * cb.scale) / elements;
      acs = cb.scale * sumB * g.matmul.otherAcsPerUnit;
    }
    if (acs === null) {
      l.macs += g.denseMacs;
      return;
    }
    l.spikingCalls += 1;
    l.acs += acs;
    l.paperAcs += g.denseMacs * rate;
    l.counts += rate * elements;
    l.countedElements += elements;
    l.countScale ??= scale;
  }

  /**
   * Reads what was recorded (one download per batch of calls), accounts it, and returns the report
   * of everything counted since construction or {@link reset}. Releases the kept tensors.
   */
  async report(): Promise<OpReport> {
    this.assertAlive();
    const pending = this.pending.splice(0);
    const runSteps = this.timestepsOpt ?? (this.maxSourceSteps || 1);
    try {
      const chunk = 64;
      for (let s = 0; s < pending.length; s += chunk) {
        const calls = pending.slice(s, s + chunk);
        const all = calls.length === 1 ? calls[0]!.kept : tf.concat(calls.map((c) => c.kept));
        let data: Float32Array;
        try {
          data = (await all.data()) as Float32Array;
        } finally {
          if (calls.length > 1) all.dispose();
        }
        let off = 0;
        for (const c of calls) {
          this.account(c, data.subarray(off, off + c.kept.size), runSteps);
          off += c.kept.size;
          c.kept.dispose();
        }
      }
    } finally {
      for (const c of pending) if (!c.kept.isDisposed) c.kept.dispose();
    }
    const layers: LayerOps[] = [...this.layers.values()].map((l) => {
      const out: LayerOps = {
        path: l.path,
        kind: l.kind,
        calls: l.calls,
        timesteps: l.timesteps,
        denseMacs: l.denseMacs,
        macs: l.macs,
        spiking: l.spikingCalls === l.calls ? true : l.spikingCalls === 0 ? false : 'mixed',
        spikingCalls: l.spikingCalls,
        acs: l.acs,
        paperAcs: l.paperAcs,
        inputRate: l.countedElements > 0 ? l.counts / l.countedElements : null,
        inputElements: l.inputElements,
        countScale: l.countScale,
        detection: l.detection ?? 'values',
        traffic: { ...l.traffic },
      };
      if (l.kind === 'matmul') {
        out.other = {
          spiking: l.otherSpiking === l.otherCalls ? true : l.otherSpiking === 0 ? false : 'mixed',
          rate: l.otherElements > 0 ? l.otherCounts / l.otherElements : null,
          countScale: l.otherScale,
        };
      }
      return out;
    });
    const totals: OpTotals = { calls: 0, denseMacs: 0, macs: 0, acs: 0, paperAcs: 0 };
    for (const l of layers) {
      totals.calls += l.calls;
      totals.denseMacs += l.denseMacs;
      totals.macs += l.macs;
      totals.acs += l.acs;
      totals.paperAcs += l.paperAcs;
    }
    return {
      layers,
      totals,
      timesteps: runSteps,
      spikeScales: this.spikeScales,
      conventions: { ...CONVENTIONS },
    };
  }

  /** Forgets everything counted so far (keeps the hooks and the recording state). */
  reset(): void {
    for (const c of this.pending.splice(0)) c.kept.dispose();
    this.layers.clear();
    this.maxSourceSteps = 0;
  }

  /** Stops recording, removes the hooks and releases pending tensors. Idempotent. */
  dispose(): void {
    this.stop();
    this.reset();
    for (const r of this.removers.splice(0)) r();
    this.disposed = true;
  }

  private assertAlive(): void {
    if (this.disposed) throw new ConfigError(`${this.where}: used after dispose()`);
  }
}

function disposeResult(r: unknown): void {
  if (r instanceof tf.Tensor) r.dispose();
  else if (Array.isArray(r)) for (const x of r) disposeResult(x);
  else if (r && typeof r === 'object' && Object.getPrototypeOf(r) === Object.prototype) {
    for (const x of Object.values(r)) disposeResult(x);
  }
}

/**
 * Counts the operations of one run of a `Module` tree: `run` executes the forward pass (sync or
 * async) while every conv, linear and recorded matmul reports to a counter; tensors that `run`
 * returns (alone, in arrays or in plain objects) are disposed. Returns per-layer dense MACs,
 * synaptic operations in both conventions, input firing rates, timesteps and calls. See
 * {@link OpCounter} for the method, and {@link energy} to turn the report into picojoules.
 *
 * While `run` is pending, operations of other code running at the same time are recorded too.
 *
 * ```ts
 * const report = await countOps(net, () => net.apply(x));
 * console.log(formatEnergyTable(energy(report)));
 * ```
 */
export async function countOps(
  root: AnyModule,
  run: () => unknown | Promise<unknown>,
  opts: CountOpsOptions = {},
): Promise<OpReport> {
  if (typeof run !== 'function') {
    throw new ConfigError(`countOps: run must be a function that runs the forward pass, got ${typeof run}`);
  }
  const counter = new OpCounter(root, opts);
  try {
    disposeResult(await counter.measure(run));
    return await counter.report();
  } finally {
    counter.dispose();
  }
}
