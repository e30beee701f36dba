import { formatShape, type OpRecord, ShapeError } from '@spiketrack/neurons';

/**
 * Fan-out of each input index along one spatial axis of a convolution: how many (output index,
 * kernel tap) pairs read it. Output `o` with tap `t` reads the unpadded input index
 * `o·stride − padBefore + t·dilation`; reads that fall into the zero padding read no input element,
 * and input elements that no window reaches (e.g. the last row under stride 2) get 0.
 */
export function axisFanout(
  size: number,
  outSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBefore: number,
): Float64Array {
  const f = new Float64Array(size);
  for (let o = 0; o < outSize; o++) {
    const base = o * stride - padBefore;
    for (let t = 0; t < kernel; t++) {
      const i = base + t * dilation;
      if (i >= 0 && i < size) f[i]! += 1;
    }
  }
  return f;
}

const prod = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * What a recorded operation costs and how its synaptic operations are counted, derived on the host
 * from the record's shapes only.
 *
 * The left operand (`input`) is reduced on the device to a small map whose entries are then weighted
 * by a fan-out (see {@link OpGeometry.acsPerUnit}):
 * - conv2d / depthwise: `Σ_{n,c} x` → `[H, W]`; fan-out `(O/groups)·Fh(h)·Fw(w)`;
 * - conv1d: `Σ_{n,c} x` → `[L]`; fan-out `(O/groups)·Fl(l)`;
 * - linear: `Σ_{rows} x` → `[I]`; fan-out `O`;
 * - matmul: `Σ_i A_ik` → `[batchA, K]`; fan-out `N · batchOut/batchA`.
 */
export interface OpGeometry {
  /** Multiply-accumulates of the dense operation (what it costs on real-valued input). */
  denseMacs: number;
  /** Elements of the left operand. */
  inputElements: number;
  /** Axes of the left operand summed on the device to get its map. */
  reduceAxes: number[];
  /** Entries of the left operand's map. */
  mapSize: number;
  /** Fan-out of each map entry (synaptic operations per unit of spike count). */
  acsPerUnit: Float64Array;
  /** matmul only: the right operand's geometry. */
  matmul?: MatMulGeometry;
}

/** The right operand of a matmul, with the batch/transpose bookkeeping of the counts. */
export interface MatMulGeometry {
  m: number;
  k: number;
  n: number;
  /** Product of the output's batch dimensions. */
  batchOut: number;
  /** Elements of the right operand. */
  otherElements: number;
  /** Axis of `input` summed to get `[batchA…, K]` (the row axis i of A). */
  aRowAxis: number;
  /** Axis of `other` summed to get `[batchB…, K]` (the column axis j of B). */
  bColAxis: number;
  /** Entries of B's map `Σ_j B_kj` → `[batchB, K]`. */
  otherMapSize: number;
  /** Fan-out of B's map entries when only B spikes: `M · batchOut/batchB`. */
  otherAcsPerUnit: number;
  /** Entries of the both-spiking product map `Σ_i A_ik · nnz_j(B_kj)` → `[batchOut, K]`. */
  productSize: number;
}

function fail(path: string, msg: string): never {
  throw new ShapeError(`countOps(${path}): ${msg}`);
}

function convGeometry(op: OpRecord, spatialRank: 1 | 2): OpGeometry {
  const x = op.input.shape;
  const out = op.outputShape;
  const w = op.weightShape;
  const rank = spatialRank + 2;
  if (x.length !== rank || out.length !== rank || w.length !== spatialRank + 2) {
    fail(
      op.path,
      `a ${op.kind} record needs a rank-${rank} input and output and a rank-${spatialRank + 2} weight, got input ${formatShape(x)}, output ${formatShape(out)}, weight ${formatShape(w)}`,
    );
  }
  const inC = x[rank - 1]!;
  const outC = out[rank - 1]!;
  const g = op.groups;
  if (!Number.isInteger(g) || g < 1 || inC % g !== 0 || outC % g !== 0) {
    fail(op.path, `groups ${g} must divide the ${inC} input and ${outC} output channels`);
  }
  const n = x[0]!;
  if (out[0] !== n) fail(op.path, `input ${formatShape(x)} and output ${formatShape(out)} differ in batch`);
  const perChannel = outC / g;
  // Kernel taps: conv2d/depthwise [kh, kw, …], conv1d [k, I/g, O] (a 1×k conv on rows of height 1).
  const kh = spatialRank === 2 ? w[0]! : 1;
  const kw = spatialRank === 2 ? w[1]! : w[0]!;
  const denseMacs = prod(out) * kh * kw * (inC / g);
  if (spatialRank === 2) {
    const [, h, wd] = x as [number, number, number, number];
    const fh = axisFanout(h, out[1]!, kh, op.stride[0], op.dilation[0], op.padding[0][0]);
    const fw = axisFanout(wd, out[2]!, kw, op.stride[1], op.dilation[1], op.padding[1][0]);
    const acsPerUnit = new Float64Array(h * wd);
    for (let i = 0; i < h; i++)
      for (let j = 0; j < wd; j++) acsPerUnit[i * wd + j] = perChannel * fh[i]! * fw[j]!;
    return { denseMacs, inputElements: prod(x), reduceAxes: [0, 3], mapSize: h * wd, acsPerUnit };
  }
  const l = x[1]!;
  const fl = axisFanout(l, out[1]!, kw, op.stride[1], op.dilation[1], op.padding[1][0]);
  return {
    denseMacs,
    inputElements: prod(x),
    reduceAxes: [0, 2],
    mapSize: l,
    acsPerUnit: fl.map((v) => v * perChannel),
  };
}

function linearGeometry(op: OpRecord): OpGeometry {
  const x = op.input.shape;
  const out = op.outputShape;
  const inF = x[x.length - 1];
  const outF = out[out.length - 1];
  if (inF === undefined || outF === undefined || prod(x) / inF !== prod(out) / outF) {
    fail(op.path, `linear input ${formatShape(x)} and output ${formatShape(out)} do not match`);
  }
  return {
    denseMacs: prod(out) * inF,
    inputElements: prod(x),
    reduceAxes: [...Array(x.length - 1).keys()],
    mapSize: inF,
    acsPerUnit: new Float64Array(inF).fill(outF),
  };
}

function matmulGeometry(op: OpRecord): OpGeometry {
  const a = op.input.shape;
  const b = op.other?.shape;
  if (!b) fail(op.path, 'a matmul record needs its right operand (other)');
  const out = op.outputShape;
  if (a.length < 2 || b.length < 2 || out.length < 2) {
    fail(op.path, `matmul operands ${formatShape(a)} and ${formatShape(b)} must have rank ≥ 2`);
  }
  const ta = op.transposeA ?? false;
  const tb = op.transposeB ?? false;
  const m = ta ? a[a.length - 1]! : a[a.length - 2]!;
  const k = ta ? a[a.length - 2]! : a[a.length - 1]!;
  const kb = tb ? b[b.length - 1]! : b[b.length - 2]!;
  const n = tb ? b[b.length - 2]! : b[b.length - 1]!;
  if (k !== kb || out[out.length - 2] !== m || out[out.length - 1] !== n) {
    fail(
      op.path,
      `matmul ${formatShape(a)}${ta ? 'ᵀ' : ''} · ${formatShape(b)}${tb ? 'ᵀ' : ''} does not give ${formatShape(out)}`,
    );
  }
  const batchOut = prod(out.slice(0, -2));
  const batchA = prod(a.slice(0, -2));
  const batchB = prod(b.slice(0, -2));
  return {
    denseMacs: batchOut * m * k * n,
    inputElements: prod(a),
    reduceAxes: [ta ? a.length - 1 : a.length - 2],
    mapSize: batchA * k,
    acsPerUnit: new Float64Array(batchA * k).fill((n * batchOut) / batchA),
    matmul: {
      m,
      k,
      n,
      batchOut,
      otherElements: prod(b),
      aRowAxis: ta ? a.length - 1 : a.length - 2,
      bColAxis: tb ? b.length - 2 : b.length - 1,
      otherMapSize: batchB * k,
      otherAcsPerUnit: (m * batchOut) / batchB,
      productSize: batchOut * k,
    },
  };
}

/** The geometry of one recorded operation. Inconsistent records throw a {@link ShapeError}. */
export function opGeometry(op: OpRecord): OpGeometry {
  switch (op.kind) {
    case 'conv2d':
    case 'depthwiseConv2d':
      return convGeometry(op, 2);
    case 'conv1d':
      return convGeometry(op, 1);
    case 'linear':
      return linearGeometry(op);
    case 'matmul':
      return matmulGeometry(op);
    default:
      return fail(op.path, `unknown operation kind '${String((op as { kind: unknown }).kind)}'`);
  }
}
