#!/usr/bin/env node
// `npm run bench` for @spiketrack/neurons: runs bench/neurons.bench.mjs once per backend, each in
// its own process, and writes bench/results/neurons.json at the repository root.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '..', '..', 'bench', 'results');
const backends = (process.env.SPIKETRACK_BENCH_BACKENDS ?? 'wasm,cpu,webgpu,tensorflow').split(',');

const results = [];
for (const backend of backends) {
  console.log(`\n== ${backend}`);
  const r = spawnSync(process.execPath, [join(here, 'neurons.bench.mjs'), backend], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) {
    console.log(`   skipped: ${(r.stdout ?? '').trim().split('\n').pop() || `exit ${r.status}`}`);
    results.push({ backend, skipped: (r.stdout ?? '').trim().split('\n').pop() || `exit ${r.status}` });
    continue;
  }
  const res = JSON.parse(line.slice(7));
  results.push(res);
  console.table(
    res.cases.map((c) => ({
      case: c.name,
      T: c.T,
      'ms/call': c.msPerCall.toFixed(2),
      'Mneuron-steps/s': (c.neuronStepsPerSec / 1e6).toFixed(1),
      'x tf.add floor': c.ratioToAdd.toFixed(2),
    })),
  );
}
mkdirSync(resultsDir, { recursive: true });
const out = {
  benchmark: '@spiketrack/neurons multi-step neurons, 1M neurons, T = 1..4',
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  note: 'ratioToAdd = time of the neuron call / time of one tf.add over the same [T, 1M] tensor (the memory-bound floor)',
  results,
};
writeFileSync(join(resultsDir, 'neurons.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(`\nwrote ${join(resultsDir, 'neurons.json')}`);
