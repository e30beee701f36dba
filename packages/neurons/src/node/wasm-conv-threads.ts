/**
 * Two-thread convolutions for the wasm backend in Node. tfjs-backend-wasm runs every kernel on one
 * thread (its threaded build does not run properly in Node), so on a machine with a free core the
 * large `Conv2D`s, most of a forward pass, leave it idle. {@link enableWasmConvThreads} starts a
 * worker thread with a wasm backend of its own and splits each large convolution with it: by batch
 * when the batch has several images, else by output rows (each part reads the input rows its output
 * rows need, padded explicitly where the part meets the image's edge). Both parts are XNNPACK's
 * convolution on the same values, so the result equals the one-thread kernel's.
 *
 * The worker keeps the filters it has been sent (up to a byte budget, least recently used first):
 * made for inference, where the weights stay the same from frame to frame. In training every step
 * sends new filters; it works, but gains less.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from '../kernels/wasm-heap';
import { replaceWasmKernel } from '../kernels/wasm-replace';

/** Options of {@link enableWasmConvThreads}. */
export interface WasmConvThreadsOptions {
  /**
   * Convolutions with fewer floating-point operations than this (2 per multiply-add) stay on one
   * thread: handing half to the worker costs ~0.4 ms (copies, waking it, waiting), more than it
   * saves below ~3 ms of work. Default 1e8.
   */
  minFlops?: number;
  /** Bytes of filters the worker keeps (default 512 MiB). */
  filterCacheBytes?: number;
  /** How long to wait for the worker's part before failing, in ms (default 60 000). */
  timeoutMs?: number;
}

/** The worker's answer to one part. */
type Reply = { data: Float32Array } | { error: string };

interface Job {
  x: Float32Array;
  xShape: number[];
  filterId: number;
  filterData?: Float32Array;
  filterShape: number[];
  strides: [number, number];
  dilations: [number, number];
  pad: [[number, number], [number, number], [number, number], [number, number]];
  drop: number[];
}

/** The worker: a wasm backend that convolves the parts it is sent, woken through `ctrl[0]`. */
const WORKER_SOURCE = `
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const tf = require(workerData.core);
require(workerData.wasm);
const port = workerData.port;
const ctrl = new Int32Array(workerData.ctrl);
const filters = new Map();
tf.setBackend('wasm').then(() => tf.ready()).then(() => {
  parentPort.postMessage({ ready: tf.getBackend() });
  const backend = tf.backend();
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, 0, seen);
    seen = Atomics.load(ctrl, 0);
    let msg = receiveMessageOnPort(port);
    while (!msg) msg = receiveMessageOnPort(port);
    const job = msg.message;
    if (job.stop) break;
    let reply;
    try {
      for (const id of job.drop) { const f = filters.get(id); if (f) { f.dispose(); filters.delete(id); } }
      if (job.filterData) filters.set(job.filterId, tf.tensor(job.filterData, job.filterShape, 'float32'));
      const f = filters.get(job.filterId);
      if (!f) throw new Error('conv worker: filter ' + job.filterId + ' was not sent');
      const x = tf.tensor(job.x, job.xShape, 'float32');
      const y = tf.conv2d(x, f, job.strides, job.pad, 'NHWC', job.dilations);
      // a block copy off the heap (dataSync's slice of the heap is slow)
      const view = backend.typedArrayFromHeap(y);
      const data = new Float32Array(view.length);
      data.set(view);
      x.dispose();
      y.dispose();
      reply = { data };
    } catch (e) {
      reply = { error: String((e && e.stack) || e) };
    }
    port.postMessage(reply, reply.data ? [reply.data.buffer] : []);
    Atomics.store(ctrl, 1, seen);
    Atomics.notify(ctrl, 1);
  }
  for (const f of filters.values()) f.dispose();
});
`;

/** This module's URL (ESM), or its file's (CommonJS build). */
function selfUrl(): string {
  if (typeof __filename === 'string') return pathToFileURL(__filename).href;
  return import.meta.url;
}

/** The running worker and what it holds. */
class ConvWorker {
  private seq = 0;
  private nextFilterId = 1;
  private readonly filterIds = new WeakMap<object, number>();
  /** Filter id → bytes, in the order of last use (a Map keeps insertion order). */
  private readonly cached = new Map<number, number>();
  private cachedBytes = 0;
  private readonly ctrl: Int32Array;

  constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    ctrl: SharedArrayBuffer,
    private readonly options: Required<WasmConvThreadsOptions>,
  ) {
    this.ctrl = new Int32Array(ctrl);
  }

  /** Sends one part; {@link receive} collects it. */
  send(
    x: Float32Array,
    xShape: number[],
    filter: tf.TensorInfo,
    filterValues: () => Float32Array,
    conv: Omit<Job, 'x' | 'xShape' | 'filterId' | 'filterShape' | 'drop'>,
  ): void {
    let id = this.filterIds.get(filter.dataId);
    if (id === undefined) {
      id = this.nextFilterId++;
      this.filterIds.set(filter.dataId, id);
    }
    const drop: number[] = [];
    let filterData: Float32Array | undefined;
    const bytes = this.cached.get(id);
    if (bytes !== undefined) {
      this.cached.delete(id);
      this.cached.set(id, bytes);
    } else {
      filterData = filterValues();
      this.cached.set(id, filterData.byteLength);
      this.cachedBytes += filterData.byteLength;
      for (const [old, b] of this.cached) {
        if (this.cachedBytes <= this.options.filterCacheBytes || old === id) break;
        this.cached.delete(old);
        this.cachedBytes -= b;
        drop.push(old);
      }
    }
    const job: Job = { ...conv, x, xShape, filterId: id, filterShape: [...filter.shape], drop };
    if (filterData) job.filterData = filterData;
    const transfer = [x.buffer as ArrayBuffer];
    if (filterData) transfer.push(filterData.buffer as ArrayBuffer);
    this.port.postMessage(job, transfer);
    this.seq += 1;
    Atomics.store(this.ctrl, 0, this.seq);
    Atomics.notify(this.ctrl, 0);
  }

  /** Waits (blocking this thread) for the part sent last. */
  receive(): Float32Array {
    const deadline = Date.now() + this.options.timeoutMs;
    while (Atomics.load(this.ctrl, 1) !== this.seq) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `wasm conv threads: the worker did not answer within ${this.options.timeoutMs} ms (call disableWasmConvThreads() and report this)`,
        );
      }
      Atomics.wait(this.ctrl, 1, Atomics.load(this.ctrl, 1), left);
    }
    let msg = receiveMessageOnPort(this.port);
    while (!msg) msg = receiveMessageOnPort(this.port);
    const reply = msg.message as Reply;
    if ('error' in reply) {
      // the worker may not hold the filter it was sent
      this.cached.clear();
      this.cachedBytes = 0;
      throw new Error(`wasm conv threads: the worker's part failed: ${reply.error}`);
    }
    return reply.data;
  }

  async stop(): Promise<void> {
    this.port.postMessage({ stop: true });
    this.seq += 1;
    Atomics.store(this.ctrl, 0, this.seq);
    Atomics.notify(this.ctrl, 0);
    await this.worker.terminate();
    this.port.close();
  }
}

let active: { worker: ConvWorker; original: tf.KernelFunc } | null = null;

/** Whether {@link enableWasmConvThreads} is in effect. */
export function wasmConvThreadsEnabled(): boolean {
  return active !== null;
}

/** Starts the worker thread of a second wasm backend. */
async function startWorker(options: Required<WasmConvThreadsOptions>): Promise<ConvWorker> {
  const require = createRequire(selfUrl());
  const ctrl = new SharedArrayBuffer(8);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      core: require.resolve('@tensorflow/tfjs-core'),
      wasm: require.resolve('@tensorflow/tfjs-backend-wasm'),
      port: port2,
      ctrl,
    },
    transferList: [port2],
  });
  worker.unref();
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: { ready?: string }) =>
      m.ready === 'wasm'
        ? resolve()
        : reject(new Error(`wasm conv threads: the worker's backend is ${m.ready}, not wasm`)),
    );
    worker.once('error', (e) =>
      reject(new Error(`wasm conv threads: the worker failed to start: ${e.message}`)),
    );
    worker.once('exit', (code) =>
      reject(new Error(`wasm conv threads: the worker exited (${code}) while starting`)),
    );
  });
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  // an error after the start surfaces as a timeout in receive(); keep it from crashing the process
  worker.on('error', () => {});
  return new ConvWorker(worker, port1, ctrl, options);
}

type Pad4 = Job['pad'];

/**
 * Runs the large `Conv2D`s of the wasm backend on two threads: this one and a worker thread with a
 * wasm backend of its own (Node only). Call it after `selectBackend('wasm')`; it resolves when the
 * worker is ready. Returns false (and does nothing) when the wasm backend is not registered or the
 * threads are already on. Only NHWC float32 convolutions are split; the others run as before.
 */
export async function enableWasmConvThreads(options: WasmConvThreadsOptions = {}): Promise<boolean> {
  if (active || !tf.getKernel('Conv2D', 'wasm')) return false;
  const opts: Required<WasmConvThreadsOptions> = {
    minFlops: options.minFlops ?? 1e8,
    filterCacheBytes: options.filterCacheBytes ?? 512 * 2 ** 20,
    timeoutMs: options.timeoutMs ?? 60_000,
  };
  const worker = await startWorker(opts);
  const current = tf.getKernel('Conv2D', 'wasm');
  if (active || !current) {
    await worker.stop();
    return false;
  }
  const original = current.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    const split = splitConv(args, worker, original, opts.minFlops);
    return split ?? original(args);
  };
  replaceWasmKernel('Conv2D', kernelFunc);
  active = { worker, original };
  return true;
}

/** Puts the one-thread `Conv2D` back and stops the worker. */
export async function disableWasmConvThreads(): Promise<void> {
  if (!active) return;
  const { worker, original } = active;
  active = null;
  replaceWasmKernel('Conv2D', original);
  await worker.stop();
}

/**
 * A copy of `a` in a new buffer. (`slice()` of a view into the wasm heap can take milliseconds
 * for a megabyte; `set` copies it as a block.)
 */
function copy(a: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  out.set(a);
  return out;
}

/** The two-thread convolution, or null when this one stays on one thread. */
function splitConv(
  args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown },
  worker: ConvWorker,
  original: tf.KernelFunc,
  minFlops: number,
): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo;
  const filter = args.inputs.filter as tf.TensorInfo;
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DAttrs;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || x.shape.length !== 4) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const N = info.batchSize;
  const outH = info.outHeight;
  const flops =
    2 * N * outH * info.outWidth * info.outChannels * info.filterHeight * info.filterWidth * info.inChannels;
  if (flops < minFlops || (N < 2 && outH < 2)) return null;
  // tfjs-backend-wasm's Conv2D miscomputes its output size for unequal strides with padding; such
  // convolutions keep the backend's own path, whatever it does
  if (info.strideHeight !== info.strideWidth) return null;
  const backend = args.backend as WasmBackend;
  const { top, left, right } = info.padInfo;
  const inH = info.inHeight;
  const rowSize = info.inWidth * info.inChannels;
  const imageSize = inH * rowSize;
  const outImage = outH * info.outWidth * info.outChannels;
  const effH = (info.filterHeight - 1) * info.dilationHeight + 1;
  const strides: [number, number] = [info.strideHeight, info.strideWidth];
  const dilations: [number, number] = [info.dilationHeight, info.dilationWidth];

  // part 0 (this thread) and part 1 (the worker): images [b0, b1) × output rows [r0, r1)
  type Part = { b0: number; b1: number; r0: number; r1: number; start: number; end: number; pad: Pad4 };
  const part = (b0: number, b1: number, r0: number, r1: number): Part => {
    const from = r0 * info.strideHeight - top;
    const to = (r1 - 1) * info.strideHeight - top + effH;
    return {
      b0,
      b1,
      r0,
      r1,
      start: Math.max(0, from),
      end: Math.min(inH, to),
      pad: [
        [0, 0],
        [Math.max(0, -from), Math.max(0, to - inH)],
        [left, right],
        [0, 0],
      ],
    };
  };
  const parts: [Part, Part] =
    N >= 2
      ? [part(0, Math.ceil(N / 2), 0, outH), part(Math.ceil(N / 2), N, 0, outH)]
      : [part(0, 1, 0, Math.ceil(outH / 2)), part(0, 1, Math.ceil(outH / 2), outH)];
  const inputOf = (p: Part): { values: Float32Array; shape: number[] } => {
    const all = backend.typedArrayFromHeap(x) as Float32Array;
    const rows = p.end - p.start;
    const shape = [p.b1 - p.b0, rows, info.inWidth, info.inChannels];
    if (N >= 2) return { values: all.subarray(p.b0 * imageSize, p.b1 * imageSize), shape };
    return { values: all.subarray(p.start * rowSize, p.end * rowSize), shape };
  };

  // the worker's part first, so that both run at once
  const theirs = inputOf(parts[1]);
  worker.send(
    copy(theirs.values),
    theirs.shape,
    filter,
    () => copy(backend.typedArrayFromHeap(filter) as Float32Array),
    {
      strides,
      dilations,
      pad: parts[1].pad,
    },
  );

  // this thread's part, on a copy of its input rows
  const ours = inputOf(parts[0]);
  const mine = backend.makeOutput(ours.shape, 'float32');
  let result: tf.TensorInfo | null = null;
  try {
    (backend.typedArrayFromHeap(mine) as Float32Array).set(inputOf(parts[0]).values);
    const attrsMine = {
      ...attrs,
      pad: parts[0].pad,
      dimRoundingMode: undefined,
    } as unknown as tf.NamedAttrMap;
    result = original({
      inputs: { x: mine, filter },
      attrs: attrsMine,
      backend: args.backend as tf.KernelBackend,
    }) as tf.TensorInfo;
  } catch (e) {
    try {
      worker.receive();
    } catch {
      // the first error is the one to report
    }
    backend.disposeData(mine.dataId);
    throw e;
  }
  backend.disposeData(mine.dataId);
  let other: Float32Array;
  try {
    other = worker.receive();
  } catch (e) {
    backend.disposeData(result.dataId);
    throw e;
  }
  const out = backend.makeOutput([N, outH, info.outWidth, info.outChannels], 'float32');
  const outValues = backend.typedArrayFromHeap(out) as Float32Array;
  const ourValues = backend.typedArrayFromHeap(result) as Float32Array;
  if (N >= 2) {
    outValues.set(ourValues, 0);
    outValues.set(other, parts[1].b0 * outImage);
  } else {
    outValues.set(ourValues, 0);
    outValues.set(other, parts[1].r0 * info.outWidth * info.outChannels);
  }
  backend.disposeData(result.dataId);
  return out;
}
