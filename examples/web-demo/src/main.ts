import './style.css';
import * as tf from '@tensorflow/tfjs-core';
import { type Box, iou } from 'spiketrack';
import { startBackend } from './backend';
import { BoxInput } from './box-input';
import { type LoadedModel, loadDefaultModel, loadDroppedModel } from './model';
import { drawHeatPanel, drawStage } from './overlay';
import type { FrameResult } from './session';
import { TrackingSession } from './session';
import { type Frame, type FrameSource, SyntheticSource, VideoSource } from './sources';

/**
 * What the page is doing, for people (the status line) and for the browser tests
 * (`window.spiketrackDemo`): the backend, the model, the source, the initial box and every
 * tracked box.
 */
export interface DemoState {
  status: 'starting' | 'ready' | 'selecting' | 'tracking' | 'paused' | 'finished' | 'error';
  backend: string | null;
  adapter: string | null;
  fallbackReason: string | null;
  crossOriginIsolated: boolean;
  model: { source: string; summary: string; config: Record<string, unknown> } | null;
  source: { kind: string; label: string; width: number; height: number } | null;
  /** The box the tracker started from, and the frame it was drawn on. */
  initBox: Box | null;
  initFrame: number | null;
  /** Per tracked frame; `tensors`: tfjs tensors alive after it (constant while tracking: nothing leaks). */
  results: { frame: number; box: Box; score: number; iou: number | null; ms: number; tensors: number }[];
  error: string | null;
}

const state: DemoState = {
  status: 'starting',
  backend: null,
  adapter: null,
  fallbackReason: null,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  model: null,
  source: null,
  initBox: null,
  initFrame: null,
  results: [],
  error: null,
};
(globalThis as { spiketrackDemo?: DemoState }).spiketrackDemo = state;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page lacks #${id}`);
  return el as T;
};
const ui = {
  backend: $('backend'),
  notice: $('notice'),
  stage: $<HTMLCanvasElement>('stage'),
  prompt: $('prompt'),
  play: $<HTMLButtonElement>('play'),
  step: $<HTMLButtonElement>('step'),
  reinit: $<HTMLButtonElement>('reinit'),
  start: $<HTMLButtonElement>('start'),
  seed: $<HTMLInputElement>('seed'),
  frames: $<HTMLInputElement>('frames'),
  size: $<HTMLSelectElement>('size'),
  syntheticOptions: $('synthetic-options'),
  videoOptions: $('video-options'),
  videoFile: $<HTMLInputElement>('video-file'),
  model: $('model'),
  drop: $('drop'),
  checkpoint: $<HTMLInputElement>('checkpoint'),
  bundled: $<HTMLButtonElement>('bundled'),
  meter: $<HTMLInputElement>('meter'),
  heat: $<HTMLCanvasElement>('heat'),
  rates: $('rates'),
  sFrame: $('s-frame'),
  sScore: $('s-score'),
  sFps: $('s-fps'),
  sIou: $('s-iou'),
  eSnn: $('e-snn'),
  eAnn: $('e-ann'),
  eRatio: $('e-ratio'),
  eMean: $('e-mean'),
};

let loaded: LoadedModel | null = null;
let source: FrameSource | null = null;
let session: TrackingSession | null = null;
let current: Frame | null = null;
let last: FrameResult | null = null;
let playing = false;
let fps = 0;
let lastFrameAt = 0;

// One operation at a time: clicks and keys queue behind the frame being tracked.
let queue: Promise<unknown> = Promise.resolve();
function run(task: () => Promise<void>): Promise<void> {
  const next = queue.then(task).catch(fail);
  queue = next;
  return next;
}

/**
 * A user's action: stops playback first (the play loop holds the queue until it is paused), then
 * queues the action.
 */
function act(task: () => Promise<void>): void {
  if (playing) setPlaying(false);
  void run(task);
}

function fail(e: unknown): void {
  const message = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  console.error(e);
  state.error = message;
  state.status = 'error';
  playing = false;
  ui.notice.textContent = message;
  ui.notice.hidden = false;
  refreshControls();
}

/** After a success: the error notice goes (the WebGPU fallback notice stays). */
function clearError(): void {
  state.error = null;
  ui.notice.hidden = state.fallbackReason === null;
  if (state.fallbackReason) ui.notice.textContent = fallbackNotice(state.fallbackReason);
}

function setPrompt(text: string): void {
  ui.prompt.textContent = text;
}

function refreshControls(): void {
  const tracking = session !== null && state.initBox !== null && !boxInput.isActive;
  const ended = state.status === 'finished';
  ui.play.disabled = !tracking || ended;
  ui.play.textContent = playing ? 'Pause' : 'Play';
  ui.step.disabled = !tracking || playing || ended;
  ui.reinit.disabled = current === null || session === null;
  ui.start.disabled = loaded === null;
  ui.bundled.disabled = loaded === null || loaded.source.startsWith('bundled');
}

function redraw(pending: Box | null = null): void {
  if (!current) return;
  const label = last && !pending ? `${last.score.toFixed(2)}` : null;
  drawStage(ui.stage, current.image, {
    box: pending ? null : (last?.box ?? null),
    truth: current.truth,
    pending,
    heat: pending ? null : (last?.heat ?? null),
    label,
  });
}

const boxInput = new BoxInput(
  ui.stage,
  (box) => redraw(box),
  (box) => void run(() => startTracking(box)),
);

function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function showResult(r: FrameResult, truthIou: number | null): void {
  const now = performance.now();
  if (lastFrameAt > 0) {
    const inst = 1000 / (now - lastFrameAt);
    fps = fps === 0 ? inst : 0.8 * fps + 0.2 * inst;
  }
  lastFrameAt = now;
  ui.sFrame.textContent = `${r.frame}${source?.length ? ` / ${source.length - 1}` : ''}`;
  ui.sScore.textContent = fmt(r.score, 3);
  ui.sFps.textContent = `${fmt(fps, 1)} (${Math.round(r.trackMs)} ms)`;
  const ious = state.results.map((x) => x.iou).filter((x): x is number => x !== null);
  ui.sIou.textContent =
    truthIou === null
      ? 'no ground truth'
      : `${fmt(truthIou, 3)} (mean ${fmt(ious.reduce((a, b) => a + b, 0) / ious.length, 3)})`;
  drawHeatPanel(ui.heat, r.heat);
  if (r.rates) {
    ui.rates.replaceChildren(
      ...r.rates.map(({ stage, rate }) => {
        const li = document.createElement('li');
        const pct = Math.min(100, (rate / 4) * 100);
        li.innerHTML = `<span class="bar-label">${stage}</span><span class="bar" style="--v:${pct.toFixed(1)}%"></span><span class="bar-value">${rate.toFixed(3)}</span>`;
        return li;
      }),
    );
  }
  if (r.energy) {
    const e = r.energy;
    ui.eSnn.textContent = `${fmt(e.snn, 1)} µJ`;
    ui.eAnn.textContent = `${fmt(e.ann, 1)} µJ`;
    ui.eRatio.textContent = `${fmt(e.ratio * 100, 1)} % of the ANN`;
    ui.eMean.textContent = `${fmt(e.meanSnn, 1)} µJ (${fmt(e.meanRatio * 100, 1)} %)`;
  }
}

/** Empties the measurement panels for a new initial box (`off` when metering is off). */
function clearPanels(text: string): void {
  for (const el of [ui.sFrame, ui.sScore, ui.sFps, ui.sIou]) el.textContent = '–';
  for (const el of [ui.eSnn, ui.eAnn, ui.eRatio, ui.eMean]) el.textContent = text;
  ui.rates.replaceChildren();
  drawHeatPanel(ui.heat, null);
}

/** Tracks the next frame; false at the end of the source. */
async function trackNext(): Promise<boolean> {
  if (!source || !session) return false;
  if (source instanceof VideoSource && !playing) await source.advance();
  const frame = await source.next();
  if (!frame) {
    playing = false;
    state.status = 'finished';
    const ious = state.results.map((x) => x.iou).filter((x): x is number => x !== null);
    const mean = ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : Number.NaN;
    setPrompt(
      `End of the sequence: ${state.results.length} frames tracked${ious.length ? `, mean IoU with the truth ${mean.toFixed(3)}` : ''}. Press Re-initialize or Start.`,
    );
    return false;
  }
  current = frame;
  const r = await session.track(frame.pixels);
  last = r;
  const truthIou = frame.truth ? iou(r.box, frame.truth) : null;
  state.results.push({
    frame: frame.index,
    box: [...r.box] as Box,
    score: r.score,
    iou: truthIou,
    ms: r.trackMs,
    tensors: tf.memory().numTensors,
  });
  redraw();
  showResult(r, truthIou);
  return true;
}

async function playLoop(): Promise<void> {
  while (playing) {
    const more = await trackNext();
    refreshControls();
    if (!more) break;
    // Let the page paint and take input between frames.
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  }
}

function setPlaying(p: boolean): void {
  playing = p;
  source?.setPlaying(p);
  if (state.status === 'tracking' || state.status === 'paused') state.status = p ? 'tracking' : 'paused';
  refreshControls();
  if (p) {
    lastFrameAt = 0;
    void run(playLoop);
  }
}

async function startTracking(box: Box): Promise<void> {
  if (!current || !loaded) return;
  session ??= await TrackingSession.create(loaded.model, ui.meter.checked);
  await session.initialize(current.pixels, box);
  state.initBox = [...box] as Box;
  state.initFrame = current.index;
  state.results = [];
  state.status = 'tracking';
  last = null;
  fps = 0;
  clearPanels(ui.meter.checked ? '–' : 'off');
  setPrompt('Tracking. Space pauses, N steps, R chooses the target again.');
  redraw();
  setPlaying(true);
}

function selectTarget(): void {
  setPlaying(false);
  state.status = 'selecting';
  setPrompt(
    'Draw a box around the target with the mouse or a finger, or use the arrow keys (Shift resizes) and Enter.',
  );
  boxInput.begin();
  ui.stage.focus();
  refreshControls();
}

function endSession(): void {
  setPlaying(false);
  session?.dispose();
  session = null;
  state.initBox = null;
  state.initFrame = null;
  last = null;
}

function chosenSource(): string {
  return (document.querySelector('input[name="source"]:checked') as HTMLInputElement).value;
}

async function openSource(): Promise<void> {
  endSession();
  source?.dispose();
  source = null;
  const kind = chosenSource();
  if (kind === 'synthetic') {
    const [w, h] = ui.size.value.split('x').map(Number) as [number, number];
    source = new SyntheticSource({
      seed: Number(ui.seed.value),
      frames: Number(ui.frames.value),
      width: w,
      height: h,
    });
  } else if (kind === 'webcam') {
    setPrompt('Asking for the camera…');
    source = await VideoSource.webcam();
  } else {
    const file = ui.videoFile.files?.[0];
    if (!file) throw new Error('choose a video file first');
    source = await VideoSource.file(file);
  }
  source.setPlaying(kind !== 'video');
  state.source = { kind: source.kind, label: source.label, width: source.width, height: source.height };
  clearError();
  current = await source.next();
  if (!current) throw new Error('the source gave no frame');
  redraw();
  selectTarget();
}

async function useModel(load: Promise<LoadedModel>): Promise<void> {
  ui.model.textContent = 'Loading the model…';
  const next = await load;
  endSession();
  loaded?.model.dispose();
  loaded = next;
  const c = next.model.config;
  state.model = {
    source: next.source,
    summary: next.summary,
    config: { name: c.name, dims: [...c.dims], resolution: c.resolution, templates: c.templates },
  };
  ui.model.textContent = `${next.source} — ${next.summary}`;
  clearError();
  if (current) selectTarget();
  else state.status = 'ready';
  refreshControls();
}

function fallbackNotice(reason: string): string {
  return `WebGPU is not available here, so the network runs on wasm (slower). Why: ${reason}`;
}

// ---- events -----------------------------------------------------------------------------------

ui.start.addEventListener('click', () => act(openSource));
ui.play.addEventListener('click', () => setPlaying(!playing));
ui.step.addEventListener('click', () => void run(async () => void (await trackNext())));
ui.reinit.addEventListener('click', () => act(async () => selectTarget()));
ui.bundled.addEventListener('click', () => act(() => useModel(loadDefaultModel())));
ui.meter.addEventListener('change', () =>
  // The meters hook the model when a session starts: apply the choice from a fresh initial box.
  act(async () => {
    if (!session) return;
    endSession();
    if (current) selectTarget();
  }),
);
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) {
  radio.addEventListener('change', () => {
    ui.syntheticOptions.hidden = chosenSource() !== 'synthetic';
    ui.videoOptions.hidden = chosenSource() !== 'video';
  });
}

function takeCheckpoint(file: File | undefined): void {
  if (file) act(() => useModel(loadDroppedModel(file)));
}
ui.checkpoint.addEventListener('change', () => takeCheckpoint(ui.checkpoint.files?.[0]));
// The whole page accepts a dropped checkpoint; the drop zone shows where.
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
document.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  takeCheckpoint(e.dataTransfer?.files[0]);
});

document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (e.ctrlKey || e.metaKey || e.altKey || boxInput.isActive) return;
  if (t.closest('input, select, textarea')) return;
  if (e.key === ' ' && !t.closest('button')) {
    e.preventDefault();
    if (!ui.play.disabled) setPlaying(!playing);
  } else if (e.key === 'n' || e.key === 'N') {
    if (!ui.step.disabled) ui.step.click();
  } else if (e.key === 'r' || e.key === 'R') {
    if (!ui.reinit.disabled) act(async () => selectTarget());
  }
});

// ---- start ------------------------------------------------------------------------------------

async function boot(): Promise<void> {
  const wanted = new URLSearchParams(location.search).get('backend') ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'webgpu' && wanted !== 'wasm') {
    throw new Error(`?backend=${wanted}: expected auto, webgpu or wasm`);
  }
  const info = await startBackend(wanted);
  state.backend = info.backend;
  state.adapter = info.adapter;
  state.fallbackReason = info.fallbackReason;
  ui.backend.textContent = `Backend: ${info.backend} — ${info.adapter}`;
  if (info.fallbackReason) {
    ui.notice.textContent = fallbackNotice(info.fallbackReason);
    ui.notice.hidden = false;
  }
  await useModel(loadDefaultModel());
}

void run(boot);
