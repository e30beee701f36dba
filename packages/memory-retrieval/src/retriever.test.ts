import { ConfigError, type OpRecord, ShapeError, withOpRecorder } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, onWebGPU } from '../../../test-support/helpers';
import {
  expectedNhwc,
  loadInto,
  loadUnitInto,
  randomizeParams,
  readUnit,
  timeFirstNhwc,
  type UnitFixture,
  unitWeights,
} from './fixtures.test-helper';
import { Retriever } from './retriever';
import { TemplateMemory } from './template-memory';

/** Timeout of the tests that run the fixture model several times: SwiftShader is slow, more so under load. */
const HEAVY = onWebGPU() ? 600_000 : 60_000;

interface Loaded {
  unit: UnitFixture;
  m: Retriever;
  templates: tf.Tensor5D;
  search: tf.Tensor5D;
}

async function loadRetrieverUnit(name: string, numTemplates: number): Promise<Loaded> {
  const unit = readUnit(name);
  const m = new Retriever({ dim: 32, numHeads: 8, lamdaRatio: 4, numTemplates, gridSize: 16 });
  await loadUnitInto(unit, m);
  return {
    unit,
    m,
    templates: timeFirstNhwc(unit, 'in.templates'),
    search: timeFirstNhwc(unit, 'in.search'),
  };
}

function disposeLoaded(l: Loaded | undefined): void {
  if (!l) return;
  tf.dispose([l.templates, l.search]);
  l.m.dispose();
}

/** Runs `m.apply(templates, search)` and keeps the outputs of attn_spike, gate and gate_spike. */
function runCapturing(l: Loaded) {
  const attn: tf.Tensor[] = [];
  const gate: tf.Tensor[] = [];
  const gateSpike: tf.Tensor[] = [];
  const keep = (list: tf.Tensor[]) => (_m: unknown, _i: unknown, out: unknown) => {
    list.push(tf.keep(tf.clone(out as tf.Tensor)));
  };
  const removers = [
    l.m.attn_spike.onForward(keep(attn)),
    l.m.gate.onForward(keep(gate)),
    l.m.gate_spike.onForward(keep(gateSpike)),
  ];
  try {
    const y = l.m.apply(l.templates, l.search);
    return { y, attn: attn[0], gate: gate[0], gateSpike: gateSpike[0] };
  } finally {
    for (const r of removers) r();
  }
}

/**
 * `tf.reverse` of a rank-5 `[T, B, H, W, C]` tensor along `axis`, through a rank-4 view (tfjs's
 * WebGPU Reverse kernel fails on rank 5: "Size(…) must match the product of shape …").
 */
function reverse5(x: tf.Tensor, axis: 0 | 2 | 3): tf.Tensor {
  return tf.tidy(() => {
    const [t, b, h, w, c] = x.shape as [number, number, number, number, number];
    const view: [number, number, number, number] = axis === 0 ? [t, b * h, w, c] : [t * b, h, w, c];
    return tf.reshape(tf.reverse(tf.reshape(x, view), axis === 0 ? 0 : axis - 1), x.shape);
  });
}

describe('Retriever: parity with the reference units', () => {
  it('retriever_t1_s16 (T = 1, no gate): out.y and out.attn_spike bit for bit', async () => {
    const l = await loadRetrieverUnit('retriever_t1_s16', 1);
    const tol = l.unit.json.tolerance.abs!;
    const r = runCapturing(l);
    expect(r.y.shape).toEqual([1, 1, 16, 16, 32]);
    expect(r.gate).toBeUndefined(); // T = 1: the gate is skipped, as in the reference
    expectClose(await r.attn!.data(), await expectedNhwc(l.unit, 'out.attn_spike'), tol, 'out.attn_spike');
    expectClose(await r.y.data(), await expectedNhwc(l.unit, 'out.y'), tol, 'out.y');
    tf.dispose([r.y, r.attn!]);
    disposeLoaded(l);
  });

  it('retriever_t3_s32 (pool 32 → 16, hard gate, upsample back): gate and output bit for bit', async () => {
    const l = await loadRetrieverUnit('retriever_t3_s32', 3);
    const tol = l.unit.json.tolerance.abs!;
    const r = runCapturing(l);
    expect(r.y.shape).toEqual([1, 1, 32, 32, 32]);
    expect(r.attn!.shape).toEqual([3, 1, 16, 16, 128]);
    expectClose(await r.gate!.data(), await expectedNhwc(l.unit, 'out.gate_out'), tol, 'out.gate_out');
    expectClose(await r.gateSpike!.data(), await expectedNhwc(l.unit, 'out.gate_spike'), 0, 'out.gate_spike');
    expectClose(await r.y.data(), await expectedNhwc(l.unit, 'out.y'), tol, 'out.y');
    tf.dispose([r.y, r.attn!, r.gate!, r.gateSpike!]);
    disposeLoaded(l);
  });

  it('retriever_t3_s16 (soft gate): attn_spike, gate_out, and gate_spike / out.y outside the gate ties', async () => {
    const l = await loadRetrieverUnit('retriever_t3_s16', 3);
    const tols = l.unit.json.tolerance as Record<string, { abs: number }>;
    const r = runCapturing(l);
    const attn = await r.attn!.data(); // [3, 1, 16, 16, 128]
    expectClose(
      attn,
      await expectedNhwc(l.unit, 'out.attn_spike'),
      tols['out.attn_spike']!.abs,
      'out.attn_spike',
    );
    expectClose(
      await r.gate!.data(),
      await expectedNhwc(l.unit, 'out.gate_out'),
      tols['out.gate_out']!.abs,
      'out.gate_out',
    );

    // gate_spike: exact except at the tie elements (all T attention spikes equal 0.5).
    const n = 16 * 16 * 128;
    const ours = await r.gateSpike!.data();
    const ref = await expectedNhwc(l.unit, 'out.gate_spike');
    let ties = 0;
    const flippedPositions = new Set<number>();
    for (let i = 0; i < n; i++) {
      const tie = attn[i] === 0.5 && attn[n + i] === 0.5 && attn[2 * n + i] === 0.5;
      if (tie) ties++;
      if (ours[i] !== ref[i]) {
        expect(tie, `gate_spike differs at element ${i}, which is not a gate tie`).toBe(true);
        flippedPositions.add(Math.floor(i / 128));
      }
    }
    expect(ties).toBe(l.unit.json.gate_tie_positions as number);
    // out.y: exact except at spatial positions where gate_spike flipped (proj_conv is 1×1).
    const y = await r.y.data();
    const yRef = await expectedNhwc(l.unit, 'out.y');
    const keepIdx = [...Array(y.length).keys()].filter((i) => !flippedPositions.has(Math.floor(i / 32)));
    expect(keepIdx.length).toBeGreaterThan(y.length * 0.5);
    expectClose(
      keepIdx.map((i) => y[i]!),
      keepIdx.map((i) => yRef[i]!),
      tols['out.y']!.abs,
      `out.y outside ${flippedPositions.size} flipped positions`,
    );
    tf.dispose([r.y, r.attn!, r.gate!, r.gateSpike!]);
    disposeLoaded(l);
  });

  it('has the reference state-dict keys and torch shapes (T = 1 and T = 3)', () => {
    for (const [name, t] of [
      ['retriever_t1_s16', 1],
      ['retriever_t3_s16', 3],
    ] as const) {
      const unit = readUnit(name);
      const m = new Retriever({ dim: 32, numTemplates: t });
      const shapes = m.stateShapes({ layout: 'torch' });
      const expected = Object.entries(unit.json.tensors).filter(([k]) => !/^(in|out|grad)\./.test(k));
      // the fixtures leave out the int64 num_batches_tracked buffers
      const ours = [...shapes.keys()].filter((k) => !k.endsWith('num_batches_tracked'));
      expect(ours.sort()).toEqual(expected.map(([k]) => k).sort());
      for (const [k, v] of expected) expect(shapes.get(k), k).toEqual(v.shape);
      m.dispose();
    }
  });
});

describe('Retriever: the two-call API', () => {
  let l: Loaded;
  beforeAll(async () => {
    l = await loadRetrieverUnit('retriever_t3_s32', 3);
  });
  afterAll(() => disposeLoaded(l));

  it(
    'memorize(templates) then retrieve(search, memory) equals apply(templates, search), bit for bit',
    async () => {
      const y = l.m.apply(l.templates, l.search);
      const memory = l.m.memorize(l.templates);
      expect(memory.kv.shape).toEqual([3, 1, 8, 4, 16]); // [T, B, heads, C/heads, Cv/heads]
      expect(memory.numTemplates).toBe(3);
      expect(memory.batchSize).toBe(1);
      expect(memory.numHeads).toBe(8);
      const y2 = l.m.retrieve(l.search, memory);
      expectClose(await y2.data(), await y.data(), 0, 'retrieve vs apply');
      // the memory serves many frames, unchanged
      const y3 = l.m.retrieve(l.search, memory);
      expectClose(await y3.data(), await y.data(), 0, 'second retrieve');
      expectClose(await y.data(), await expectedNhwc(l.unit, 'out.y'), 1e-5, 'out.y');
      memory.dispose();
      expect(memory.isDisposed).toBe(true);
      expect(() => memory.kv).toThrow(ConfigError);
      expect(() => l.m.retrieve(l.search, memory)).toThrow(/disposed/);
      memory.dispose(); // idempotent
      tf.dispose([y, y2, y3]);
    },
    HEAVY,
  );

  it('the memory survives an enclosing tidy and is released by dispose()', () => {
    const before = tf.memory().numTensors;
    let memory: TemplateMemory | undefined;
    tf.tidy(() => {
      memory = l.m.memorize(l.templates);
    });
    if (!memory) throw new Error('no memory');
    expect(memory.kv.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(before + 1);
    memory.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it(
    'does not leak: apply, memorize + dispose, retrieve',
    async () => {
      await expectNoLeak(() => l.m.apply(l.templates, l.search));
      await expectNoLeak(() => l.m.memorize(l.templates).dispose());
      const memory = l.m.memorize(l.templates);
      await expectNoLeak(() => l.m.retrieve(l.search, memory));
      memory.dispose();
    },
    HEAVY,
  );

  it(
    'a memory built from pooled templates is the same memory (templates may differ in size from the search)',
    async () => {
      const m32 = l.m.memorize(l.templates);
      const pooled = tf.tidy(() =>
        tf.reshape(
          tf.avgPool(tf.reshape(l.templates, [3, 32, 32, 32]) as tf.Tensor4D, 2, 2, 0),
          [3, 1, 16, 16, 32],
        ),
      );
      const m16 = l.m.memorize(pooled);
      expectClose(await m16.kv.data(), await m32.kv.data(), 0, 'kv');
      if (!onWebGPU()) {
        // a 16×16 memory read by the 32×32 search: the reference's output (slow on SwiftShader)
        const y = l.m.retrieve(l.search, m16);
        expectClose(await y.data(), await expectedNhwc(l.unit, 'out.y'), 1e-5, 'out.y');
        y.dispose();
      }
      pooled.dispose();
      m32.dispose();
      m16.dispose();
    },
    HEAVY,
  );

  it('records the attention products for energy counting', () => {
    const records: OpRecord[] = [];
    const y = withOpRecorder({ record: (r: OpRecord) => records.push(r) }, () =>
      l.m.apply(l.templates, l.search),
    );
    y.dispose();
    const mm = records.filter((r) => r.kind === 'matmul');
    expect(mm.map((r) => r.path)).toEqual(['retriever.kv', 'retriever.qkv', 'retriever.recurrent.qkv']);
    expect(mm[0]!.weightShape).toEqual([24, 256, 16]); // v: [T·B·heads, N, Cv/heads]
    expect(mm[1]!.weightShape).toEqual([24, 4, 16]); // kv
    const convs = records.filter((r) => r.kind !== 'matmul').map((r) => r.path);
    expect(convs).toEqual([
      'k_conv.0',
      'v_conv.0',
      'q_conv.0',
      'seg_responder_dw.0.0',
      'seg_responder_dw.1.0',
      'seg_responder_dw.2.0',
      'seg_responder_pw.0.0',
      'seg_responder_pw.1.0',
      'seg_responder_pw.2.0',
      'fuser.0',
      'gate.mlp.0',
      'gate.mlp.2',
      'proj_conv.0',
    ]);
  });

  it(
    'wraps an external kv cache (takes ownership) and checks it against the retriever',
    async () => {
      const memory = l.m.memorize(l.templates);
      const copy = new TemplateMemory(tf.clone(memory.kv));
      const y = l.m.retrieve(l.search, copy);
      expectClose(await y.data(), await expectedNhwc(l.unit, 'out.y'), 1e-5, 'out.y');
      const bad = new TemplateMemory(tf.zeros([3, 1, 4, 8, 32]));
      expect(() => l.m.retrieve(l.search, bad)).toThrow(
        /expected a memory of shape \[T, B, 8, 4, 16\], got \[3, 1, 4, 8, 32\]/,
      );
      const batch2 = new TemplateMemory(tf.zeros([3, 2, 8, 4, 16]));
      expect(() => l.m.retrieve(l.search, batch2)).toThrow(/holds batch 2, the search has batch 1/);
      expect(() => new TemplateMemory(tf.zeros([3, 8, 4, 16]))).toThrow(ShapeError);
      tf.dispose([y]);
      for (const mm of [memory, copy, bad, batch2]) mm.dispose();
    },
    HEAVY,
  );
});

describe('Retriever: batches and generalisations', () => {
  let l: Loaded;
  beforeAll(async () => {
    l = await loadRetrieverUnit('retriever_t3_s32', 3);
  });
  afterAll(() => disposeLoaded(l));

  it('a batch of 2 gives each sample its own result (eval mode)', async () => {
    const m = new Retriever({ dim: 8, numHeads: 2, numTemplates: 3, gridSize: 4 });
    await randomizeParams(m, 13, 1);
    const templates = tf.randomUniform([3, 2, 8, 8, 8], -1, 3, 'float32', 1);
    const search = tf.randomUniform([1, 2, 8, 8, 8], -1, 3, 'float32', 2);
    const y = m.apply(templates, search);
    expect(y.shape).toEqual([1, 2, 8, 8, 8]);
    for (const b of [0, 1]) {
      const tb = tf.slice(templates, [0, b], [-1, 1]);
      const sb = tf.slice(search, [0, b], [-1, 1]);
      const single = m.apply(tb, sb);
      const yb = tf.slice(y, [0, b], [-1, 1]);
      expectClose(await yb.data(), await single.data(), 0, `sample ${b}`);
      tf.dispose([tb, sb, single, yb]);
    }
    tf.dispose([templates, search, y]);
    m.dispose();
  });

  it(
    'fewer templates than responders uses the first ones (T = 2 on a temp_num = 3 model), as the reference',
    async () => {
      const t2 = tf.slice(l.templates, [0], [2]);
      const memory = l.m.memorize(t2);
      const full = l.m.memorize(l.templates);
      // template t's memory depends only on templates 0..t
      expectClose(await memory.kv.data(), await tf.slice(full.kv, [0], [2]).data(), 0, 'kv prefix');
      const y = l.m.retrieve(l.search, memory);
      expect(y.shape).toEqual([1, 1, 32, 32, 32]);
      tf.dispose([t2, y]);
      memory.dispose();
      full.dispose();
    },
    HEAVY,
  );

  it(
    'a model with room for more templates (5 responders, maxSteps 6) reproduces the reference at T = 3 and runs T = 5',
    async () => {
      const big = new Retriever({ dim: 32, numTemplates: 5, neuron: { maxSteps: 6 } });
      expect(big.maxTemplates).toBe(5);
      await randomizeParams(big, 3);
      const w = unitWeights(l.unit);
      for (const [k, t] of [...w]) {
        if (k.endsWith('.decay')) {
          w.set(k, tf.concat([t, tf.zeros([2])])); // two more steps, the reference's three first
          t.dispose();
        }
      }
      const report = await loadInto(big, w, { strict: false });
      // only the extra responders and the int64 counters stay at their initial values
      expect(
        report.missing.filter((k) => !/^seg_responder_(dw|pw)\.[34]\.|num_batches_tracked$/.test(k)),
      ).toEqual([]);
      expect(report.unexpected).toEqual([]);
      const y = big.apply(l.templates, l.search);
      expectClose(await y.data(), await expectedNhwc(l.unit, 'out.y'), 1e-5, 'T = 3 on the larger model');

      const extra = tf.tidy(() =>
        tf.concat([l.templates, reverse5(l.templates, 2), tf.slice(l.templates, [1], [1])], 0),
      );
      expect(extra.shape[0]).toBe(7);
      const five = tf.slice(extra, [0], [5]);
      const m5 = big.memorize(five);
      const m3 = big.memorize(l.templates);
      expect(m5.numTemplates).toBe(5);
      expectClose(await tf.slice(m5.kv, [0], [3]).data(), await m3.kv.data(), 0, 'kv prefix at T = 5');
      const y5 = big.retrieve(l.search, m5);
      expect(y5.shape).toEqual([1, 1, 32, 32, 32]);
      const v5 = await y5.data();
      expect(v5.every(Number.isFinite)).toBe(true);
      expect(() => big.memorize(tf.slice(extra, [0], [6]))).toThrow(/at most 5/);
      tf.dispose([y, extra, five, y5]);
      m5.dispose();
      m3.dispose();
      big.dispose();
    },
    HEAVY,
  );

  it('T = 4 runs with the reference weight shapes (maxSteps 4, the fourth t_pos_embed)', async () => {
    const m4 = new Retriever({ dim: 8, numHeads: 2, numTemplates: 4, gridSize: 4 });
    await randomizeParams(m4, 5, 1);
    const templates = tf.randomUniform([4, 1, 4, 4, 8], -1, 3, 'float32', 1);
    const search = tf.randomUniform([1, 1, 4, 4, 8], -1, 3, 'float32', 2);
    const memory = m4.memorize(templates);
    expect(memory.kv.shape).toEqual([4, 1, 2, 4, 16]);
    const y = m4.retrieve(search, memory);
    expect(y.shape).toEqual([1, 1, 4, 4, 8]);
    expect(() => m4.memorize(tf.concat([templates, tf.slice(templates, [0], [1])], 0))).toThrow(ShapeError);
    tf.dispose([templates, search, y]);
    memory.dispose();
    m4.dispose();
  });

  it('other grids and non-square inputs: pooled to the grid, resized back (R = 384: 48×48 → 24×24)', async () => {
    const small = onWebGPU();
    const grid: [number, number] = small ? [4, 6] : [24, 24];
    const size: [number, number] = small ? [8, 12] : [48, 48];
    const m = new Retriever({ dim: 8, numHeads: 2, numTemplates: 2, gridSize: grid });
    await randomizeParams(m, 9, 1);
    const templates = tf.randomUniform([2, 1, ...size, 8], -1, 3, 'float32', 3);
    const search = tf.randomUniform([1, 1, ...size, 8], -1, 3, 'float32', 4);
    const y = m.apply(templates, search);
    expect(y.shape).toEqual([1, 1, ...size, 8]);
    // the same as pooling by hand, running at the grid, and resizing back (align_corners=False)
    const pool = (x: tf.Tensor) =>
      tf.tidy(() => {
        const [t, b, h, w, c] = x.shape;
        const p = tf.avgPool(tf.reshape(x, [t! * b!, h!, w!, c!]) as tf.Tensor4D, 2, 2, 0);
        return tf.reshape(p, [t!, b!, grid[0], grid[1], c!]);
      });
    const pt = pool(templates);
    const ps = pool(search);
    const atGrid = m.apply(pt, ps);
    expect(atGrid.shape).toEqual([1, 1, ...grid, 8]);
    const resized = tf.tidy(() =>
      tf.expandDims(tf.image.resizeBilinear(tf.squeeze(atGrid, [0]) as tf.Tensor4D, size, false, true), 0),
    );
    expectClose(await y.data(), await resized.data(), 1e-6, 'pool → grid → resize');
    tf.dispose([templates, search, y, pt, ps, atGrid, resized]);
    m.dispose();
  });
});

describe('Retriever: training', () => {
  it('passes gradients to the parameters both branches use, in training mode, without leaking', async () => {
    const m = new Retriever({ dim: 8, numHeads: 2, numTemplates: 3, gridSize: 3 });
    await randomizeParams(m, 21, 1);
    m.train();
    const templates = tf.randomUniform([2, 2, 3, 3, 8], -1, 3, 'float32', 5);
    const search = tf.randomUniform([1, 2, 3, 3, 8], -1, 3, 'float32', 6);
    const r = tf.randomNormal([1, 2, 3, 3, 8], 0, 1, 'float32', 7);
    const params = [...m.trainableParameters()];
    const run = () =>
      tf.variableGrads(
        () => tf.sum(tf.mul(m.apply(templates, search), r)) as tf.Scalar,
        params.map((p) => p[1]),
      );
    const { value, grads } = run();
    const names = params.map((p) => p[0]);
    const got = new Set(Object.keys(grads).map((id) => names[params.findIndex((p) => p[1].name === id)]));
    // with 2 templates, responder 2 and the last two template embeddings are unused
    const unused = /^seg_responder_(dw|pw)\.2\.|^t_pos_embeds\.[23]$/;
    for (const n of names) {
      if (unused.test(n!)) continue;
      expect(got.has(n), `gradient for ${n}`).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    // training mode updates the BatchNorm running statistics
    const rm = m.q_conv.norm.stateDict().get('running_mean')!;
    expect((await rm.data()).some((v) => v !== 0)).toBe(true);
    rm.dispose();
    await expectNoLeak(() => {
      const o = run();
      return [o.value, ...Object.values(o.grads)];
    }, 2);
    tf.dispose([templates, search, r]);
    m.dispose();
  });
});

describe('Retriever: errors', () => {
  it('rejects bad options with ConfigError', () => {
    expect(() => new Retriever({ dim: 30 })).toThrow(/divisible by numHeads 8/);
    expect(() => new Retriever({ dim: 0 })).toThrow(ConfigError);
    expect(() => new Retriever({ dim: 32, numTemplates: 0 })).toThrow(ConfigError);
    expect(() => new Retriever({ dim: 32, lamdaRatio: -1 })).toThrow(ConfigError);
    expect(() => new Retriever({ dim: 32, gridSize: [16] as never })).toThrow(ConfigError);
    expect(() => new Retriever(undefined as never)).toThrow(ConfigError);
  });

  it('rejects bad inputs with ShapeError naming the module and the shapes', () => {
    const m = new Retriever({ dim: 8, numHeads: 2, numTemplates: 3, gridSize: 2 });
    const t = tf.zeros([3, 1, 2, 2, 8]);
    const s = tf.zeros([1, 1, 2, 2, 8]);
    const s2 = tf.zeros([2, 1, 2, 2, 8]);
    const c6 = tf.zeros([1, 1, 2, 2, 6]);
    const t4 = tf.zeros([4, 1, 2, 2, 8]);
    expect(() => m.apply(t, s2)).toThrow(
      /search must be one timestep \[1, B, H, W, 8\], got \[2, 1, 2, 2, 8\]/,
    );
    expect(() => m.apply(t, c6)).toThrow(
      /Retriever: expected search of shape \[T, B, H, W, 8\].*\[1, 1, 2, 2, 6\]/,
    );
    expect(() => m.apply(t4, s)).toThrow(
      /got 4 templates \[4, 1, 2, 2, 8\], but this retriever holds at most 3/,
    );
    expect(() => m.memorize(tf.reshape(s, [1, 2, 2, 8]))).toThrow(ShapeError);
    expect(() => m.memorize(null as never)).toThrow(/templates to be a tf.Tensor/);
    expect(() => m.retrieve(s, {} as never)).toThrow(/needs a TemplateMemory/);
    const tb2 = tf.zeros([3, 2, 2, 2, 8]);
    expect(() => m.apply(tb2, s)).toThrow(/holds batch 2, the search has batch 1/);
    tf.dispose([t, s, s2, c6, t4, tb2]);
    m.dispose();
    expect(() => m.memorize(t)).toThrow(/disposed/);
  });
});
