import { ConfigError, formatShape, recordedMatMul, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';

/** Options of the linear attention functions. */
export interface LinearAttentionOptions {
  /** Number of heads: the channels of q, k and v are split as `[heads, C/heads]` (head-major). */
  numHeads: number;
  /**
   * The product's scale before the gain (default `(C_qk/heads)^−0.5`, the reference's
   * `head_dim ** -0.5`). It is rounded to float32, as torch does with a Python scalar.
   */
  scale?: number;
  /** Second factor (default 2, the reference's `* self.scale * 2`). Applied as a separate multiply. */
  gain?: number;
  /** Path the products are recorded under (`<label>.kv`, `<label>.qkv`); default `linearAttention`. */
  label?: string;
}

function checkHeads(where: string, numHeads: unknown): number {
  if (typeof numHeads !== 'number' || !Number.isInteger(numHeads) || numHeads < 1) {
    throw new ConfigError(`${where}: numHeads must be a positive integer, got ${String(numHeads)}`);
  }
  return numHeads;
}

function checkTokens(where: string, x: unknown, name: string, heads: number): tf.Tensor {
  if (!(x instanceof tf.Tensor))
    throw new ShapeError(`${where}: ${name} must be a tf.Tensor of shape [..., N, C]`);
  if (x.rank < 2) {
    throw new ShapeError(
      `${where}: expected ${name} of shape [..., N, C] (rank ≥ 2), got ${formatShape(x.shape)}`,
    );
  }
  const c = x.shape[x.rank - 1]!;
  if (c % heads !== 0) {
    throw new ShapeError(
      `${where}: the ${c} channels of ${name} ${formatShape(x.shape)} are not divisible by numHeads = ${heads}`,
    );
  }
  return x;
}

function sameLead(where: string, a: tf.Tensor, b: tf.Tensor, names: string, bTail: number): void {
  const la = a.shape.slice(0, a.rank - 2);
  const lb = b.shape.slice(0, b.rank - bTail);
  if (la.length !== lb.length || la.some((d, i) => d !== lb[i])) {
    throw new ShapeError(
      `${where}: ${names} must have the same leading dimensions, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
}

/** `[..., N, C]` → `[L·heads, N, C/heads]` with L the product of the leading dimensions. */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor3D {
  const n = x.shape[x.rank - 2]!;
  const c = x.shape[x.rank - 1]!;
  const l = x.size / (n * c);
  const y = tf.transpose(tf.reshape(x, [l, n, heads, c / heads]), [0, 2, 1, 3]);
  return tf.reshape(y, [l * heads, n, c / heads]);
}

/**
 * The linear attention's memory `kᵀ·v` per head: k `[..., M, C]`, v `[..., M, Cv]` →
 * `[..., heads, C/heads, Cv/heads]` (the reference's `k.transpose(-2, -1) @ v`, whose layout the
 * template caches `kv_cache_i` use). The product is recorded as `<label>.kv`.
 */
export function linearAttentionMemory(k: tf.Tensor, v: tf.Tensor, opts: LinearAttentionOptions): tf.Tensor {
  const where = 'linearAttentionMemory';
  const heads = checkHeads(where, opts?.numHeads);
  checkTokens(where, k, 'k', heads);
  checkTokens(where, v, 'v', heads);
  sameLead(where, k, v, 'k and v', 2);
  if (k.shape[k.rank - 2] !== v.shape[v.rank - 2]) {
    throw new ShapeError(
      `${where}: k ${formatShape(k.shape)} and v ${formatShape(v.shape)} must have the same number of tokens`,
    );
  }
  const lead = k.shape.slice(0, k.rank - 2);
  const dk = k.shape[k.rank - 1]! / heads;
  const dv = v.shape[v.rank - 1]! / heads;
  return tf.tidy(() => {
    const kv = recordedMatMul(splitHeads(k, heads), splitHeads(v, heads), {
      transposeA: true,
      label: `${opts.label ?? 'linearAttention'}.kv`,
    });
    return tf.reshape(kv, [...lead, heads, dk, dv]);
  });
}

/**
 * Queries a linear attention memory: q `[..., N, C]`, kv `[..., heads, C/heads, Dv]` (from
 * {@link linearAttentionMemory}) → `(q·kv)·fl32(scale)·gain`, heads merged back: `[..., N, heads·Dv]`.
 * The product is recorded as `<label>.qkv`.
 */
export function queryLinearAttention(q: tf.Tensor, kv: tf.Tensor, opts: LinearAttentionOptions): tf.Tensor {
  const where = 'queryLinearAttention';
  const heads = checkHeads(where, opts?.numHeads);
  checkTokens(where, q, 'q', heads);
  if (!(kv instanceof tf.Tensor) || kv.rank < 3) {
    throw new ShapeError(
      `${where}: expected kv of shape [..., heads, dk, dv], got ${kv instanceof tf.Tensor ? formatShape(kv.shape) : String(kv)}`,
    );
  }
  sameLead(where, q, kv, 'q and kv', 3);
  const dk = q.shape[q.rank - 1]! / heads;
  if (kv.shape[kv.rank - 3] !== heads || kv.shape[kv.rank - 2] !== dk) {
    throw new ShapeError(
      `${where}: expected kv of shape [..., ${heads}, ${dk}, dv] for q ${formatShape(q.shape)} and ${heads} heads, got ${formatShape(kv.shape)}`,
    );
  }
  const scale = opts.scale ?? dk ** -0.5;
  const gain = opts.gain ?? 2;
  for (const [name, v] of [
    ['scale', scale],
    ['gain', gain],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ConfigError(`${where}: ${name} must be a finite number, got ${String(v)}`);
    }
  }
  const lead = q.shape.slice(0, q.rank - 2);
  const n = q.shape[q.rank - 2]!;
  const dv = kv.shape[kv.rank - 1]!;
  const l = q.size / (n * q.shape[q.rank - 1]!);
  return tf.tidy(() => {
    const kv3 = tf.reshape(kv, [l * heads, dk, dv]);
    let y = recordedMatMul(splitHeads(q, heads), kv3, { label: `${opts.label ?? 'linearAttention'}.qkv` });
    // Two float32 multiplies, exactly as the reference: (q @ kv) * scale * 2.
    y = tf.mul(tf.mul(y, scale), gain);
    y = tf.transpose(tf.reshape(y, [l, heads, n, dv]), [0, 2, 1, 3]);
    return tf.reshape(y, [...lead, n, heads * dv]);
  });
}

/**
 * Spike-driven linear attention (SDT-V3's `MS_Attention_linear`, without softmax):
 * `q·(kᵀ·v)·scale·gain` per head, heads merged. q `[..., N, C]`, k `[..., M, C]`, v `[..., M, Cv]`
 * (same leading dimensions) → `[..., N, Cv]`.
 *
 * With spike inputs (multiples of 1/D) both products are exact in float32, so the only rounding
 * is the multiply by `fl32(scale)`: the result is bit-identical to the reference. Both products go
 * through `recordedMatMul`, so an active op recorder (energy counting) sees them.
 */
export function spikeLinearAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  opts: LinearAttentionOptions,
): tf.Tensor {
  const where = 'spikeLinearAttention';
  const heads = checkHeads(where, opts?.numHeads);
  checkTokens(where, q, 'q', heads);
  checkTokens(where, k, 'k', heads);
  if (q.shape[q.rank - 1] !== k.shape[k.rank - 1]) {
    throw new ShapeError(
      `${where}: q ${formatShape(q.shape)} and k ${formatShape(k.shape)} must have the same channels`,
    );
  }
  sameLead(where, q, k, 'q and k', 2);
  return tf.tidy(() => queryLinearAttention(q, linearAttentionMemory(k, v, opts), opts));
}
