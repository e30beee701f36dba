/**
 * Two-thread convolutions for the wasm backend in Node. tfjs-backend-wasm runs every kernel on one
 * thread (its threaded build does not run properly in Node), so on a machine with a free core the
 * large `Conv2D`s, most of a forward pass, leave it idle. {@link enableWasmConvThreads} starts a
 * worker thread with a wasm backend of its own and splits each large convolution with it: by batch
 * when the batch has several images, else by output rows (each part reads the input rows its output
 * rows need, padded explicitly where the part meets the image's edge). Large single matrix products
 * (`BatchMatMul` with batch 1: a transformer's linear layers) are split the same way, by the rows of
 * the left operand. Both parts are XNNPACK's kernel on the same values, so the result equals the
 * one-thread kernel's.
 *
 * The worker keeps the filters (and right operands of products) it has been sent a second time (up
 * to a byte budget, least recently used first): made for inference, where the weights stay the same
 * from frame to frame. A filter seen once (in training, every step's new weights) is sent with its
 * part and dropped after it, so it does not push the lasting ones out.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from '../kernels/wasm-heap';
import { replaceWasmKernel } from '../kernels/wasm-replace';
import { selfRequire } from './self-require';
import { wasmBackendThreads } from './wasm-threads';

/** Options of {@link enableWasmConvThreads}. */
export interface WasmConvThreadsOptions {
  /**
   * Convolutions and products with fewer floating-point operations than this (2 per multiply-add)
   * stay on one thread: handing half to the worker costs ~0.2 ms (copies, waking it, waiting), more
   * than it saves below ~0.7 ms of work (2e7 flops). Default 3e7.
   */
  minFlops?: number;
  /** Bytes of filters the worker keeps (default 512 MiB). */
  filterCacheBytes?: number;
  /** How long to wait for the worker's part before failing, in ms (default 60 000). */
  timeoutMs?: number;
}

/** The worker's answer to one part (its output is in the shared output buffer). */
type Reply = { done: true } | { error: string };

/** A convolution's part: `x` convolved with the cached filter `filterId`. */
interface ConvOp {
  op: 'conv';
  strides: [number, number];
  dilations: [number, number];
  pad: [[number, number], [number, number], [number, number], [number, number]];
}

/** A matrix product's part: the rows `x` times the cached right operand `filterId`. */
interface MatMulOp {
  op: 'matmul';
  transposeB: boolean;
}

type Job = (ConvOp | MatMulOp) & {
  /** The part's input: the first (product of xShape) floats of the shared input buffer. */
  xShape: number[];
  /** Output floats the worker writes at the start of the shared output buffer. */
  outLength: number;
  /** New shared buffers, when they had to grow. */
  inBuffer?: SharedArrayBuffer;
  outBuffer?: SharedArrayBuffer;
  /** The cached filter to use, or 0: use `filterData` for this part only. */
  filterId: number;
  filterData?: Float32Array;
  filterShape: number[];
  drop: number[];
};

/**
 * The worker: a wasm backend that computes the parts (convolutions, matrix products) it is sent,
 * woken through `ctrl[0]`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const tf = require(workerData.core);
require(workerData.wasm);
const port = workerData.port;
const ctrl = new Int32Array(workerData.ctrl);
const filters = new Map();
let input = new Float32Array(0);
let output = new Float32Array(0);
tf.setBackend('wasm').then(() => tf.ready()).then(() => {
  parentPort.postMessage({ ready: tf.getBackend() });
  const backend = tf.backend();
  let seen = 0;
  for (;;) {
    // short waits: a lost wake-up (seen once in a few hundred frames, a minute long without a
    // time limit) then costs at most 5 ms
    while (Atomics.load(ctrl, 0) === seen) Atomics.wait(ctrl, 0, seen, 5);
    seen = Atomics.load(ctrl, 0);
    let msg = receiveMessageOnPort(port);
    while (!msg) msg = receiveMessageOnPort(port);
    const job = msg.message;
    if (job.stop) break;
    if (job.inBuffer) input = new Float32Array(job.inBuffer);
    if (job.outBuffer) output = new Float32Array(job.outBuffer);
    let reply;
    try {
      for (const id of job.drop) { const f = filters.get(id); if (f) { f.dispose(); filters.delete(id); } }
      const once = job.filterId === 0 ? tf.tensor(job.filterData, job.filterShape, 'float32') : null;
      if (job.filterData && !once) filters.set(job.filterId, tf.tensor(job.filterData, job.filterShape, 'float32'));
      const kept = once || filters.get(job.filterId);
      if (!kept) throw new Error('conv worker: filter ' + job.filterId + ' was not sent');
      // one tensor's data under two shapes (tf.reshape shares it): a 1×1 filter used as a matrix
      const f = kept.shape.join() === job.filterShape.join() ? kept : tf.reshape(kept, job.filterShape);
      const size = job.xShape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(input.subarray(0, size), job.xShape, 'float32');
      const y = job.op === 'matmul'
        ? tf.matMul(x, f, false, job.transposeB)
        : tf.conv2d(x, f, job.strides, job.pad, 'NHWC', job.dilations);
      // a block copy off the heap into the shared buffer, whose pages stay mapped from call to call
      // (a new array per call costs page faults: ~1 ms per MB)
      const view = backend.typedArrayFromHeap(y);
      if (view.length !== job.outLength) throw new Error('conv worker: output of ' + view.length + ' floats, expected ' + job.outLength);
      output.set(view);
      x.dispose();
      y.dispose();
      if (f !== kept) f.dispose();
      if (once) once.dispose();
      reply = { done: true };
    } catch (e) {
      reply = { error: String((e && e.stack) || e) };
    }
    port.postMessage(reply);
    Atomics.store(ctrl, 1, seen);
    Atomics.notify(ctrl, 1);
  }
  for (const f of filters.values()) f.dispose();
});
`;

/** The running worker and what it holds. */
class ConvWorker {
  private seq = 0;
  private nextFilterId = 1;
  /** The cache's ids of the filters (their dataIds) seen twice or more. */
  private readonly filterIds = new WeakMap<object, number>();
  /** The filters seen once so far: sent with their part, not cached. */
  private readonly seenOnce = new WeakSet<object>();
  /** Filter id → bytes, in the order of last use (a Map keeps insertion order). */
  private readonly cached = new Map<number, number>();
  private cachedBytes = 0;
  private parts = 0;
  private filterBytesSent = 0;
  private readonly ctrl: Int32Array;
  /** The shared buffers the parts' inputs and outputs go through, grown as needed. */
  private input = new Float32Array(new SharedArrayBuffer(0));
  private output = new Float32Array(new SharedArrayBuffer(0));
  private outLength = 0;
  private sentInput: ArrayBufferLike | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    ctrl: SharedArrayBuffer,
    private readonly options: Required<WasmConvThreadsOptions>,
  ) {
    this.ctrl = new Int32Array(ctrl);
  }

  /**
   * The shared input buffer, at least `length` floats long: write the next part's input into it,
   * then {@link send} the part.
   */
  inputBuffer(length: number): Float32Array {
    if (this.input.length < length) this.input = new Float32Array(new SharedArrayBuffer(4 * grown(length)));
    return this.input;
  }

  /** Sends one part (its input already in {@link inputBuffer}); {@link receive} collects it. */
  send(
    xShape: number[],
    outLength: number,
    filter: tf.TensorInfo,
    filterShape: number[],
    filterValues: () => Float32Array,
    op: ConvOp | MatMulOp,
  ): void {
    let id = this.filterIds.get(filter.dataId);
    if (id === undefined && !this.seenOnce.has(filter.dataId)) {
      this.seenOnce.add(filter.dataId);
      id = 0;
    } else if (id === undefined) {
      this.seenOnce.delete(filter.dataId);
      id = this.nextFilterId++;
      this.filterIds.set(filter.dataId, id);
    }
    const drop: number[] = [];
    let filterData: Float32Array | undefined;
    const bytes = id === 0 ? undefined : this.cached.get(id);
    if (id === 0) {
      filterData = filterValues();
    } else if (bytes !== undefined) {
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
    this.parts += 1;
    if (filterData) this.filterBytesSent += filterData.byteLength;
    const job: Job = { ...op, xShape, outLength, filterId: id, filterShape, drop };
    if (filterData) job.filterData = filterData;
    if (this.sentInput !== this.input.buffer) {
      job.inBuffer = this.input.buffer as SharedArrayBuffer;
      this.sentInput = this.input.buffer;
    }
    if (this.output.length < outLength) {
      this.output = new Float32Array(new SharedArrayBuffer(4 * grown(outLength)));
      job.outBuffer = this.output.buffer as SharedArrayBuffer;
    }
    this.outLength = outLength;
    this.port.postMessage(job, filterData ? [filterData.buffer as ArrayBuffer] : []);
    this.seq += 1;
    Atomics.store(this.ctrl, 0, this.seq);
    Atomics.notify(this.ctrl, 0);
  }

  /**
   * Waits (blocking this thread) for the part sent last, and returns its output: a view into the
   * shared output buffer, valid until the next {@link send}.
   */
  receive(): Float32Array {
    const deadline = Date.now() + this.options.timeoutMs;
    while (Atomics.load(this.ctrl, 1) !== this.seq) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `wasm conv threads: the worker did not answer within ${this.options.timeoutMs} ms (call disableWasmConvThreads() and report this)`,
        );
      }
      // at most 1 ms at a time: Node's main thread has been seen to miss the worker's notify once in
      // a few hundred frames, which without a limit cost the whole timeout
      Atomics.wait(this.ctrl, 1, Atomics.load(this.ctrl, 1), Math.min(left, 1));
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
    return this.output.subarray(0, this.outLength);
  }

  stats(): WasmConvThreadsStats {
    return {
      splitKernels: this.parts,
      cachedFilters: this.cached.size,
      cachedFilterBytes: this.cachedBytes,
      filterBytesSent: this.filterBytesSent,
    };
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

let active: { worker: ConvWorker; originalConv: tf.KernelFunc; originalMatMul: tf.KernelFunc } | null = null;

/** What the two threads have done since {@link enableWasmConvThreads}: see {@link wasmConvThreadsStats}. */
export interface WasmConvThreadsStats {
  /** Kernels (`Conv2D`, `BatchMatMul`) split between the threads; the others ran on one. */
  splitKernels: number;
  /** Filters (and right operands) the worker holds now, and their bytes. */
  cachedFilters: number;
  cachedFilterBytes: number;
  /** Bytes of filters copied to the worker in all: flat after the first frames of inference. */
  filterBytesSent: number;
}

/**
 * What {@link enableWasmConvThreads} has done so far, or null when it is not in effect: whether
 * the kernels of a model are large enough to be split, and whether its weights stay cached.
 */
export function wasmConvThreadsStats(): WasmConvThreadsStats | null {
  return active ? active.worker.stats() : null;
}

/** Whether {@link enableWasmConvThreads} is in effect. */
export function wasmConvThreadsEnabled(): boolean {
  return active !== null;
}

/** Starts the worker thread of a second wasm backend. */
async function startWorker(options: Required<WasmConvThreadsOptions>): Promise<ConvWorker> {
  const require = selfRequire();
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

type Pad4 = ConvOp['pad'];

/**
 * Runs the large `Conv2D`s and `BatchMatMul`s of the wasm backend on two threads: this one and a
 * worker thread with a wasm backend of its own (Node only). Call it after `selectBackend('wasm')`;
 * it resolves when the worker is ready. Returns false (and does nothing) when the wasm backend is
 * not registered, the threads are already on, or the backend runs on XNNPACK's own threads
 * (`wasmThreads` > 1, usually the faster choice). Only NHWC float32 convolutions and float32
 * matrix products with batch 1 and an untransposed left operand are split; the others run as
 * before.
 */
export async function enableWasmConvThreads(options: WasmConvThreadsOptions = {}): Promise<boolean> {
  if (active || !tf.getKernel('Conv2D', 'wasm') || !tf.getKernel('BatchMatMul', 'wasm')) return false;
  // XNNPACK's own threads already share the cores
  if (wasmBackendThreads() > 1) return false;
  const opts: Required<WasmConvThreadsOptions> = {
    minFlops: options.minFlops ?? 3e7,
    filterCacheBytes: options.filterCacheBytes ?? 512 * 2 ** 20,
    timeoutMs: options.timeoutMs ?? 60_000,
  };
  const worker = await startWorker(opts);
  const conv = tf.getKernel('Conv2D', 'wasm');
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  if (active || !conv || !matMul) {
    await worker.stop();
    return false;
  }
  const originalConv = conv.kernelFunc;
  const originalMatMul = matMul.kernelFunc;
  replaceWasmKernel(
    'Conv2D',
    (args) => splitConv(args, worker, originalConv, opts.minFlops) ?? originalConv(args),
  );
  replaceWasmKernel(
    'BatchMatMul',
    (args) => splitMatMul(args, worker, originalMatMul, opts.minFlops) ?? originalMatMul(args),
  );
  active = { worker, originalConv, originalMatMul };
  return true;
}

/** Puts the one-thread `Conv2D` and `BatchMatMul` back and stops the worker. */
export async function disableWasmConvThreads(): Promise<void> {
  if (!active) return;
  const { worker, originalConv, originalMatMul } = active;
  active = null;
  replaceWasmKernel('Conv2D', originalConv);
  replaceWasmKernel('BatchMatMul', originalMatMul);
  await worker.stop();
}

/** A shared buffer's new length in floats: the next power of two, at least 64 Ki. */
function grown(length: number): number {
  return Math.max(2 ** 16, 2 ** Math.ceil(Math.log2(length)));
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
  worker.inputBuffer(theirs.values.length).set(theirs.values);
  worker.send(
    theirs.shape,
    (parts[1].b1 - parts[1].b0) * (parts[1].r1 - parts[1].r0) * info.outWidth * info.outChannels,
    filter,
    [...filter.shape],
    () => copy(backend.typedArrayFromHeap(filter) as Float32Array),
    {
      op: 'conv',
      strides,
      dilations,
      pad: parts[1].pad,
    },
  );

  // this thread's part, on a copy of its input rows
  const attrsMine = { ...attrs, pad: parts[0].pad, dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
  return runOursAndJoin(
    backend,
    worker,
    inputOf(parts[0]).shape,
    () => inputOf(parts[0]).values,
    (mine) =>
      original({ inputs: { x: mine, filter }, attrs: attrsMine, backend: args.backend as tf.KernelBackend }),
    [N, outH, info.outWidth, info.outChannels],
    N >= 2 ? parts[1].b0 * outImage : parts[1].r0 * info.outWidth * info.outChannels,
  );
}

/**
 * The two-thread matrix product, or null when this one stays on one thread. Only single products
 * (batch 1) with an untransposed left operand are split, by its rows; the right operand (a layer's
 * weight, mostly) is cached by the worker like a filter.
 */
function splitMatMul(
  args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown },
  worker: ConvWorker,
  original: tf.KernelFunc,
  minFlops: number,
): tf.TensorInfo | null {
  const a = args.inputs.a as tf.TensorInfo;
  const b = args.inputs.b as tf.TensorInfo;
  const { transposeA, transposeB } = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || transposeA) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  if (tf.util.sizeFromShape(a.shape.slice(0, -2)) !== 1 || tf.util.sizeFromShape(b.shape.slice(0, -2)) !== 1)
    return null;
  const M = a.shape[ra - 2]!;
  const K = a.shape[ra - 1]!;
  const N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const inner = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  if (inner !== K || M < 2 || 2 * M * K * N < minFlops) return null;
  const backend = args.backend as WasmBackend;
  const half = Math.ceil(M / 2);
  const bShape = transposeB ? [N, K] : [K, N];

  // the worker's rows first, so that both run at once
  const all = backend.typedArrayFromHeap(a) as Float32Array;
  worker.inputBuffer((M - half) * K).set(all.subarray(half * K, M * K));
  worker.send(
    [M - half, K],
    (M - half) * N,
    b,
    bShape,
    () => copy(backend.typedArrayFromHeap(b) as Float32Array),
    { op: 'matmul', transposeB: Boolean(transposeB) },
  );

  // this thread's rows, on a copy
  const attrsMine = { transposeA: false, transposeB: Boolean(transposeB) } as unknown as tf.NamedAttrMap;
  return runOursAndJoin(
    backend,
    worker,
    [half, K],
    () => (backend.typedArrayFromHeap(a) as Float32Array).subarray(0, half * K),
    (mine) =>
      original({ inputs: { a: mine, b }, attrs: attrsMine, backend: args.backend as tf.KernelBackend }),
    [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), M, N],
    half * N,
  );
}

/**
 * This thread's half of a split kernel, after the worker's was sent: runs `run` on a copy of this
 * half's input (`values`, read after the copy is allocated, since that may move the wasm heap),
 * collects the worker's half, and joins them: this half's output first, the worker's from
 * `theirsAt`. Whatever fails, the worker's answer is collected and nothing is left on the heap.
 */
function runOursAndJoin(
  backend: WasmBackend,
  worker: ConvWorker,
  shape: number[],
  values: () => Float32Array,
  run: (mine: tf.TensorInfo) => tf.TensorInfo | tf.TensorInfo[],
  outShape: number[],
  theirsAt: number,
): tf.TensorInfo {
  const mine = backend.makeOutput(shape, 'float32');
  let result: tf.TensorInfo;
  try {
    (backend.typedArrayFromHeap(mine) as Float32Array).set(values());
    result = run(mine) as tf.TensorInfo;
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
  let theirs: Float32Array;
  try {
    theirs = worker.receive();
  } catch (e) {
    backend.disposeData(result.dataId);
    throw e;
  }
  const out = backend.makeOutput(outShape, 'float32');
  const outValues = backend.typedArrayFromHeap(out) as Float32Array;
  outValues.set(backend.typedArrayFromHeap(result) as Float32Array, 0);
  outValues.set(theirs, theirsAt);
  backend.disposeData(result.dataId);
  return out;
}
