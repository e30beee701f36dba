import { ConfigError, formatShape, Module, ShapeError } from '@spiketrack/neurons';
import {
  type BlockNeuron,
  type BlockNeuronOptions,
  ConvBn,
  checkBlockNeuron,
  makeNeuron,
  mergeTime,
  type NormKind,
  splitTime,
  timeFirstDims,
} from '@spiketrack/spike-transformer';
import { Conv2d } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';

/** The three maps of the center head, NHWC, averaged over time. */
export type HeadMaps = {
  /** Target-centre score `[B, F, F, 1]`: `sigmoid`, clamped to [1e-4, 1 − 1e-4]. */
  scoreMap: tf.Tensor4D;
  /** Box size `[B, F, F, 2]` (w, h as fractions of the search crop): `sigmoid`, clamped. */
  sizeMap: tf.Tensor4D;
  /** Sub-cell offset of the centre `[B, F, F, 2]` (x, y in cells), raw. */
  offsetMap: tf.Tensor4D;
};

/** What the head returns: the maps and the box of the best cell. */
export type HeadOutput = HeadMaps & {
  /** `[B, 4]`: (cx, cy, w, h) as fractions of the search crop, at the first maximum of `scoreMap`. */
  predBoxes: tf.Tensor2D;
};

/** A box decoded by {@link calBbox}. */
export type DecodedBoxes = {
  /** `[B, 4]`: (cx, cy, w, h) as fractions of the search crop. */
  boxes: tf.Tensor2D;
  /** `[B]`: the maximum of the score map (the reference's `max_score`). */
  scores: tf.Tensor1D;
};

function mapDims(where: string, name: string, t: tf.Tensor, channels: number): [number, number, number] {
  if (!(t instanceof tf.Tensor) || t.rank !== 4 || t.shape[3] !== channels) {
    const got = t instanceof tf.Tensor ? formatShape(t.shape) : typeof t;
    throw new ShapeError(`${where}: expected ${name} of shape [B, H, W, ${channels}], got ${got}`);
  }
  const [b, h, w] = t.shape as [number, number, number, number];
  return [b, h, w];
}

/**
 * Decodes the box of the best cell, as the reference's `CenterPredictor.cal_bbox`: the *first*
 * index of the maximum of the flattened score map (row-major), then
 * `cx = (x + offset_x)/W`, `cy = (y + offset_y)/H`, and `w, h` read from the size map at that
 * cell. Pass a Hann-windowed score map for the tracker's step. Tidy; the caller owns the result.
 *
 * Inputs are NHWC: `scoreMap [B, H, W, 1]`, `sizeMap [B, H, W, 2]`, `offsetMap [B, H, W, 2]`.
 */
export function calBbox(scoreMap: tf.Tensor, sizeMap: tf.Tensor, offsetMap: tf.Tensor): DecodedBoxes {
  const where = 'calBbox';
  const [b, h, w] = mapDims(where, 'scoreMap', scoreMap, 1);
  for (const [name, t] of [
    ['sizeMap', sizeMap],
    ['offsetMap', offsetMap],
  ] as const) {
    const d = mapDims(where, name, t, 2);
    if (d[0] !== b || d[1] !== h || d[2] !== w) {
      throw new ShapeError(
        `${where}: expected ${name} of shape [${b}, ${h}, ${w}, 2] (as scoreMap), got ${formatShape(t.shape)}`,
      );
    }
  }
  return tf.tidy(() => {
    const n = h * w;
    const max = tf.max(tf.reshape(scoreMap, [b, n]), 1, true);
    return {
      boxes: decodeAtMax(b, h, w)(scoreMap, sizeMap, offsetMap) as tf.Tensor2D,
      scores: tf.reshape(max, [b]) as tf.Tensor1D,
    };
  });
}

/**
 * The box at the first maximum, as a custom-gradient op: the cell index is an integer function of
 * the score map, which tfjs cannot differentiate through (`gather` rejects integer index
 * gradients), while the reference's `cal_bbox` passes gradients to the size and offset maps at the
 * chosen cell and none to the score map through the index. This op does exactly that.
 */
function decodeAtMax(b: number, h: number, w: number) {
  const n = h * w;
  return tf.customGrad(((score: tf.Tensor, size: tf.Tensor, offset: tf.Tensor, save: tf.GradSaveFunc) => {
    const flat = tf.reshape(score, [b, n]);
    const max = tf.max(flat, 1, true);
    // First index of the maximum, whatever the backend's argMax does on ties.
    const positions = tf.broadcastTo(tf.range(0, n, 1, 'int32'), [b, n]);
    const idx = tf.min(tf.where(tf.equal(flat, max), positions, tf.fill([b, n], n, 'int32')), 1);
    const int = (v: number) => tf.scalar(v, 'int32');
    const rows = tf.add(idx, tf.mul(tf.range(0, b, 1, 'int32'), int(n)));
    const sizeAt = tf.gather(tf.reshape(size, [b * n, 2]), rows);
    const offsetAt = tf.gather(tf.reshape(offset, [b * n, 2]), rows);
    const ix = tf.cast(tf.mod(idx, int(w)), 'float32');
    const iy = tf.cast(tf.floorDiv(idx, int(w)), 'float32');
    const [ox, oy] = tf.split(offsetAt, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const cx = tf.div(tf.add(tf.reshape(ix, [b, 1]), ox), w);
    const cy = tf.div(tf.add(tf.reshape(iy, [b, 1]), oy), h);
    // The chosen cell as a one-hot [B, n, 1] mask, for the gradient.
    save([tf.expandDims(tf.cast(tf.equal(positions, tf.reshape(idx, [b, 1])), 'float32'), 2)]);
    return {
      value: tf.concat([cx, cy, sizeAt], 1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const mask = saved[0] as tf.Tensor;
        const [dcx, dcy, dsize] = tf.split(dy, [1, 1, 2], 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dOffset = tf.mul(mask, tf.expandDims(tf.concat([tf.div(dcx, w), tf.div(dcy, h)], 1), 1));
        const dSize = tf.mul(mask, tf.expandDims(dsize, 1));
        return [tf.zerosLike(score), tf.reshape(dSize, size.shape), tf.reshape(dOffset, offset.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (
    score: tf.Tensor,
    size: tf.Tensor,
    offset: tf.Tensor,
  ) => tf.Tensor;
}

/** Options of {@link CenterPredictor}, named as the reference's constructor arguments. */
export interface CenterPredictorOptions {
  /** Input channels (the encoder's last width c3). */
  inplanes: number;
  /** Width of the first conv of each branch (default 256; then /2, /4, /8). Must be a multiple of 8. */
  channel?: number;
  /** Feature-map size F = R/16 (the search crop over the stride). */
  featSize: number;
  /** The encoder's stride (default 16); `imgSize = featSize · stride`. */
  stride?: number;
  /** `'normal'` (3×3 convs, the default) or `'small'` (1×1). */
  convType?: 'normal' | 'small';
  /** `'batch'` (torch's `nn.BatchNorm2d`, the default) or `'frozen'` (`freeze_bn=True`). */
  norm?: NormKind;
  /**
   * The 13 neurons: NI-LIF by default (`maxSteps: 4`, `levels: 4`), or `{ type: 'lif' | 'i-lif', … }`
   * (the block neuron options of `@spiketrack/spike-transformer`).
   */
  neuron?: BlockNeuronOptions;
  /**
   * Xavier-uniform initialization of every conv weight, as the reference (default true);
   * false keeps torch's default conv init.
   */
  xavierInit?: boolean;
  /** Seed of the initialization. */
  seed?: number;
}

const BRANCHES = ['ctr', 'offset', 'size'] as const;
type BranchName = (typeof BRANCHES)[number];

/**
 * The reference's `CenterPredictor` head (`lib/models/spiketrack/decoder.py`), spiking: the input
 * `[T, B, F, F, inplanes]` passes the neuron `spike`, then three branches (score `ctr`, `offset`,
 * `size`) of four conv + BatchNorm layers (`conv{1..4}_{branch}`, widths channel, /2, /4, /8),
 * each followed by a neuron (`{branch}{1..4}_spike`), and a 1×1 conv (`conv5_{branch}`: 1, 2, 2
 * outputs). The maps are means over T; score and size go through `sigmoid` clamped to
 * [1e-4, 1 − 1e-4]; the box is {@link calBbox} of the score map.
 *
 * Child names are the reference's `decoder.*` state-dict keys (without `decoder.`).
 */
export class CenterPredictor extends Module<[tf.Tensor], HeadOutput> {
  readonly inplanes: number;
  readonly channel: number;
  readonly featSize: number;
  readonly stride: number;
  /** `featSize · stride`, the search crop size. */
  readonly imgSize: number;
  /** The input neuron. */
  readonly spike: BlockNeuron;
  private readonly convs: Record<BranchName, ConvBn[]>;
  private readonly heads: Record<BranchName, Conv2d>;
  private readonly neurons: Record<BranchName, BlockNeuron[]>;

  constructor(opts: CenterPredictorOptions) {
    super();
    const where = 'CenterPredictor';
    if (opts === null || typeof opts !== 'object')
      throw new ConfigError(`${where}: options must be an object`);
    const int = (name: string, v: unknown): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new ConfigError(`${where}: ${name} must be a positive integer, got ${String(v)}`);
      }
      return v;
    };
    this.inplanes = int('inplanes', opts.inplanes);
    this.channel = int('channel', opts.channel ?? 256);
    if (this.channel % 8 !== 0) {
      throw new ConfigError(
        `${where}: channel must be a multiple of 8 (widths channel/2, /4, /8), got ${this.channel}`,
      );
    }
    this.featSize = int('featSize', opts.featSize);
    this.stride = int('stride', opts.stride ?? 16);
    this.imgSize = this.featSize * this.stride;
    const convType = opts.convType ?? 'normal';
    if (convType !== 'normal' && convType !== 'small') {
      throw new ConfigError(`${where}: convType must be 'normal' or 'small', got ${String(convType)}`);
    }
    const kernelSize = convType === 'normal' ? 3 : 1;
    const padding = convType === 'normal' ? 1 : 0;
    const norm = opts.norm ?? 'batch';
    const neuronOpts = checkBlockNeuron(where, opts.neuron);
    const neuron = () => makeNeuron(neuronOpts, 0, where);
    let seed = opts.seed ?? null;
    const nextSeed = () => {
      if (seed === null) return {};
      seed += 10;
      return { seed };
    };
    const widths = [this.inplanes, this.channel, this.channel / 2, this.channel / 4, this.channel / 8];
    const outs: Record<BranchName, number> = { ctr: 1, offset: 2, size: 2 };
    this.convs = { ctr: [], offset: [], size: [] };
    this.heads = {} as Record<BranchName, Conv2d>;
    this.neurons = { ctr: [], offset: [], size: [] };
    // Registration order follows the reference (its state-dict order): convs, then neurons.
    for (const br of BRANCHES) {
      for (let i = 0; i < 4; i++) {
        this.convs[br].push(
          this.child(
            `conv${i + 1}_${br}`,
            new ConvBn(widths[i]!, widths[i + 1]!, { kernelSize, padding, bias: true, norm, ...nextSeed() }),
          ),
        );
      }
      this.heads[br] = this.child(
        `conv5_${br}`,
        new Conv2d({ inChannels: widths[4]!, outChannels: outs[br], kernelSize: 1, ...nextSeed() }),
      );
    }
    for (const br of ['ctr', 'size', 'offset'] as const) {
      for (let i = 0; i < 4; i++) this.neurons[br].push(this.child(`${br}${i + 1}_spike`, neuron()));
    }
    this.spike = this.child('spike', neuron());
    if (opts.xavierInit ?? true) this.xavierInit(opts.seed);
  }

  /** Re-draws every conv weight (not the biases) from Xavier's uniform distribution, as the reference. */
  private xavierInit(seed: number | undefined): void {
    let s = seed === undefined ? undefined : seed + 7;
    for (const [, m] of this.namedModules()) {
      if (!(m instanceof Conv2d)) continue;
      const [kh, kw, inG, out] = m.weight.shape as [number, number, number, number];
      const fanIn = inG * kh * kw;
      const fanOut = out * kh * kw;
      const a = Math.sqrt(6 / (fanIn + fanOut));
      const w = tf.randomUniform(m.weight.shape, -a, a, 'float32', s === undefined ? undefined : s++);
      m.weight.assign(w);
      w.dispose();
    }
  }

  /** The three maps (tidy): `[T, B, F, F, inplanes]` → score, size and offset maps, means over T. */
  maps(x: tf.Tensor): HeadMaps {
    this.assertAlive();
    this.checkInput(x);
    return tf.tidy(() => this.computeMaps(x) as unknown as tf.TensorContainer) as unknown as HeadMaps;
  }

  /** {@link calBbox} with this head's maps. */
  calBbox(scoreMap: tf.Tensor, sizeMap: tf.Tensor, offsetMap: tf.Tensor): DecodedBoxes {
    return calBbox(scoreMap, sizeMap, offsetMap);
  }

  private checkInput(x: tf.Tensor): void {
    const d = timeFirstDims(x, this.label, this.inplanes);
    if (d.h !== this.featSize || d.w !== this.featSize) {
      throw new ShapeError(
        `${this.label}: expected input of shape [T, B, ${this.featSize}, ${this.featSize}, ${this.inplanes}] (featSize ${this.featSize}), got ${formatShape(x.shape)}`,
      );
    }
  }

  private computeMaps(x: tf.Tensor): HeadMaps {
    const { t, b } = timeFirstDims(x, this.label, this.inplanes);
    const s = this.spike.apply(x);
    const branch = (br: BranchName): tf.Tensor => {
      let y = s;
      for (let i = 0; i < 4; i++) {
        y = this.neurons[br][i]!.apply(splitTime(this.convs[br][i]!.apply(mergeTime(y)), t, b));
      }
      return tf.mean(splitTime(this.heads[br].apply(mergeTime(y)), t, b), 0);
    };
    const sigmoid = (v: tf.Tensor) => tf.clipByValue(tf.sigmoid(v), 1e-4, 1 - 1e-4);
    // Branch order as the reference (score, offset, size): it orders the neurons' calls.
    const score = branch('ctr');
    const offset = branch('offset');
    const size = branch('size');
    return {
      scoreMap: sigmoid(score) as tf.Tensor4D,
      sizeMap: sigmoid(size) as tf.Tensor4D,
      offsetMap: offset as tf.Tensor4D,
    };
  }

  /** `[T, B, F, F, inplanes]` → the maps and the box of the best cell (see {@link HeadOutput}). */
  forward(x: tf.Tensor): HeadOutput {
    this.checkInput(x);
    const maps = this.computeMaps(x);
    const { boxes } = calBbox(maps.scoreMap, maps.sizeMap, maps.offsetMap);
    return { ...maps, predBoxes: boxes };
  }
}
