/**
 * A small WebAssembly assembler: the binary encoding of the instructions our SIMD kernels use, and
 * the module around them. Each module imports the wasm backend's memory as `env.memory`, so its
 * functions read and write tensors in place, and exports its functions as `f0`, `f1`, …
 */

export function u32(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export function i32(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const str = (s: string): number[] => [...u32(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const vec = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...u32(body.length), ...body];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** Opcodes (core and SIMD, the SIMD ones after the 0xfd prefix). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...u32(d)],
  brIf: (d: number) => [0x0d, ...u32(d)],
  get: (l: number) => [0x20, ...u32(l)],
  set: (l: number) => [0x21, ...u32(l)],
  i32const: (v: number) => [0x41, ...i32(v)],
  i32add: [0x6a],
  i32sub: [0x6b],
  i32shl: [0x74],
  i32geU: [0x4f],
  i32geS: [0x4e],
  f32load: [0x2a, 0x02, 0x00],
  simd: (code: number) => [0xfd, ...u32(code)],
};
export const f32x4splat = /* @__PURE__ */ op.simd(0x13);
export const f32x4ge = /* @__PURE__ */ op.simd(0x46);
export const v128and = /* @__PURE__ */ op.simd(0x4e);
export const f32x4nearest = /* @__PURE__ */ op.simd(0x6a);
export const f32x4add = /* @__PURE__ */ op.simd(0xe4);
export const f32x4sub = /* @__PURE__ */ op.simd(0xe5);
export const f32x4mul = /* @__PURE__ */ op.simd(0xe6);
export const f32x4div = /* @__PURE__ */ op.simd(0xe7);
export const f32x4pmin = /* @__PURE__ */ op.simd(0xea);
export const f32x4pmax = /* @__PURE__ */ op.simd(0xeb);
export const v128zero = /* @__PURE__ */ op
  .simd(0x0c)
  .concat(new Array<number>(16).fill(0));
export const f32x4one = /* @__PURE__ */ op
  .simd(0x0c)
  .concat([0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f]);

/** A function body: its locals (after the parameters) and code. */
export function body(locals: [number, number][], code: number[][]): number[] {
  const b = [...vec(locals.map(([n, t]) => [...u32(n), t])), ...code.flat(), ...op.end];
  return [...u32(b.length), ...b];
}

/** A module that imports memory `env.memory` and exports `f` functions. */
export function module(
  memory: WebAssembly.Memory,
  funcs: { params: number[]; body: number[] }[],
): Uint8Array<ArrayBuffer> {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  // A shared memory must declare a maximum; 65536 pages (4 GiB) accepts any memory.
  const limits = shared ? [0x03, ...u32(0), ...u32(65536)] : [0x00, ...u32(0)];
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), 0x00]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, ...limits]])),
    ...section(3, vec(funcs.map((_, i) => u32(i)))),
    ...section(7, vec(funcs.map((_, i) => [...str(`f${i}`), 0x00, ...u32(i)]))),
    ...section(10, vec(funcs.map((f) => f.body))),
  ];
  return new Uint8Array(bytes);
}

export const loadAt = (off: number) => [...op.simd(0x00), 0x02, ...u32(off)];
export const storeAt = (off: number) => [...op.simd(0x0b), 0x02, ...u32(off)];
export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Groups of 4 lanes a kernel keeps in registers at once; one function is compiled per entry. */
export const UNROLLS = [4, 3, 2, 1] as const;

/** Index in {@link UNROLLS} of the largest unroll that divides `vectors` (groups of 4 lanes). */
export const unrollFor = (vectors: number): number => UNROLLS.findIndex((u) => vectors % u === 0);

/** `local += by` on i32 locals (`by`: the instructions that push the increment). */
export const increment = (local: number, by: number[][]): number[][] => [
  op.get(local),
  ...by,
  op.i32add,
  op.set(local),
];

/**
 * `for (counter = 0; counter < limit; counter += step) { code; next }` on i32 locals (unsigned
 * compare; `step` pushes the increment, 1 by default).
 */
export function countedLoop(
  counter: number,
  limit: number,
  code: number[][],
  next: number[][] = [],
  step: number[][] = [op.i32const(1)],
): number[][] {
  return [
    ...[op.i32const(0), op.set(counter), op.block, op.loop],
    ...[op.get(counter), op.get(limit), op.i32geU, op.brIf(1)],
    ...code,
    ...next,
    ...increment(counter, step),
    ...[op.br(0), op.end, op.end],
  ];
}

export function instantiate(memory: WebAssembly.Memory, funcs: { params: number[]; body: number[] }[]) {
  const bytes = module(memory, funcs);
  const m = new WebAssembly.Module(bytes);
  const inst = new WebAssembly.Instance(m, { env: { memory } });
  return funcs.map((_, i) => inst.exports[`f${i}`] as (...a: number[]) => void);
}

/**
 * A function that compiles `funcs()` once per wasm memory and returns their exports in order, or
 * null where WebAssembly SIMD or importing the memory is not available.
 */
export function perMemory<F>(
  funcs: () => { params: number[]; body: number[] }[],
): (memory: WebAssembly.Memory | undefined) => F[] | null {
  const compiled = new WeakMap<WebAssembly.Memory, F[] | null>();
  return (memory) => {
    if (!memory || typeof WebAssembly === 'undefined') return null;
    let fs = compiled.get(memory);
    if (fs === undefined) {
      try {
        fs = instantiate(memory, funcs()) as F[];
      } catch {
        fs = null;
      }
      compiled.set(memory, fs);
    }
    return fs;
  };
}
