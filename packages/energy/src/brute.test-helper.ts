// Brute-force counts for the tests: direct loops over every output, tap and input channel.

/** Deterministic pseudo-random integers in [0, max] (LCG), with about `density` of them non-zero. */
export function randomCounts(n: number, max: number, seed: number, density = 0.5): number[] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: n }, () => (next() < density ? 1 + Math.floor(next() * max) : 0)).map((v) =>
    Math.min(v, max),
  );
}

export interface BruteConv {
  kernel: [number, number];
  stride: [number, number];
  padding: [[number, number], [number, number]];
  dilation: [number, number];
  groups: number;
  outChannels: number;
}

/**
 * Synaptic operations of a conv on NHWC spike counts, by visiting every (output position, output
 * channel, tap, input channel of its group): a read inside the input adds that element's count,
 * a read in the padding adds nothing. Also counts the dense MACs (every visit).
 */
export function bruteConv(
  counts: ArrayLike<number>,
  shape: [number, number, number, number],
  g: BruteConv,
): { acs: number; macs: number; outShape: number[] } {
  const [n, h, w, c] = shape;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const [[pt, pb], [pl, pr]] = g.padding;
  const [dh, dw] = g.dilation;
  const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const inPer = c / g.groups;
  const outPer = g.outChannels / g.groups;
  let acs = 0;
  let macs = 0;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let oc = 0; oc < g.outChannels; oc++) {
          const grp = Math.floor(oc / outPer);
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++)
              for (let ci = grp * inPer; ci < (grp + 1) * inPer; ci++) {
                macs++;
                const y = oy * sh - pt + ky * dh;
                const x = ox * sw - pl + kx * dw;
                if (y >= 0 && y < h && x >= 0 && x < w) acs += counts[((b * h + y) * w + x) * c + ci]!;
              }
        }
  return { acs, macs, outShape: [n, oh, ow, g.outChannels] };
}

/** Σ_{i,k,j} count(A_ik)·[B_kj ≠ 0] and Σ count(A)·N, Σ count(B)·M over a batch of plain matrices. */
export function bruteMatMul(
  a: number[][][],
  b: number[][][],
): { both: number; aOnly: number; bOnly: number; macs: number } {
  let both = 0;
  let aOnly = 0;
  let bOnly = 0;
  let macs = 0;
  for (let z = 0; z < a.length; z++) {
    const A = a[z]!;
    const B = b[z]!;
    const m = A.length;
    const k = B.length;
    const n = B[0]!.length;
    for (let i = 0; i < m; i++) {
      const row = A[i] as number[];
      for (let kk = 0; kk < k; kk++) {
        const held = B[kk] as number[];
        const count = row[kk] as number;
        for (let j = 0; j < n; j++) {
          const bkj = held[j] as number;
          macs++;
          aOnly += count;
          bOnly += bkj;
          if (bkj !== 0) both += count;
        }
      }
    }
  }
  return { both, aOnly, bOnly, macs };
}
