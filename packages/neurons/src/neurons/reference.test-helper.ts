/**
 * Test-only: an independent reference for the neuron equations of DESIGN.md, written per element
 * in double precision with a tiny scalar reverse-mode autodiff. It shares no code with the tfjs
 * implementation, so forward values and BPTT gradients can be compared against it.
 */

export class Var {
  grad = 0;
  constructor(
    readonly val: number,
    readonly parents: [Var, number][] = [],
  ) {}
}

export const c = (v: number) => new Var(v);
export const add = (a: Var, b: Var) =>
  new Var(a.val + b.val, [
    [a, 1],
    [b, 1],
  ]);
export const sub = (a: Var, b: Var) =>
  new Var(a.val - b.val, [
    [a, 1],
    [b, -1],
  ]);
export const mul = (a: Var, b: Var) =>
  new Var(a.val * b.val, [
    [a, b.val],
    [b, a.val],
  ]);
export const div = (a: Var, b: Var) =>
  new Var(a.val / b.val, [
    [a, 1 / b.val],
    [b, -a.val / (b.val * b.val)],
  ]);
export const sigmoidV = (a: Var) => {
  const s = 1 / (1 + Math.exp(-a.val));
  return new Var(s, [[a, s * (1 - s)]]);
};
/** Identity in value, no gradient. */
export const detach = (a: Var) => new Var(a.val);
/** Heaviside forward (Θ(0) = 1) with surrogate derivative `g`. */
export const spike = (a: Var, g: (u: number) => number) => new Var(a.val >= 0 ? 1 : 0, [[a, g(a.val)]]);

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}
/** round(clamp(a, lo, hi)) with straight-through gradient inside [lo, hi]. */
export const quant = (a: Var, lo: number, hi: number) =>
  new Var(roundHalfEven(Math.min(hi, Math.max(lo, a.val))), [[a, a.val >= lo && a.val <= hi ? 1 : 0]]);

/** Backpropagates `sum(seeds[i] · outs[i])`. */
export function backward(outs: Var[], seeds: number[]): void {
  const order: Var[] = [];
  const seen = new Set<Var>();
  const visit = (v: Var) => {
    // iterative DFS to avoid deep recursion
    const stack: [Var, number][] = [[v, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i === 0 && seen.has(node)) {
        stack.pop();
        continue;
      }
      seen.add(node);
      if (i < node.parents.length) {
        top[1]++;
        const p = node.parents[i]![0];
        if (!seen.has(p)) stack.push([p, 0]);
      } else {
        order.push(node);
        stack.pop();
      }
    }
  };
  for (const o of outs) visit(o);
  outs.forEach((o, i) => {
    o.grad += seeds[i]!;
  });
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    for (const [p, g] of n.parents) p.grad += n.grad * g;
  }
}

export type Reset = 'hard' | 'soft' | 'none';

export interface RefOpts {
  kind: 'if' | 'lif' | 'plif' | 'alif' | 'ilif';
  tau?: number;
  decayInput?: boolean;
  reset?: Reset;
  vReset?: number;
  detachReset?: boolean;
  g: (u: number) => number;
  tauAdapt?: number;
  beta?: number;
  levels?: number;
}

/**
 * One element's trajectory: inputs `xs` (Vars), threshold `vth` and PLIF `w` (Vars, shared across
 * elements so their gradients accumulate). Returns the spike Vars.
 */
export function runElement(xs: Var[], vth: Var, w: Var, o: RefOpts): Var[] {
  const reset = o.reset ?? (o.kind === 'alif' ? 'soft' : 'hard');
  const rest = reset === 'hard' ? (o.vReset ?? 0) : 0;
  const decayInput = o.decayInput ?? true;
  const one = c(1);
  let v = c(o.kind === 'ilif' ? 0 : rest);
  let a = c(0);
  let sPrev = c(0);
  const out: Var[] = [];
  const rho = Math.exp(-1 / (o.tauAdapt ?? 20));
  for (let t = 0; t < xs.length; t++) {
    const x = xs[t]!;
    let h: Var;
    if (o.kind === 'if') {
      h = add(v, x);
    } else {
      const k = o.kind === 'plif' ? sigmoidV(w) : div(one, c(o.tau ?? 2));
      const vRel = sub(v, c(rest));
      h = decayInput ? add(v, mul(sub(x, vRel), k)) : add(sub(v, mul(vRel, k)), x);
    }
    if (o.kind === 'ilif') {
      const cnt = quant(div(h, vth), 0, o.levels ?? 4);
      const cr = o.detachReset ? detach(cnt) : cnt;
      v = sub(h, mul(cr, vth));
      out.push(cnt);
      continue;
    }
    let theta = vth;
    if (o.kind === 'alif') {
      if (t > 0) a = add(mul(a, c(rho)), sPrev);
      theta = add(vth, mul(c(o.beta ?? 1.8), a));
    }
    const s = spike(sub(h, theta), o.g);
    const sr = o.detachReset ? detach(s) : s;
    if (reset === 'hard') v = add(mul(h, sub(one, sr)), mul(sr, c(rest)));
    else if (reset === 'soft') v = sub(h, mul(theta, sr));
    else v = h;
    sPrev = s;
    out.push(s);
  }
  return out;
}

/** NI-LIF (reference rule 4) for one element: decay logits as Vars. */
export function runNiLifElement(xs: Var[], decay: Var[], levels = 4): Var[] {
  let mem = xs[0]!;
  const out: Var[] = [];
  let s = div(quant(mem, 0, levels), c(levels));
  out.push(s);
  for (let t = 1; t < xs.length; t++) {
    mem = add(mul(sub(mem, detach(s)), sigmoidV(decay[t - 1]!)), xs[t]!);
    s = div(quant(mem, 0, levels), c(levels));
    out.push(s);
  }
  return out;
}

/**
 * Runs a neuron over `[T, E]` data (time-major flat array) and returns spikes, dL/dx, dL/dvth and
 * dL/dw for `L = Σ dy·S`.
 */
export function referenceNeuron(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  T: number,
  o: RefOpts,
  vthValue = 1,
  wValue = 0,
): { spikes: number[]; dx: number[]; dvth: number; dw: number } {
  const E = x.length / T;
  const vth = c(vthValue);
  const w = c(wValue);
  const spikes = new Array<number>(x.length);
  const dx = new Array<number>(x.length);
  const xsAll: Var[][] = [];
  const outs: Var[] = [];
  const seeds: number[] = [];
  for (let e = 0; e < E; e++) {
    const xs = Array.from({ length: T }, (_, t) => c(x[t * E + e]!));
    xsAll.push(xs);
    const ss = runElement(xs, vth, w, o);
    ss.forEach((s, t) => {
      spikes[t * E + e] = s.val;
      outs.push(s);
      seeds.push(dy[t * E + e]!);
    });
  }
  backward(outs, seeds);
  xsAll.forEach((xs, e) => {
    xs.forEach((v, t) => {
      dx[t * E + e] = v.grad;
    });
  });
  return { spikes, dx, dvth: vth.grad, dw: w.grad };
}
