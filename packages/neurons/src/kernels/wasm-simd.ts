/**
 * Tiny WebAssembly SIMD kernels for the `wasm` backend, assembled byte by byte (`wasm-assembler.ts`) and
 * instantiated on the backend's own memory (tfjs-backend-wasm exposes it as `wasm.asm.memory`), so
 * they read the input tensors and write the outputs in place, 4 neurons per instruction.
 *
 * The arithmetic is what the composite runs in XNNPACK: IEEE float32 `sub`/`mul`/`add`/`div`
 * (no fused multiply-add), `nearest` (half to even), and the clamp as `pmax(0, x)` then
 * `pmin(·, D)` (NaN and −0 become +0, as tfjs-backend-wasm's `clipByValue` does). Neurons beyond
 * the last multiple of 4 are left to the JavaScript loop.
 *
 * Where WebAssembly SIMD or the memory is not available, {@link wasmSimdKernels} returns null and
 * the kernels use the JavaScript loops.
 */
import type { ResetMode } from '../neurons/common';
import type { FusedOutput } from './names';
import {
  body,
  F32,
  f32x4add,
  f32x4div,
  f32x4ge,
  f32x4mul,
  f32x4nearest,
  f32x4one,
  f32x4pmax,
  f32x4pmin,
  f32x4splat,
  f32x4sub,
  I32,
  instantiate,
  loadAt,
  op,
  range,
  storeAt,
  V128,
  v128and,
  v128zero,
} from './wasm-assembler';

/**
 * `(x, y, k, stride, bytes, steps, levels, inverse)`: pointers and byte counts into the memory;
 * `inverse` is `1/D`, used instead of dividing by D when D is a power of two.
 */
export type NiLifSimd = (
  x: number,
  y: number,
  k: number,
  stride: number,
  bytes: number,
  steps: number,
  levels: number,
  inverse: number,
) => void;

/** `(x, y, stride, bytes, steps, tau, vThreshold, rest, vReset, inverseTau)`. */
export type LifSimd = (
  x: number,
  y: number,
  stride: number,
  bytes: number,
  steps: number,
  tau: number,
  vThreshold: number,
  rest: number,
  vReset: number,
  inverseTau: number,
) => void;

/** The structural choices a LIF SIMD function is generated for. */
export interface LifShape {
  reset: ResetMode;
  decayInput: boolean;
  restZero: boolean;
  vResetZero: boolean;
  /** τ is a power of two: `a/τ` is computed as `a·(1/τ)`, which is the same float32. */
  tauPowerOfTwo: boolean;
  output: FusedOutput;
}

// ---------------------------------------------------------------------------------------------
// NI-LIF

/** Vectors of 4 neurons per loop iteration (independent chains keep the CPU busy). */
export const SIMD_UNROLL = 4;
/** Neurons the SIMD loop covers per iteration. */
export const SIMD_NEURONS = 4 * SIMD_UNROLL;

/**
 * params: 0 x, 1 y, 2 k, 3 stride, 4 bytes, 5 steps, 6 levels, 7 inverse (f32)
 * locals: 8 i, 9 p, 10 t, 11 xa, 12 ya (i32); 13 vD, 14 vInv, 15 vK, then mem_u, s_u (v128)
 */
function niLifBody(output: FusedOutput, powerOfTwo: boolean): number[] {
  const [X, Y, K, STRIDE, BYTES, STEPS, LEVELS, INVERSE] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [I, P, T, XA, YA, VD, VINV, VK] = [8, 9, 10, 11, 12, 13, 14, 15];
  const U = SIMD_UNROLL;
  const MEM = (u: number) => 16 + u;
  const S = (u: number) => 16 + U + u;
  const quant = (u: number) => [
    v128zero,
    op.get(MEM(u)),
    f32x4pmax,
    op.get(VD),
    f32x4pmin,
    f32x4nearest,
    ...(powerOfTwo ? [op.get(VINV), f32x4mul] : [op.get(VD), f32x4div]),
    op.set(S(u)),
  ];
  const store = (u: number) => [op.get(YA), op.get(output === 'spikes' ? S(u) : MEM(u)), storeAt(16 * u)];
  const addresses = (at: number) => [
    op.get(X),
    op.get(at),
    op.i32add,
    op.set(XA),
    op.get(Y),
    op.get(at),
    op.i32add,
    op.set(YA),
  ];
  return body(
    [
      [5, I32],
      [3 + 2 * U, V128],
    ],
    [
      ...[op.get(LEVELS), f32x4splat, op.set(VD), op.get(INVERSE), f32x4splat, op.set(VINV)],
      op.i32const(0),
      op.set(I),
      op.block,
      op.loop,
      ...[op.get(I), op.get(BYTES), op.i32geU, op.brIf(1)],
      ...addresses(I),
      // mem = x[i]
      ...range(U).flatMap((u) => [op.get(XA), loadAt(16 * u), op.set(MEM(u)), ...quant(u), ...store(u)]),
      ...[op.get(I), op.set(P), op.i32const(1), op.set(T)],
      op.block,
      op.loop,
      ...[op.get(T), op.get(STEPS), op.i32geS, op.brIf(1)],
      ...[op.get(P), op.get(STRIDE), op.i32add, op.set(P)],
      ...addresses(P),
      ...[op.get(K), op.get(T), op.i32const(1), op.i32sub, op.i32const(2), op.i32shl, op.i32add, op.f32load],
      ...[f32x4splat, op.set(VK)],
      // mem = (mem − s)·k[t−1] + x[p]
      ...range(U).flatMap((u) => [
        ...[op.get(MEM(u)), op.get(S(u)), f32x4sub, op.get(VK), f32x4mul],
        ...[op.get(XA), loadAt(16 * u), f32x4add, op.set(MEM(u))],
        ...quant(u),
        ...store(u),
      ]),
      ...[op.get(T), op.i32const(1), op.i32add, op.set(T)],
      op.br(0),
      op.end,
      op.end,
      ...[op.get(I), op.i32const(16 * U), op.i32add, op.set(I)],
      op.br(0),
      op.end,
      op.end,
    ],
  );
}

// ---------------------------------------------------------------------------------------------
// LIF

/**
 * params: 0 x, 1 y, 2 stride, 3 bytes, 4 steps, 5 tau, 6 vth, 7 rest, 8 vReset, 9 inverseTau (f32)
 * locals: 10 i, 11 p, 12 t, 13 xa, 14 ya (i32); 15 vTau, 16 vVth, 17 vRest, 18 vVReset, then
 * v_u, h_u, s_u (v128)
 */
function lifBody(c: LifShape): number[] {
  const [X, Y, STRIDE, BYTES, STEPS, TAU, VTH, REST, VRESET, INVTAU] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [I, P, T, XA, YA, VTAU, VVTH, VREST, VVRESET] = [10, 11, 12, 13, 14, 15, 16, 17, 18];
  const U = SIMD_UNROLL;
  const V = (u: number) => 19 + u;
  const H = (u: number) => 19 + U + u;
  const S = (u: number) => 19 + 2 * U + u;
  const splat = (from: number, to: number) => [op.get(from), f32x4splat, op.set(to)];
  // vTau holds τ, or 1/τ when τ is a power of two (then the quotient is a product)
  const byTau = c.tauPowerOfTwo ? [op.get(VTAU), f32x4mul] : [op.get(VTAU), f32x4div];
  const step = (u: number): number[][] => {
    const vRel = c.restZero ? [op.get(V(u))] : [op.get(V(u)), op.get(VREST), f32x4sub];
    const xv = [op.get(XA), loadAt(16 * u)];
    const charge = c.decayInput
      ? [op.get(V(u)), ...xv, ...vRel, f32x4sub, ...byTau, f32x4add]
      : [op.get(V(u)), ...vRel, ...byTau, f32x4sub, ...xv, f32x4add];
    let reset: number[][];
    if (c.reset === 'none') reset = [op.get(H(u)), op.set(V(u))];
    else if (c.reset === 'soft')
      reset = [op.get(H(u)), op.get(S(u)), op.get(VVTH), f32x4mul, f32x4sub, op.set(V(u))];
    else {
      reset = [op.get(H(u)), f32x4one, op.get(S(u)), f32x4sub, f32x4mul];
      if (!c.vResetZero) reset.push(op.get(S(u)), op.get(VVRESET), f32x4mul, f32x4add);
      reset.push(op.set(V(u)));
    }
    return [
      ...charge,
      op.set(H(u)),
      // s = (h − vth ≥ 0) as 1.0 / +0
      ...[op.get(H(u)), op.get(VVTH), f32x4sub, v128zero, f32x4ge, f32x4one, v128and, op.set(S(u))],
      ...[op.get(YA), op.get(c.output === 'spikes' ? S(u) : H(u)), storeAt(16 * u)],
      ...reset,
    ];
  };
  return body(
    [
      [5, I32],
      [4 + 3 * U, V128],
    ],
    [
      ...splat(c.tauPowerOfTwo ? INVTAU : TAU, VTAU),
      ...splat(VTH, VVTH),
      ...splat(REST, VREST),
      ...splat(VRESET, VVRESET),
      op.i32const(0),
      op.set(I),
      op.block,
      op.loop,
      ...[op.get(I), op.get(BYTES), op.i32geU, op.brIf(1)],
      ...range(U).flatMap((u) => [op.get(VREST), op.set(V(u))]),
      ...[op.get(I), op.set(P), op.i32const(0), op.set(T)],
      op.block,
      op.loop,
      ...[op.get(T), op.get(STEPS), op.i32geS, op.brIf(1)],
      ...[op.get(X), op.get(P), op.i32add, op.set(XA), op.get(Y), op.get(P), op.i32add, op.set(YA)],
      ...range(U).flatMap(step),
      ...[op.get(P), op.get(STRIDE), op.i32add, op.set(P)],
      ...[op.get(T), op.i32const(1), op.i32add, op.set(T)],
      op.br(0),
      op.end,
      op.end,
      ...[op.get(I), op.i32const(16 * U), op.i32add, op.set(I)],
      op.br(0),
      op.end,
      op.end,
    ],
  );
}

// ---------------------------------------------------------------------------------------------
// Instances

/** The SIMD kernels bound to one wasm memory. */
export interface WasmSimdKernels {
  /** NI-LIF; `levelsPowerOfTwo` selects the product by `1/D` instead of the quotient by D. */
  niLif(output: FusedOutput, levelsPowerOfTwo: boolean): NiLifSimd;
  /** LIF for this structure (compiled on first use), or null if it cannot be compiled here. */
  lif(shape: LifShape): LifSimd | null;
}

const perMemory = /* @__PURE__ */ new WeakMap<WebAssembly.Memory, WasmSimdKernels | null>();

function create(memory: WebAssembly.Memory): WasmSimdKernels | null {
  try {
    const niParams = [I32, I32, I32, I32, I32, I32, F32, F32];
    const ni = instantiate(memory, [
      { params: niParams, body: niLifBody('spikes', false) },
      { params: niParams, body: niLifBody('spikes', true) },
      { params: niParams, body: niLifBody('membrane', false) },
      { params: niParams, body: niLifBody('membrane', true) },
    ]) as NiLifSimd[];
    const lifs = new Map<string, LifSimd | null>();
    return {
      niLif: (output, pow2) => ni[(output === 'spikes' ? 0 : 2) + (pow2 ? 1 : 0)]!,
      lif: (shape) => {
        const key = `${shape.reset},${shape.decayInput},${shape.restZero},${shape.vResetZero},${shape.tauPowerOfTwo},${shape.output}`;
        let f = lifs.get(key);
        if (f === undefined) {
          const params = [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32];
          try {
            f = instantiate(memory, [{ params, body: lifBody(shape) }])[0] as LifSimd;
          } catch {
            f = null;
          }
          lifs.set(key, f);
        }
        return f;
      },
    };
  } catch {
    // No WebAssembly SIMD here, or the memory cannot be imported: the JS loops take over.
    return null;
  }
}

/** Whether the SIMD kernels are turned off (tests of the JS fallback set this). */
let disabled = false;

/** Turns the SIMD kernels off (`false`) or back on; returns the previous setting. For tests. */
export function setWasmSimdEnabled(enabled: boolean): boolean {
  const was = !disabled;
  disabled = !enabled;
  return was;
}

/** The SIMD kernels for this wasm memory, or null where they cannot run. */
export function wasmSimdKernels(memory: WebAssembly.Memory | undefined): WasmSimdKernels | null {
  if (disabled || !memory || typeof WebAssembly === 'undefined') return null;
  let k = perMemory.get(memory);
  if (k === undefined) {
    k = create(memory);
    perMemory.set(memory, k);
  }
  return k;
}
