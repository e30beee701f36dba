import { FiringRateMonitor } from '@spiketrack/neurons';
import {
  type Box,
  cropGeometry,
  type FrameInput,
  hann1dValues,
  type HeadMapsData,
  type SpikeTrackModel,
  TRACKER_STAGES,
  Tracker,
  TrackerOpCounter,
  type TrackStep,
  trackerStageOf,
} from 'spiketrack';

/** The Hann-windowed score map of one frame and where its search region lies in the frame. */
export interface ScoreHeat {
  /** F (the map is F × F). */
  size: number;
  /** `hann2d(F) · score_map`, row-major: the response whose maximum is the confidence. */
  values: Float32Array;
  /** The search region in frame pixels (square, may reach outside the frame). */
  region: { x: number; y: number; size: number };
}

/** Energy of one frame in µJ, from `@spiketrack/energy` (45 nm, fp32). */
export interface FrameEnergy {
  /** This frame: the search branch from its actual spikes, plus the template branch / interval. */
  snn: number;
  /** The same layers with every operation a MAC (the ANN equivalent). */
  ann: number;
  /** snn / ann. */
  ratio: number;
  /** Mean over the frames tracked since the initial box. */
  meanSnn: number;
  meanRatio: number;
}

/** What one tracked frame gives the page. */
export interface FrameResult {
  frame: number;
  box: Box;
  score: number;
  /** Milliseconds of `Tracker.track` (crop, network, decoding). */
  trackMs: number;
  heat: ScoreHeat;
  /** Mean integer spike count per neuron and step, per stage of the search branch; null when metering is off. */
  rates: { stage: string; rate: number }[] | null;
  energy: FrameEnergy | null;
}

const PJ_PER_UJ = 1e6;

/**
 * A {@link Tracker} on a model, with the live measurements of the page: the Hann-windowed score
 * map (read from the tracker's own decoding step, no extra GPU work), firing rates per stage
 * (`FiringRateMonitor`) and energy per frame (`TrackerOpCounter` of `spiketrack`, on
 * `@spiketrack/energy`). Metering reads a few hundred small statistics per frame; switch it off
 * for the best FPS.
 */
export class TrackingSession {
  private constructor(
    readonly tracker: Tracker,
    private readonly meters: { counter: TrackerOpCounter; monitor: FiringRateMonitor } | null,
    private readonly lastStep: { maps: HeadMapsData | null; step: TrackStep | null },
  ) {}

  static async create(model: SpikeTrackModel, metering: boolean): Promise<TrackingSession> {
    const tracker = await Tracker.create({ model });
    const last: { maps: HeadMapsData | null; step: TrackStep | null } = { maps: null, step: null };
    // Keep what the tracker's decoding step saw: the score map is already on the CPU there.
    const logic = tracker.logic;
    const step = logic.step.bind(logic);
    logic.step = (maps, resizeFactor) => {
      const out = step(maps, resizeFactor);
      last.maps = maps;
      last.step = out;
      return out;
    };
    let meters: { counter: TrackerOpCounter; monitor: FiringRateMonitor } | null = null;
    if (metering) {
      const counter = new TrackerOpCounter(model).instrument();
      meters = { counter, monitor: new FiringRateMonitor(model) };
    }
    return new TrackingSession(tracker, meters, last);
  }

  private framesMeasured = 0;
  private previousSearch = { exact: 0, ann: 0 };

  /** Starts on `box` (frame pixels) in `frame`. */
  async initialize(frame: FrameInput, box: Box): Promise<void> {
    await this.tracker.initialize(frame, box);
    this.meters?.monitor.reset();
  }

  async track(frame: FrameInput): Promise<FrameResult> {
    const before = this.tracker.logic.state;
    const t0 = performance.now();
    const r = await this.tracker.track(frame);
    const trackMs = performance.now() - t0;
    const { maps } = this.lastStep;
    if (!maps) throw new Error('the tracker did not decode a score map');
    const F = maps.featSize;
    const w = hann1dValues(F);
    const values = new Float32Array(F * F);
    for (let y = 0; y < F; y++) {
      for (let x = 0; x < F; x++)
        values[y * F + x] = (w[y] as number) * (w[x] as number) * (maps.score[y * F + x] as number);
    }
    const { width, height } = this.tracker.logic.frameSize;
    const g = cropGeometry(before, this.tracker.params.searchFactor, width, height);
    const heat: ScoreHeat = { size: F, values, region: { x: g.x1, y: g.y1, size: g.cropSize } };
    const result: FrameResult = {
      frame: r.frame,
      box: r.box,
      score: r.score,
      trackMs,
      heat,
      rates: null,
      energy: null,
    };
    if (this.meters) {
      result.rates = await this.firingRates();
      result.energy = await this.energy();
    }
    return result;
  }

  private async firingRates(): Promise<{ stage: string; rate: number }[]> {
    const monitor = this.meters!.monitor;
    const report = await monitor.report();
    monitor.reset();
    const sums = new Map<string, { spikes: number; steps: number }>();
    for (const [path, e] of Object.entries(report)) {
      const stage = trackerStageOf(path);
      const s = sums.get(stage) ?? { spikes: 0, steps: 0 };
      s.spikes += e.mean * e.neuron_steps;
      s.steps += e.neuron_steps;
      sums.set(stage, s);
    }
    return [...TRACKER_STAGES, 'other' as const].flatMap((stage) => {
      const s = sums.get(stage);
      return s && s.steps > 0 ? [{ stage, rate: s.spikes / s.steps }] : [];
    });
  }

  /** This frame's energy: the counter's running means times the frame count, differenced. */
  private async energy(): Promise<FrameEnergy> {
    const counter = this.meters!.counter;
    const interval = this.tracker.params.updateInterval;
    const rep = await counter.report({ interval });
    const n = rep.search.runs;
    const search = { exact: rep.search.energy.exact * n, ann: rep.search.energy.ann * n };
    const frameSearch = {
      exact: search.exact - this.previousSearch.exact,
      ann: search.ann - this.previousSearch.ann,
    };
    this.previousSearch = search;
    this.framesMeasured = n;
    const tpl = rep.per_frame.template;
    const snn = frameSearch.exact + tpl.exact;
    const ann = frameSearch.ann + tpl.ann;
    const total = rep.per_frame.total;
    return {
      snn: snn / PJ_PER_UJ,
      ann: ann / PJ_PER_UJ,
      ratio: ann > 0 ? snn / ann : Number.NaN,
      meanSnn: total.exact / PJ_PER_UJ,
      meanRatio: total.ann > 0 ? total.exact / total.ann : Number.NaN,
    };
  }

  /** Frames whose energy was measured. */
  get measuredFrames(): number {
    return this.framesMeasured;
  }

  dispose(): void {
    this.meters?.counter.dispose();
    this.meters?.monitor.detach();
    this.tracker.dispose();
  }
}
