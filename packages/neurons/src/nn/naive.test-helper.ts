/**
 * Test-only helpers: naive reference implementations written from torch's definitions (NCHW
 * weights, loops), used to check the tfjs layers. Not exported from the package.
 */

/** A seeded generator of short dyadic numbers: multiples of 2^-bits in [-range, range]. */
export function dyadic(seed: number, bits = 3, range = 1): () => number {
  let s = seed >>> 0 || 1;
  const steps = range * 2 ** bits;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const k = Math.floor((s / 2 ** 32) * (2 * steps + 1)) - steps;
    return k / 2 ** bits;
  };
}

/** A seeded generator of continuous numbers in [-1, 1). */
export function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

export function fill(n: number, gen: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen();
  return a;
}

export interface NaiveConv {
  /** NHWC input shape. */
  xShape: [number, number, number, number];
  /** Torch weight `[O, I/g, kh, kw]`. */
  wShape: [number, number, number, number];
  stride: [number, number];
  /** `[[top, bottom], [left, right]]`. */
  pad: [[number, number], [number, number]];
  dilation: [number, number];
  groups: number;
}

export function convOut(c: NaiveConv): [number, number, number, number] {
  const [n, h, w] = c.xShape;
  const [o, , kh, kw] = c.wShape;
  const oh = Math.floor((h + c.pad[0][0] + c.pad[0][1] - c.dilation[0] * (kh - 1) - 1) / c.stride[0]) + 1;
  const ow = Math.floor((w + c.pad[1][0] + c.pad[1][1] - c.dilation[1] * (kw - 1) - 1) / c.stride[1]) + 1;
  return [n, oh, ow, o];
}

/** Visits every (output, input, weight) index triple of a torch conv on NHWC data. */
function eachTap(c: NaiveConv, visit: (yi: number, xi: number, wi: number) => void): void {
  const [n, h, w, cin] = c.xShape;
  const [o, ipg, kh, kw] = c.wShape;
  const [, oh, ow] = convOut(c);
  const opg = o / c.groups;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++)
        for (let oc = 0; oc < o; oc++) {
          const g = Math.floor(oc / opg);
          const yi = ((b * oh + y) * ow + x) * o + oc;
          for (let ci = 0; ci < ipg; ci++) {
            const ch = g * ipg + ci;
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * c.stride[0] - c.pad[0][0] + ky * c.dilation[0];
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = x * c.stride[1] - c.pad[1][0] + kx * c.dilation[1];
                if (ix < 0 || ix >= w) continue;
                visit(yi, ((b * h + iy) * w + ix) * cin + ch, ((oc * ipg + ci) * kh + ky) * kw + kx);
              }
            }
          }
        }
}

/** torch's conv2d on NHWC data with an OIHW weight. */
export function naiveConv2d(
  c: NaiveConv,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
): Float64Array {
  const os = convOut(c);
  const y = new Float64Array(os[0] * os[1] * os[2] * os[3]);
  if (bias) for (let i = 0; i < y.length; i++) y[i] = bias[i % os[3]]!;
  eachTap(c, (yi, xi, wi) => {
    y[yi]! += x[xi]! * w[wi]!;
  });
  return y;
}

/** Gradients of `sum(conv(x) · r)` with respect to x, the OIHW weight and the bias. */
export function naiveConv2dGrads(
  c: NaiveConv,
  x: Float32Array,
  w: Float32Array,
  r: Float32Array,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const o = c.wShape[0];
  const db = new Float64Array(o);
  for (let i = 0; i < r.length; i++) db[i % o]! += r[i]!;
  eachTap(c, (yi, xi, wi) => {
    dx[xi]! += r[yi]! * w[wi]!;
    dw[wi]! += r[yi]! * x[xi]!;
  });
  return { dx, dw, db };
}

/** torch's bilinear interpolation (one channel-last image batch), written from its definition. */
export function naiveBilinear(
  x: Float32Array,
  shape: [number, number, number, number],
  oh: number,
  ow: number,
  alignCorners = false,
): Float64Array {
  const [n, h, w, c] = shape;
  const src = (dst: number, inSize: number, outSize: number): number => {
    if (alignCorners) return outSize > 1 ? (dst * (inSize - 1)) / (outSize - 1) : 0;
    return Math.max(0, ((dst + 0.5) * inSize) / outSize - 0.5);
  };
  const y = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++) {
      const sy = src(i, h, oh);
      const y0 = Math.floor(sy);
      const y1 = Math.min(y0 + 1, h - 1);
      const ly = sy - y0;
      for (let j = 0; j < ow; j++) {
        const sx = src(j, w, ow);
        const x0 = Math.floor(sx);
        const x1 = Math.min(x0 + 1, w - 1);
        const lx = sx - x0;
        for (let ch = 0; ch < c; ch++) {
          const at = (yy: number, xx: number) => x[((b * h + yy) * w + xx) * c + ch]!;
          y[((b * oh + i) * ow + j) * c + ch] =
            (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
            ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
        }
      }
    }
  return y;
}

/** torch's adaptive average pooling on NHWC data: bin sums divided by the bin height, then width. */
export function naiveAdaptiveAvgPool(
  x: Float32Array,
  shape: [number, number, number, number],
  oh: number,
  ow: number,
): Float64Array {
  const [n, h, w, c] = shape;
  const y = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++) {
      const h0 = Math.floor((i * h) / oh);
      const h1 = Math.ceil(((i + 1) * h) / oh);
      for (let j = 0; j < ow; j++) {
        const w0 = Math.floor((j * w) / ow);
        const w1 = Math.ceil(((j + 1) * w) / ow);
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let yy = h0; yy < h1; yy++)
            for (let xx = w0; xx < w1; xx++) s += x[((b * h + yy) * w + xx) * c + ch]!;
          y[((b * oh + i) * ow + j) * c + ch] = s / (h1 - h0) / (w1 - w0);
        }
      }
    }
  return y;
}
